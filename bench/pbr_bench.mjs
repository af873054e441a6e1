#!/usr/bin/env node
// pbr_bench.mjs: issue 8's figures over the PBR corpus (../shared/corpus/pbr; the generated assets of
// tests/render/make_assets.mjs when it is absent) and its EXT_meshopt_compression / Draco copies.
// For each asset and level: triangles; bytes of lodestone's glb and meshopt files against gltfpack
// (-cc for LOD0, -si R -cc for level k at the same triangle ratio R); PSNR against the original's
// render (headless Chromium, same camera, 4 views) for lodestone and for gltfpack -cc / -si R; then
// medians and ratios. One run, one table; nothing is asserted (the pbr_* CTest tests hold the bars).
//
//   node bench/pbr_bench.mjs [--lodestone build/cli/lodestone] [--shared ../shared] [--work DIR]
//        [--size 512] [--views 4] [--json FILE] [--only NAME,NAME]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inputs, prepareAssets, renderAsset, barFor, ratioKey } from '../tests/render/pbr_suite.mjs';
import { openRenderer } from '../tests/render/render.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function args(argv) {
  const o = { lodestone: path.join(ROOT, 'build', 'cli', 'lodestone'), shared: path.join(ROOT, '..', 'shared'),
              work: null, size: 512, views: 4, json: null, only: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined) fail(`${k} wants a value`);
    if (k === '--lodestone') o.lodestone = path.resolve(v);
    else if (k === '--shared') o.shared = path.resolve(v);
    else if (k === '--work') o.work = path.resolve(v);
    else if (k === '--size') o.size = Number(v);
    else if (k === '--views') o.views = Number(v);
    else if (k === '--json') o.json = path.resolve(v);
    else if (k === '--only') o.only = v.split(',');
    else fail(`unknown option ${k}`);
  }
  if (!fs.existsSync(o.lodestone)) fail(`${o.lodestone}: no lodestone binary (build it, or pass --lodestone)`);
  return o;
}

function fail(msg) {
  process.stderr.write(`pbr_bench: ${msg}\n`);
  process.exit(2);
}

function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const db = (x) => (x === null || x === undefined ? '-' : Number.isFinite(x) ? x.toFixed(2) : 'inf');
const num = (x, d = 3) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

function table(lines) {
  const w = lines[0].map((_, i) => Math.max(...lines.map((l) => String(l[i]).length)));
  for (const l of lines) process.stdout.write(l.map((x, i) => String(x).padEnd(w[i])).join('  ') + '\n');
}

async function main() {
  const o = args(process.argv.slice(2));
  const temp = !o.work;
  o.work = o.work || fs.mkdtempSync(path.join(os.tmpdir(), 'lds-pbr-bench-'));
  const { list: all, haveCorpus, corpus } = await inputs(o, false);
  const list = o.only ? all.filter((a) => o.only.includes(a.name)) : all;
  if (!list.length) fail(`no asset named ${o.only} (have ${all.map((a) => a.name).join(', ')})`);
  process.stdout.write(`pbr_bench: ${list.length} assets (${haveCorpus ? corpus : 'no corpus: generated assets'}), lodestone ${o.lodestone}, work ${o.work}\n`);
  const assets = await prepareAssets(o.lodestone, o.work, list);
  const renderer = await openRenderer({ size: o.size, views: o.views });
  const rows = [];
  try {
    for (const a of assets) {
      const { rows: r } = await renderAsset(renderer, a, o.work);
      rows.push(...r.map((x) => ({ ...x, refs: a.refs, inputTriangles: a.triangles })));
      process.stdout.write(`rendered ${a.name}: ${r.length} LOD files\n`);
    }
  } finally {
    await renderer.close();
  }
  // one line per asset, input format and level: lodestone's glb and meshopt files side by side
  const lines = [['asset', 'input', 'level', 'tris', 'ratio', 'glb B', 'meshopt B', 'gltfpack B', 'meshopt/gp',
    'PSNR glb', 'PSNR meshopt', 'gltfpack', 'gp tris', 'gp PSNR', 'glb-gp dB', 'bar ok']];
  const d0 = [], dk = [], bytesRatio = [], lastRatio = [];
  const key = (r) => `${r.asset}|${r.fmt}|${r.level}`;
  const groups = new Map();
  for (const r of rows) {
    if (!groups.has(key(r))) groups.set(key(r), {});
    groups.get(key(r))[r.out] = r;
  }
  for (const g of groups.values()) {
    const r = g.glb || Object.values(g)[0];
    const m = g.meshopt;
    const gpFile = r.level === 0 ? r.refs.cc : r.refs.sicc && r.refs.sicc[ratioKey(r.triangles / r.inputTriangles)];
    const gpBytes = gpFile && fs.existsSync(gpFile) ? fs.statSync(gpFile).size : null;
    const delta = r.psnr !== null && r.peerPsnr !== null ? r.psnr - r.peerPsnr : null;
    if (delta !== null && Number.isFinite(delta)) (r.level === 0 ? d0 : dk).push(delta);
    if (m && gpBytes) bytesRatio.push(m.bytes / gpBytes);
    const bar = barFor(r);
    lines.push([r.asset, r.fmt, r.level, r.triangles, r.ratio.toFixed(3), g.glb ? g.glb.bytes : '-', m ? m.bytes : '-',
      gpBytes ?? '-', m && gpBytes ? num(m.bytes / gpBytes) : '-', db(r.psnr), m ? db(m.psnr) : '-',
      r.level === 0 ? '-cc' : `-si ${r.ratio.toFixed(3)}`, r.peerTriangles ?? '-', db(r.peerPsnr), db(delta),
      bar !== null && r.psnr !== null && r.psnr >= bar ? 'yes' : 'NO']);
  }
  for (const a of assets) {
    const run = a.runs.orig;
    if (run && run.lods.length > 1 && run.lods[0].files.glb) {
      lastRatio.push({ asset: a.name, ratio: run.lods[run.lods.length - 1].files.glb.bytes / run.lods[0].files.glb.bytes });
    }
  }
  process.stdout.write('\n');
  table(lines);
  process.stdout.write('\nmedians (glb files, every input format):\n');
  process.stdout.write(`  LOD0 PSNR - gltfpack -cc PSNR: ${db(median(d0))} dB over ${d0.length} (bar: >= -3)\n`);
  process.stdout.write(`  level k PSNR - gltfpack -si PSNR: ${db(median(dk))} dB over ${dk.length} (bar: >= -2 each)\n`);
  process.stdout.write(`  meshopt bytes / gltfpack bytes: ${num(median(bytesRatio))} over ${bytesRatio.length}\n`);
  process.stdout.write(`  last LOD bytes / LOD0 bytes (glb, uncompressed input): ${lastRatio.map((x) => `${x.asset} ${num(x.ratio)}`).join(', ')}\n`);
  process.stdout.write(`  levels passing their bar: ${lines.slice(1).filter((l) => l[15] === 'yes').length} of ${lines.length - 1}\n`);
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ rows, medians: { d0: median(d0), dk: median(dk), bytes: median(bytesRatio) }, lastRatio }, null, 1));
  if (temp) fs.rmSync(o.work, { recursive: true, force: true });
  return 0;
}

main().then((c) => process.exit(c), (e) => { process.stderr.write(`pbr_bench: ${e.stack || e}\n`); process.exit(1); });
