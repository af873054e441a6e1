#!/usr/bin/env node
// pbr_suite.mjs: issue 8's tests of `lodestone process` on PBR glTF, one subcommand per CTest test.
//
//   prepare  --lodestone BIN --work DIR [--shared DIR]   inputs, their EXT_meshopt_compression
//            (gltfpack -cc) and KHR_draco_mesh_compression (gltf-transform draco) copies, `lodestone
//            process` on each, gltfpack -cc / -si references; writes DIR/prepare.json
//   validate --work DIR      every output file has zero glTF Validator errors (and process succeeded)
//   inspect  --work DIR      every LOD file of every format keeps the input's slots, factors,
//                            extensions, skins, animations (inspect.mjs --check)
//   render   --work DIR [--only NAME,...]  LOD0 PSNR >= gltfpack -cc's - 3 dB; level k PSNR >= gltfpack -si's at the
//                            same triangle ratio - 2 dB (PSNR against the original's render)
//   texture-bytes --work DIR on texture-heavy inputs the last LOD is at most half of LOD0's bytes
//   chain-ends --lodestone BIN --work DIR   a textured model simplification cannot move: no level
//                            breaks the texture (render bar against gltfpack -si) and the manifest says
//                            why the chain ended
//   missing-image --lodestone BIN --work DIR   a .gltf whose base colour image is absent imports with
//                            a warning naming it, and keeps its factors and other slots
//
// Inputs: ../shared/corpus/pbr when present, always the generated assets (make_assets.mjs) and a few
// glTF files of Debian's assimp-testmodels. Every failed check prints both values; exit 1 on failure.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TOOLS, tool, psnrValue } from './lib.mjs';
import { inspectFile, checkLod } from './inspect.mjs';
import { makeAssets } from './make_assets.mjs';

const ASSIMP_GLTF = '/usr/share/assimp/models/glTF2';
// assimp-testmodels glTF files that are valid glTF 2.0 and exercise what issue 8 is about
const ASSIMP_PICKS = [
  ['BoxTextured', 'BoxTextured-glTF/BoxTextured.gltf', true],
  ['ClearCoat', 'ClearCoat-glTF/ClearCoatTest.gltf', true],
  ['simple_skin', 'simple_skin/simple_skin.gltf', true],
  ['TextureTransform', 'textureTransform/TextureTransformTest.gltf', false],
  ['SpecGloss', 'BoxTextured-glTF-pbrSpecularGlossiness/BoxTextured.gltf', false],
  ['2CylinderEngineDraco', 'draco/2CylinderEngine.gltf', false],
];
export const FORMATS = ['orig', 'meshopt', 'draco'];
export const OUTPUTS = ['glb', 'draco', 'meshopt'];
export const LOD0_BAR_DB = 3;
export const LEVEL_BAR_DB = 2;

function run(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { status: r.status, signal: r.signal, stdout: r.stdout || '', stderr: (r.stderr || '') + (r.error ? String(r.error) : ''), seconds };
}

function parseArgs(argv) {
  const o = { cmd: argv[0], lodestone: null, work: null, shared: null, views: 4, size: 512, only: null };
  for (let i = 1; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[++i];
    if (v === undefined) usage(`${k} wants a value`);
    if (k === '--lodestone') o.lodestone = path.resolve(v);
    else if (k === '--work') o.work = path.resolve(v);
    else if (k === '--shared') o.shared = path.resolve(v);
    else if (k === '--views') o.views = Number(v);
    else if (k === '--size') o.size = Number(v);
    else if (k === '--only') o.only = v.split(',');
    else usage(`unknown option ${k}`);
  }
  if (!o.work) usage('--work DIR is required');
  return o;
}

function usage(msg) {
  process.stderr.write(`pbr_suite.mjs: ${msg}\nusage: node tests/render/pbr_suite.mjs prepare|validate|inspect|render|texture-bytes|chain-ends|missing-image --work DIR [--lodestone BIN] [--shared DIR]\n`);
  process.exit(2);
}

/** `lodestone process INPUT -o OUT` with a private LODESTONE_HOME; the manifest's levels */
export function processModel(lodestone, input, outDir, home) {
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(home, { recursive: true });
  const r = run(lodestone, ['process', input, '-o', outDir], { env: { ...process.env, LODESTONE_HOME: home } });
  const res = { input, outDir, exit: r.status, signal: r.signal, stderr: r.stderr.slice(-4000), seconds: r.seconds, lods: [] };
  const mf = path.join(outDir, 'manifest.json');
  if (r.status === 0 && fs.existsSync(mf)) {
    res.manifest = mf;
    const m = JSON.parse(fs.readFileSync(mf, 'utf8'));
    for (const l of m.lods || []) {
      const files = {};
      for (const fmt of OUTPUTS) {
        const f = l.files && l.files[fmt];
        if (f) files[fmt] = { path: path.join(outDir, f.path), bytes: f.bytes };
      }
      res.lods.push({ level: l.level, triangles: l.triangles, error: l.error, files });
    }
  }
  return res;
}

function inputsList(o, genDir) {
  const list = [];
  const corpus = path.join(o.shared || path.join(path.dirname(path.dirname(TOOLS)), 'shared'), 'corpus', 'pbr');
  const haveCorpus = fs.existsSync(corpus);
  if (haveCorpus) {
    for (const f of fs.readdirSync(corpus).filter((x) => /\.(glb|gltf)$/i.test(x)).sort()) {
      list.push({ name: path.basename(f).replace(/\.(glb|gltf)$/i, ''), original: path.join(corpus, f), render: true, source: 'corpus' });
    }
  }
  return { list, haveCorpus, corpus, genDir };
}

/** textures are most of the bytes, and big enough that a level may shrink them (never below 64 px) */
export function isTextureHeavy(info) {
  return info.textureBytes >= 0.5 * info.bytes && info.textureBytes >= 256 * 1024;
}

/** a private copy of the input (a .gltf with its whole folder), so later steps never depend on the
 *  shared folder still being there */
function copyOriginal(file, dir) {
  if (/\.glb$/i.test(file)) {
    const to = path.join(dir, `original-${path.basename(file)}`);
    fs.copyFileSync(file, to);
    return to;
  }
  const to = path.join(dir, 'original');
  fs.cpSync(path.dirname(file), to, { recursive: true, dereference: true });
  return path.join(to, path.basename(file));
}

function makeCopies(asset, dir) {
  const copies = { orig: asset.original };
  const errors = [];
  const mo = path.join(dir, 'meshopt.glb');
  const r1 = run('gltfpack', ['-cc', '-i', asset.original, '-o', mo]);
  if (r1.status === 0 && fs.existsSync(mo)) copies.meshopt = mo;
  else {
    // gltfpack reads no Draco: an input that is already Draco-compressed gets glTF-Transform's meshopt
    const r1b = run(path.join(TOOLS, 'node_modules', '.bin', 'gltf-transform'), ['meshopt', asset.original, mo]);
    if (r1b.status === 0 && fs.existsSync(mo)) copies.meshopt = mo;
    else errors.push(`gltfpack -cc -i ${asset.original}: exit ${r1.status}: ${r1.stderr.trim().slice(0, 200)}; gltf-transform meshopt: exit ${r1b.status}: ${r1b.stderr.trim().slice(0, 200)}`);
  }
  const dr = path.join(dir, 'draco.glb');
  const r2 = run(path.join(TOOLS, 'node_modules', '.bin', 'gltf-transform'), ['draco', asset.original, dr]);
  if (r2.status === 0 && fs.existsSync(dr)) copies.draco = dr;
  else errors.push(`gltf-transform draco ${asset.original}: exit ${r2.status}: ${r2.stderr.trim().slice(0, 300)}`);
  return { copies, errors };
}

/** gltfpack -cc and -si at each LOD's triangle ratio (of the uncompressed input's run) */
function makeReferences(asset, dir) {
  const refs = { cc: null, si: {}, errors: [] };
  const cc = path.join(dir, 'gltfpack-cc.glb');
  const r = run('gltfpack', ['-cc', '-i', asset.original, '-o', cc]);
  if (r.status === 0) refs.cc = cc;
  else refs.errors.push(`gltfpack -cc: exit ${r.status}: ${r.stderr.trim().slice(0, 300)}`);
  const ratios = new Set();
  for (const fmt of FORMATS) {
    const run_ = asset.runs[fmt];
    if (!run_) continue;
    for (const l of run_.lods) if (l.level > 0 && asset.triangles > 0) ratios.add(ratioKey(l.triangles / asset.triangles));
  }
  refs.sicc = {};
  for (const k of [...ratios].sort()) {
    // the other input formats' levels land within a few triangles of these: one reference serves them
    if (nearestRatio(Object.keys(refs.si), k)) continue;
    const out = path.join(dir, `gltfpack-si-${k}.glb`);
    const s = run('gltfpack', ['-si', k, '-i', asset.original, '-o', out]);
    if (s.status === 0) refs.si[k] = out;
    else refs.errors.push(`gltfpack -si ${k}: exit ${s.status}: ${s.stderr.trim().slice(0, 300)}`);
    // the same level meshopt-compressed, for byte counts (the bench)
    const outc = path.join(dir, `gltfpack-si-${k}-cc.glb`);
    if (run('gltfpack', ['-si', k, '-cc', '-i', asset.original, '-o', outc]).status === 0) refs.sicc[k] = outc;
  }
  return refs;
}

/** the key in `keys` within 2% of ratio `k` (both ratioKey strings), or null */
export function nearestRatio(keys, k) {
  let best = null;
  for (const x of keys) {
    const d = Math.abs(Number(x) - Number(k));
    if (d <= 0.02 * Number(k) && (best === null || d < Math.abs(Number(best) - Number(k)))) best = x;
  }
  return best;
}

export function ratioKey(r) {
  return Math.min(1, Math.max(0.0001, r)).toFixed(4);
}

/** copies, `lodestone process` on each, references: the assets of prepare.json */
export async function prepareAssets(lodestone, work, list) {
  const home = path.join(work, 'home');
  const assets = [];
  for (const a0 of list) {
    const dir = path.join(work, 'assets', a0.name);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const a = { ...a0, original: copyOriginal(a0.original, dir), source_path: a0.original };
    const info = await inspectFile(a.original);
    const { copies, errors } = makeCopies(a, dir);
    const asset = { ...a, triangles: info.triangles, bytes: info.bytes, textureBytes: info.textureBytes,
                    textureHeavy: isTextureHeavy(info), inputs: copies, copyErrors: errors, runs: {} };
    for (const fmt of FORMATS) {
      if (!copies[fmt]) continue;
      asset.runs[fmt] = processModel(lodestone, copies[fmt], path.join(dir, `out-${fmt}`), home);
      const r = asset.runs[fmt];
      process.stdout.write(`${a.name} ${fmt}: exit ${r.exit} in ${r.seconds.toFixed(1)} s, levels ${r.lods.map((l) => l.triangles).join(' ')}\n`);
    }
    asset.refs = a.render ? makeReferences(asset, dir) : null;
    assets.push(asset);
  }
  return assets;
}

/** corpus/pbr when present, else nothing; plus generated and assimp-testmodels inputs when `extra` */
export async function inputs(o, extra) {
  const genDir = path.join(o.work, 'generated');
  const [sphere, skinned] = await makeAssets(genDir);
  const { list, haveCorpus, corpus } = inputsList(o, genDir);
  if (extra || !haveCorpus) {
    list.push({ name: 'gen_pbr_sphere', original: sphere, render: true, source: 'generated' });
    list.push({ name: 'gen_skinned', original: skinned, render: true, source: 'generated' });
  }
  if (extra && fs.existsSync(ASSIMP_GLTF)) {
    for (const [name, rel, render] of ASSIMP_PICKS) {
      const f = path.join(ASSIMP_GLTF, rel);
      if (fs.existsSync(f)) list.push({ name: `assimp_${name}`, original: f, render: render && !haveCorpus, source: 'assimp' });
    }
  }
  return { list, haveCorpus, corpus };
}

async function prepare(o) {
  if (!o.lodestone || !fs.existsSync(o.lodestone)) usage(`--lodestone BIN is required (got ${o.lodestone})`);
  fs.mkdirSync(o.work, { recursive: true });
  const { list, haveCorpus, corpus } = await inputs(o, true);
  const assets = await prepareAssets(o.lodestone, o.work, list);
  const out = { lodestone: o.lodestone, corpus: haveCorpus ? corpus : null, assets };
  fs.writeFileSync(path.join(o.work, 'prepare.json'), JSON.stringify(out, null, 1));
  process.stdout.write(`prepared ${assets.length} assets in ${o.work} (corpus ${haveCorpus ? corpus : 'absent: generated and assimp-testmodels inputs only'})\n`);
  return 0;
}

function loadPrepared(o) {
  const f = path.join(o.work, 'prepare.json');
  if (!fs.existsSync(f)) throw new Error(`${f}: missing (run the pbr_prepare test first)`);
  return JSON.parse(fs.readFileSync(f, 'utf8'));
}

/** a failure list that prints as it goes */
function checker() {
  const fails = [];
  let checks = 0;
  return {
    check(ok, what) {
      checks++;
      if (!ok) { fails.push(what); process.stdout.write(`FAIL ${what}\n`); }
      return ok;
    },
    done(name) {
      process.stdout.write(`${name}: ${checks - fails.length} of ${checks} checks passed\n`);
      return fails.length ? 1 : 0;
    },
  };
}

function checkRuns(c, asset) {
  for (const e of asset.copyErrors) c.check(false, `${asset.name}: making a compressed copy failed: ${e}`);
  for (const fmt of FORMATS) {
    const r = asset.runs[fmt];
    if (!r) continue;
    c.check(r.exit === 0 && r.lods.length > 0,
      `${asset.name} (${fmt} input ${path.basename(r.input)}): lodestone process exit ${r.exit}${r.signal ? ` signal ${r.signal}` : ''}, ${r.lods.length} levels; stderr: ${r.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  }
}

async function validator() {
  const v = await tool('gltf-validator');
  return v.validateBytes ? v : v.default;
}

export async function validateFile(v, file) {
  const dir = path.dirname(file);
  const report = await v.validateBytes(new Uint8Array(fs.readFileSync(file)), {
    uri: path.basename(file), maxIssues: 100,
    externalResourceFunction: (uri) => new Promise((ok, fail) => {
      const p = path.resolve(dir, decodeURIComponent(uri));
      if (!p.startsWith(dir + path.sep)) { fail(new Error(`${uri}: outside the file's folder`)); return; }
      fs.readFile(p, (err, data) => (err ? fail(err) : ok(new Uint8Array(data))));
    }),
  });
  const errors = report.issues.messages.filter((m) => m.severity === 0);
  return { errors: report.issues.numErrors, warnings: report.issues.numWarnings, codes: [...new Set(errors.map((m) => m.code))],
           messages: errors.slice(0, 3).map((m) => `${m.code} ${m.pointer || ''} ${m.message}`) };
}

async function validate(o) {
  const p = loadPrepared(o);
  const v = await validator();
  const c = checker();
  for (const a of p.assets) {
    checkRuns(c, a);
    // a third-party input that is itself invalid: its own error codes are reported, not held against
    // the outputs (the corpus inputs validate clean, so there the bar is zero errors)
    const own = await validateFile(v, a.original);
    if (own.errors) process.stdout.write(`note: ${a.name}: the input has ${own.errors} validator errors (${own.codes.join(' ')}); outputs may inherit those codes\n`);
    for (const fmt of FORMATS) {
      for (const l of (a.runs[fmt] || { lods: [] }).lods) {
        for (const out of OUTPUTS) {
          const f = l.files[out];
          if (!c.check(f && fs.existsSync(f.path), `${a.name} (${fmt} input) lod${l.level} ${out}: file listed in the manifest exists`)) continue;
          const r = await validateFile(v, f.path);
          const fresh = r.codes.filter((x) => !own.codes.includes(x));
          c.check(r.errors === 0 || fresh.length === 0, `${a.name} (${fmt} input) ${path.relative(o.work, f.path)}: glTF Validator ${r.errors} errors (want 0, or only the input's own ${JSON.stringify(own.codes)}): ${r.messages.join('; ')}`);
        }
      }
    }
  }
  return c.done('pbr_validate');
}

async function inspect(o) {
  const p = loadPrepared(o);
  const c = checker();
  for (const a of p.assets) {
    checkRuns(c, a);
    for (const fmt of FORMATS) {
      const r = a.runs[fmt];
      if (!r || r.exit !== 0) continue;
      const input = await inspectFile(r.input);
      for (const l of r.lods) {
        for (const out of OUTPUTS) {
          const f = l.files[out];
          if (!f || !fs.existsSync(f.path)) { c.check(false, `${a.name} (${fmt} input) lod${l.level} ${out}: no file`); continue; }
          let problems;
          try { problems = checkLod(input, await inspectFile(f.path)); } catch (e) { problems = [`unreadable by glTF-Transform: ${e.message}`]; }
          c.check(problems.length === 0, `${a.name} (${fmt} input) ${path.relative(o.work, f.path)} vs ${path.basename(r.input)}: ${problems.join('; ')}`);
        }
      }
    }
  }
  return c.done('pbr_inspect');
}

/** renders of one asset: its references and every LOD; returns rows for the table */
export async function renderAsset(renderer, a, work) {
  const variants = [];
  const tag = new Map();
  const add = (file, t) => { if (file && fs.existsSync(file)) { variants.push(file); tag.set(file, t); } };
  const siKeys = Object.keys((a.refs && a.refs.si) || {});
  add(a.refs && a.refs.cc, { kind: 'cc' });
  const needed = new Set();
  for (const fmt of FORMATS) {
    for (const l of (a.runs[fmt] || { lods: [] }).lods) {
      if (l.level > 0) needed.add(nearestRatio(siKeys, ratioKey(l.triangles / a.triangles)));
    }
  }
  for (const k of siKeys) if (needed.has(k)) add(a.refs.si[k], { kind: 'si', ratio: k });
  // every level of the uncompressed input's chain as .glb; its Draco and meshopt files (same geometry,
  // encoded) and the compressed inputs' chains at LOD0 and the last level (renders cost seconds each)
  for (const fmt of FORMATS) {
    const r = a.runs[fmt];
    if (!r) continue;
    const lastLevel = r.lods.length ? r.lods[r.lods.length - 1].level : 0;
    for (const l of r.lods) {
      const ends = l.level === 0 || l.level === lastLevel;
      for (const out of OUTPUTS) {
        if (!ends && (fmt !== 'orig' || out !== 'glb')) continue;
        if (fmt !== 'orig' && out !== 'glb') continue;
        if (l.files[out]) add(l.files[out].path, { kind: 'lod', fmt, out, level: l.level, triangles: l.triangles, bytes: l.files[out].bytes });
      }
    }
  }
  const res = await renderer.compare(a.original, variants, { outDir: path.join(work, 'png', a.name) });
  const by = new Map(res.files.map((f) => [f.file, f]));
  const rows = [];
  const ref = (t) => {
    const ratio = t.kind === 'si' ? nearestRatio(siKeys, t.ratio) : undefined;
    return by.get(variants.find((v) => tag.get(v).kind === t.kind && tag.get(v).ratio === ratio));
  };
  for (const v of variants) {
    const t = tag.get(v);
    if (t.kind !== 'lod') continue;
    const f = by.get(v);
    const ratio = ratioKey(t.triangles / a.triangles);
    const peer = t.level === 0 ? ref({ kind: 'cc' }) : ref({ kind: 'si', ratio });
    rows.push({ asset: a.name, fmt: t.fmt, out: t.out, level: t.level, triangles: t.triangles, ratio: Number(ratio),
      bytes: t.bytes, psnr: f.error ? null : psnrValue(f.psnr), error: f.error || null, problems: f.problems.errors,
      peer: t.level === 0 ? 'gltfpack -cc' : `gltfpack -si ${ratio}`, peerTriangles: peer ? peer.triangles : null,
      peerBytes: peer ? peer.bytes : null, peerPsnr: peer && !peer.error ? psnrValue(peer.psnr) : null,
      file: path.relative(work, v) });
  }
  return { rows, result: res };
}

export function barFor(row) {
  if (row.peerPsnr === null) return null;
  return row.peerPsnr - (row.level === 0 ? LOD0_BAR_DB : LEVEL_BAR_DB);
}

const fmtDb = (x) => (x === null || x === undefined ? '-' : Number.isFinite(x) ? x.toFixed(2) : 'inf');

export function printRows(rows) {
  const head = ['asset', 'input', 'file', 'level', 'tris', 'ratio', 'PSNR', 'peer', 'peer tris', 'peer PSNR', 'bar', 'ok'];
  const lines = [head];
  for (const r of rows) {
    const bar = barFor(r);
    lines.push([r.asset, r.fmt, r.out, String(r.level), String(r.triangles), r.ratio.toFixed(3), fmtDb(r.psnr), r.peer,
      String(r.peerTriangles ?? '-'), fmtDb(r.peerPsnr), fmtDb(bar), r.psnr !== null && bar !== null && r.psnr >= bar ? 'yes' : 'NO']);
  }
  const w = head.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const l of lines) process.stdout.write(l.map((x, i) => x.padEnd(w[i])).join('  ') + '\n');
}

async function render(o) {
  const p = loadPrepared(o);
  const c = checker();
  const { openRenderer } = await import('./render.mjs');
  const renderer = await openRenderer({ size: o.size, views: o.views });
  const all = [];
  try {
    for (const a of p.assets.filter((x) => x.render && (!o.only || o.only.includes(x.name)))) {
      checkRuns(c, a);
      for (const e of (a.refs && a.refs.errors) || []) c.check(false, `${a.name}: reference ${e}`);
      let got;
      try { got = await renderAsset(renderer, a, o.work); } catch (e) {
        c.check(false, `${a.name}: the original renders (${String(e.message || e).split('\n')[0]})`);
        continue;
      }
      const { rows, result } = got;
      c.check(result.repeat_psnr === 'inf', `${a.name}: the original rendered twice gives identical pixels (PSNR ${result.repeat_psnr}, want inf)`);
      c.check(result.problems.errors.length === 0 && result.problems.blocked.length === 0,
        `${a.name}: original renders without page errors or outside requests: ${[...result.problems.errors, ...result.problems.blocked].join('; ')}`);
      for (const r of rows) {
        const bar = barFor(r);
        const what = `${r.asset} ${r.fmt}-input ${r.out} lod${r.level} (${r.triangles} tris, ratio ${r.ratio.toFixed(3)})`;
        if (!c.check(!r.error && r.problems.length === 0, `${what}: renders without errors: ${r.error || r.problems.join('; ')}`)) continue;
        c.check(bar !== null, `${what}: ${r.peer} reference rendered`);
        if (bar !== null) {
          c.check(r.psnr >= bar, `${what}: PSNR ${fmtDb(r.psnr)} dB, want >= ${fmtDb(bar)} (${r.peer}: ${fmtDb(r.peerPsnr)} dB with ${r.peerTriangles} tris, minus ${r.level === 0 ? LOD0_BAR_DB : LEVEL_BAR_DB} dB)`);
        }
      }
      all.push(...rows);
      printRows(rows);
      fs.writeFileSync(path.join(o.work, 'render.json'), JSON.stringify(all, null, 1));
    }
  } finally {
    await renderer.close();
  }
  process.stdout.write('\nall assets:\n');
  printRows(all);
  return c.done('pbr_render');
}

function textureBytes(o) {
  const p = loadPrepared(o);
  const c = checker();
  const heavy = p.assets.filter((a) => isTextureHeavy(a));
  c.check(heavy.length > 0, 'at least one texture-heavy input (textures >= half its bytes and >= 256 KiB)');
  for (const a of heavy) {
    checkRuns(c, a);
    for (const fmt of FORMATS) {
      const r = a.runs[fmt];
      if (!r || r.lods.length === 0) continue;
      const first = r.lods[0], last = r.lods[r.lods.length - 1];
      for (const out of OUTPUTS) {
        if (!first.files[out] || !last.files[out]) continue;
        const b0 = first.files[out].bytes, bn = last.files[out].bytes;
        c.check(bn <= 0.5 * b0, `${a.name} (${fmt} input) ${out}: last LOD (lod${last.level}, ${last.triangles} tris) ${bn} bytes, want <= half of LOD0's ${b0} (${(bn / b0).toFixed(3)})`);
      }
    }
  }
  return c.done('pbr_texture_bytes');
}

/** string values anywhere in the manifest under a key that names why the chain stopped */
export function stopReasons(manifest) {
  const found = [];
  const walk = (v, key) => {
    if (v && typeof v === 'object') { for (const [k, x] of Object.entries(v)) walk(x, k); return; }
    if (typeof v === 'string' && v.length > 0 && /(^|_)(stop|stopped|reason|ended|end)($|_)/i.test(key || '')) found.push(`${key}: ${v}`);
  };
  walk(manifest, null);
  return found;
}

async function chainEnds(o) {
  if (!o.lodestone) usage('--lodestone BIN is required');
  const c = checker();
  const genDir = path.join(o.work, 'generated');
  await makeAssets(genDir);
  const seams = path.join(genDir, 'seams.glb');
  const info = await inspectFile(seams);
  const r = processModel(o.lodestone, seams, path.join(o.work, 'seams-out'), path.join(o.work, 'home'));
  if (!c.check(r.exit === 0 && r.lods.length > 0, `seams.glb: lodestone process exit ${r.exit}, ${r.lods.length} levels; stderr ${r.stderr.trim().slice(-300)}`)) return c.done('pbr_chain_ends');
  const manifest = JSON.parse(fs.readFileSync(r.manifest, 'utf8'));
  for (let i = 1; i < r.lods.length; i++) {
    c.check(r.lods[i].triangles < r.lods[i - 1].triangles, `seams.glb: lod${r.lods[i].level} has fewer triangles than lod${r.lods[i - 1].level} (${r.lods[i].triangles} vs ${r.lods[i - 1].triangles})`);
  }
  const reasons = stopReasons(manifest);
  c.check(reasons.length > 0, `seams.glb: the manifest says why the chain ended after ${r.lods.length} level(s) (levels ${r.lods.map((l) => l.triangles).join(' ')}; no string under a key naming stop/end/reason)`);
  if (reasons.length) process.stdout.write(`seams.glb: chain of ${r.lods.length} level(s); manifest: ${reasons.join('; ')}\n`);
  // every level below LOD0 renders no worse than gltfpack -si at its ratio (which keeps the texture)
  const asset = { name: 'seams', original: seams, triangles: info.triangles, runs: { orig: r } };
  fs.mkdirSync(path.join(o.work, 'seams-ref'), { recursive: true });
  asset.refs = makeReferences(asset, path.join(o.work, 'seams-ref'));
  for (const e of asset.refs.errors) c.check(false, `seams.glb: reference ${e}`);
  const { openRenderer } = await import('./render.mjs');
  const renderer = await openRenderer({ size: o.size, views: o.views });
  try {
    const { rows, result } = await renderAsset(renderer, { ...asset, runs: { orig: { ...r, lods: r.lods } } }, o.work);
    c.check(result.repeat_psnr === 'inf', `seams.glb: re-render identical (PSNR ${result.repeat_psnr})`);
    for (const row of rows.filter((x) => x.level > 0)) {
      const bar = barFor(row);
      c.check(row.psnr !== null && bar !== null && row.psnr >= bar, `seams.glb ${row.out} lod${row.level} (${row.triangles} tris): PSNR ${fmtDb(row.psnr)} dB, want >= ${fmtDb(bar)} (${row.peer}: ${fmtDb(row.peerPsnr)} dB with ${row.peerTriangles} tris)`);
    }
    printRows(rows);
  } finally {
    await renderer.close();
  }
  return c.done('pbr_chain_ends');
}

async function missingImage(o) {
  if (!o.lodestone) usage('--lodestone BIN is required');
  const c = checker();
  const genDir = path.join(o.work, 'generated');
  await makeAssets(genDir);
  const input = path.join(genDir, 'missing_image', 'missing_image.gltf');
  c.check(!fs.existsSync(path.join(genDir, 'missing_image', 'not_here.png')), 'the test input really lacks not_here.png');
  const r = processModel(o.lodestone, input, path.join(o.work, 'missing-out'), path.join(o.work, 'home'));
  if (!c.check(r.exit === 0 && r.lods.length > 0, `missing_image.gltf: lodestone process exit ${r.exit} (want 0: a missing image is a warning); stderr: ${r.stderr.trim().slice(-400)}`)) return c.done('pbr_missing_image');
  const manifestText = fs.readFileSync(r.manifest, 'utf8');
  c.check(/not_here\.png/.test(r.stderr) || /not_here\.png/.test(manifestText),
    `missing_image.gltf: a warning names not_here.png (stderr: "${r.stderr.trim().slice(-300)}"; manifest mentions it: ${/not_here/.test(manifestText)})`);
  const lod0 = await inspectFile(r.lods[0].files.glb.path);
  const m = lod0.materials.find((x) => x.name === 'plate') || lod0.materials[0];
  if (c.check(!!m, `missing_image lod0: has a material (has ${lod0.materials.length})`)) {
    const want = [0.8, 0.3, 0.2, 1];
    const got = m.factors['pbrMetallicRoughness.baseColorFactor'];
    c.check(Array.isArray(got) && got.every((x, i) => Math.abs(x - want[i]) < 1e-3), `missing_image lod0: baseColorFactor kept: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    c.check(Math.abs((m.factors['pbrMetallicRoughness.roughnessFactor'] ?? 1) - 0.7) < 1e-3, `missing_image lod0: roughnessFactor 0.7 kept, got ${m.factors['pbrMetallicRoughness.roughnessFactor']}`);
    c.check(!!m.slots.normalTexture, `missing_image lod0: the normal texture that exists is kept (slots: ${Object.keys(m.slots).join(' ') || 'none'})`);
  }
  const v = await validator();
  for (const l of r.lods) for (const out of OUTPUTS) {
    if (!l.files[out]) continue;
    const res = await validateFile(v, l.files[out].path);
    c.check(res.errors === 0, `missing_image lod${l.level} ${out}: glTF Validator ${res.errors} errors: ${res.messages.join('; ')}`);
  }
  return c.done('pbr_missing_image');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const cmds = { prepare, validate, inspect, render, 'texture-bytes': textureBytes, 'chain-ends': chainEnds, 'missing-image': missingImage };
  if (!cmds[o.cmd]) usage(`unknown subcommand ${o.cmd}`);
  return cmds[o.cmd](o);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().then((code) => process.exit(code), (e) => { process.stderr.write(`pbr_suite.mjs: ${e.stack || e}\n`); process.exit(1); });
}
