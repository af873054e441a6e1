#!/usr/bin/env node
// selftest.mjs WORKDIR: the render harness itself (CTest render_harness). WebGL2 on SwiftShader; the
// same file rendered twice gives identical pixels (PSNR inf), also after other models were loaded;
// Draco and meshopt copies of a model decode and render close to it, a different model does not; a
// missing texture is caught as an error; a request outside the local server is blocked.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TOOLS, psnrValue } from './lib.mjs';
import { makeAssets } from './make_assets.mjs';
import { openRenderer } from './render.mjs';

let fails = 0, checks = 0;
function check(ok, what) {
  checks++;
  if (!ok) { fails++; console.log(`FAIL ${what}`); } else console.log(`ok   ${what}`);
}

async function main() {
  const work = process.argv[2];
  if (!work) { process.stderr.write('usage: node tests/render/selftest.mjs WORKDIR\n'); return 2; }
  const gen = path.join(work, 'generated');
  const [sphere, skinned, , missing] = await makeAssets(gen);
  const draco = path.join(work, 'sphere.draco.glb');
  const meshopt = path.join(work, 'sphere.meshopt.glb');
  const d = spawnSync(path.join(TOOLS, 'node_modules', '.bin', 'gltf-transform'), ['draco', sphere, draco], { encoding: 'utf8' });
  check(d.status === 0, `gltf-transform draco makes a Draco copy (exit ${d.status} ${d.stderr || ''})`);
  const m = spawnSync('gltfpack', ['-cc', '-i', sphere, '-o', meshopt], { encoding: 'utf8' });
  check(m.status === 0, `gltfpack -cc makes a meshopt copy (exit ${m.status} ${m.stderr || ''})`);

  const r = await openRenderer({ size: 256, views: 2 });
  try {
    console.log(`renderer: ${JSON.stringify(r.info)}`);
    check(r.info.webgl2 === true, `WebGL2 available headless (${r.info.webgl2})`);
    check(/SwiftShader/i.test(r.info.renderer), `rendering on SwiftShader (got "${r.info.renderer}")`);
    const res = await r.compare(sphere, [sphere, draco, meshopt, skinned, sphere], { outDir: path.join(work, 'png') });
    const [same, dr, mo, other, sameLater] = res.files.map((f) => f);
    check(res.ok, `no page errors, console errors or outside requests: ${JSON.stringify(res.problems)} ${res.files.map((f) => f.error || f.problems.errors.join(',')).join(' ')}`);
    check(res.repeat_psnr === 'inf', `the original rendered again at the end is identical (PSNR ${res.repeat_psnr})`);
    check(same.psnr === 'inf', `the same file as a variant is identical (PSNR ${same.psnr})`);
    check(sameLater.psnr === 'inf', `the same file after other models is identical (PSNR ${sameLater.psnr})`);
    check(psnrValue(dr.psnr) >= 30 && Math.abs(dr.triangles - same.triangles) <= 0.02 * same.triangles, `the Draco copy renders close (PSNR ${dr.psnr} >= 30; ${dr.triangles} vs ${same.triangles} triangles: Draco drops degenerate ones)`);
    check(psnrValue(mo.psnr) >= 30 && mo.triangles === same.triangles, `the meshopt copy renders close (PSNR ${mo.psnr} >= 30; ${mo.triangles} vs ${same.triangles} triangles)`);
    check(psnrValue(other.psnr) < 25, `a different model does not (PSNR ${other.psnr} < 25)`);
    check(same.pngs.length === 2 && fs.statSync(same.pngs[0]).size > 1000, `PNGs written (${same.pngs[0]})`);

    const bad = await r.compare(sphere, [missing]);
    const errs = bad.files[0].problems.errors.join(' | ');
    check(!bad.ok && /not_here\.png/.test(errs), `a missing texture is caught as an error (${errs || 'no error recorded'})`);
    const p = await r.probe('http://192.0.2.1/outside.bin');
    check(p.failed && p.blocked.includes('http://192.0.2.1/outside.bin'), `an outside request is blocked (${JSON.stringify(p)})`);
  } finally {
    await r.close();
  }
  console.log(`render_harness: ${checks - fails} of ${checks} checks passed`);
  return fails ? 1 : 0;
}

main().then((c) => process.exit(c), (e) => { process.stderr.write(`selftest.mjs: ${e.stack || e}\n`); process.exit(1); });
