#!/usr/bin/env node
// render.mjs: renders glTF/GLB files in headless Chromium (three.js GLTFLoader + DRACOLoader +
// MeshoptDecoder, all served locally) from a camera fitted to the FIRST (original) file's bounding
// sphere, and gives each other file's PSNR against the original's render (RGB, all views together).
//
//   node tests/render/render.mjs --compare ORIG.glb A.glb B.glb ... [--json] [--size 512]
//        [--views 4] [--out DIR]
//
// The original is rendered again at the end: the run fails (exit 1) unless both renders are
// identical, or if any page error, console error, failed or outside request occurs, or a file does
// not load. --out writes DIR/<n>-<file>-v<view>.png for every render.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { startServer, startBrowser, mse, psnrOf, psnrJson, encodePng } from './lib.mjs';

/** sha256 of a .glb (self-contained); null for a .gltf, whose sidecars would count too */
function sameContent(file) {
  if (!/\.glb$/i.test(file)) return null;
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

const STEP_TIMEOUT_S = 300;

/** One browser + server, reused for many comparisons. */
export async function openRenderer({ size = 512, views = 4 } = {}) {
  const server = await startServer();
  let browser;
  try {
    browser = await startBrowser(server.origin);
    await browser.page.goto(`${server.origin}/page/index.html?size=${size}`);
    await browser.page.waitForFunction(() => window.ldsReady === true, null, { timeout: 60000 });
  } catch (e) {
    if (browser) await browser.close();
    await server.close();
    throw e;
  }
  const { page, problems } = browser;
  const info = await page.evaluate(() => window.lds.info());

  function takeProblems() {
    const out = { errors: problems.errors.splice(0), warnings: problems.warnings.splice(0),
                  blocked: problems.blocked.splice(0) };
    return out;
  }

  // a load or draw that hangs fails that file instead of the whole run (SwiftShader is slow, not stuck)
  function bounded(what, promise) {
    let timer;
    const limit = new Promise((_, fail) => { timer = setTimeout(() => fail(new Error(`${what}: no answer in ${STEP_TIMEOUT_S} s`)), STEP_TIMEOUT_S * 1000); });
    return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
  }

  async function renderFile(file, frame) {
    const url = server.add(file);
    const loaded = await bounded(`loading ${file}`, page.evaluate((u) => window.lds.load(u), url));
    const use = frame || loaded;
    const images = [];
    for (let v = 0; v < views; v++) {
      const b64 = await bounded(`drawing ${file}`, page.evaluate(([f, i, n]) => window.lds.render(f, i, n), [use, v, views]));
      images.push(new Uint8Array(Buffer.from(b64, 'base64')));
    }
    return { loaded, images };
  }

  function writePngs(outDir, index, file, images) {
    if (!outDir) return [];
    fs.mkdirSync(outDir, { recursive: true });
    return images.map((img, v) => {
      const name = path.join(outDir, `${index}-${path.basename(file).replace(/[^\w.-]/g, '_')}-v${v}.png`);
      fs.writeFileSync(name, encodePng(img, size, size, 4));
      return name;
    });
  }

  /** PSNR of each of `variants` against `orig`; never throws for a file that fails to load */
  async function compare(orig, variants, { outDir = null } = {}) {
    takeProblems();
    const base = await renderFile(orig, null);
    const frame = { center: base.loaded.center, radius: base.loaded.radius };
    const result = { original: orig, triangles: base.loaded.triangles, frame, size, views,
                     pngs: writePngs(outDir, 0, orig, base.images), problems: takeProblems(), files: [] };
    const seen = new Map();
    for (const [i, file] of variants.entries()) {
      const entry = { file, bytes: fs.statSync(file).size };
      const digest = sameContent(file);
      if (digest && seen.has(digest)) {
        // byte-identical (with its sidecars) to a file already rendered: same pixels, same PSNR
        const prev = seen.get(digest);
        Object.assign(entry, { triangles: prev.triangles, mse: prev.mse, psnr: prev.psnr, views: prev.views,
                               pngs: prev.pngs, same_as: prev.file, problems: prev.problems });
        result.files.push(entry);
        continue;
      }
      try {
        const r = await renderFile(file, frame);
        const perView = r.images.map((img, v) => mse(img, base.images[v]));
        const total = perView.reduce((a, b) => a + b, 0) / perView.length;
        Object.assign(entry, { triangles: r.loaded.triangles, mse: Math.round(total * 1000) / 1000,
          psnr: psnrJson(psnrOf(total)), views: perView.map((m) => psnrJson(psnrOf(m))),
          pngs: writePngs(outDir, i + 1, file, r.images) });
      } catch (e) {
        entry.error = String(e.message || e).split('\n')[0];
      }
      entry.problems = takeProblems();
      result.files.push(entry);
      if (digest && !entry.error) seen.set(digest, entry);
    }
    const again = await renderFile(orig, frame);
    const repeat = again.images.map((img, v) => mse(img, base.images[v])).reduce((a, b) => a + b, 0);
    result.repeat_psnr = psnrJson(psnrOf(repeat));
    const late = takeProblems();
    result.problems.errors.push(...late.errors);
    result.problems.blocked.push(...late.blocked);
    result.ok = repeat === 0 && result.problems.errors.length === 0 && result.problems.blocked.length === 0 &&
      result.files.every((f) => !f.error && f.problems.errors.length === 0 && f.problems.blocked.length === 0);
    return result;
  }

  /** fetch URL from the page; true when the request was stopped (the harness allows no network) */
  async function probe(url) {
    takeProblems();
    const failed = await page.evaluate((u) => fetch(u).then(() => false, () => true), url);
    const p = takeProblems();
    return { failed, blocked: p.blocked };
  }

  return {
    info, compare, probe,
    async close() { await browser.close(); await server.close(); },
  };
}

function usage(msg) {
  if (msg) process.stderr.write(`render.mjs: ${msg}\n`);
  process.stderr.write('usage: node tests/render/render.mjs --compare ORIG.glb A.glb ... [--json] [--size N] [--views N] [--out DIR]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const o = { files: [], json: false, size: 512, views: 4, out: null, compare: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (name) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1 || v > 4096) usage(`${name} wants a whole number in 1..4096, got "${argv[i]}"`);
      return v;
    };
    if (a === '--compare') o.compare = true;
    else if (a === '--json') o.json = true;
    else if (a === '--size') o.size = num('--size');
    else if (a === '--views') o.views = num('--views');
    else if (a === '--out') { o.out = argv[++i]; if (!o.out) usage('--out wants a folder'); }
    else if (a === '--help' || a === '-h') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else o.files.push(a);
  }
  if (!o.compare) usage('--compare is the one mode');
  if (o.files.length < 1) usage('--compare wants the original and the files to compare with it');
  for (const f of o.files) if (!fs.existsSync(f)) usage(`${f}: no such file`);
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const r = await openRenderer({ size: o.size, views: o.views });
  let res;
  try {
    res = await r.compare(o.files[0], o.files.slice(1), { outDir: o.out });
    res.renderer = r.info;
  } finally {
    await r.close();
  }
  if (o.json) {
    process.stdout.write(JSON.stringify(res, null, 1) + '\n');
  } else {
    console.log(`${res.original}: ${res.triangles} triangles (re-render PSNR ${res.repeat_psnr})`);
    for (const f of res.files) {
      console.log(f.error ? `${f.file}: ERROR ${f.error}` :
        `${f.file}: ${f.triangles} triangles, ${f.bytes} bytes, PSNR ${f.psnr} dB (views ${f.views.join(' ')})`);
      for (const e of [...f.problems.errors, ...f.problems.blocked.map((u) => `outside request blocked: ${u}`)]) console.log(`  error: ${e}`);
    }
    for (const e of [...res.problems.errors, ...res.problems.blocked.map((u) => `outside request blocked: ${u}`)]) console.log(`error: ${e}`);
  }
  process.exit(res.ok ? 0 : 1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().catch((e) => { process.stderr.write(`render.mjs: ${e.stack || e}\n`); process.exit(1); });
}
