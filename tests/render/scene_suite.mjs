#!/usr/bin/env node
// scene_suite.mjs: issue 8 item 3, the kept glTF scene. `lodestone process` on skinned, animated,
// lit and variant-mapped glTF inputs, then every LOD file of every encoding (glb, draco, meshopt),
// read back with glTF-Transform, must have:
//   - the input's skins (same joint names), animations (same channels, each with the input's
//     keyframe count and interpolation), node hierarchy (every node's parent by name), lights and
//     variants (inspect.mjs's checkLod covers materials, extensions and attribute sets as well);
//   - GPU instancing on the same nodes with the same instance counts;
//   - JOINTS_0 and WEIGHTS_0 on every skinned primitive, weights summing to 1 (1e-3);
//   - the scene's bounds (node transforms applied) within 2% of the diagonal of the input's;
//   - no glTF Validator error.
// Inputs: skinned.glb from make_assets.mjs (a 3-joint cylinder with two animations), its
// scene_extras.glb (GPU instancing under a transformed parent, a spot light, two variants), Debian's
// assimp-testmodels simple_skin.gltf when installed, and ../shared/corpus/pbr/SheenChair.glb
// (a light and KHR_materials_variants) when --shared holds it; absent optional inputs are skipped.
//
// With --render 1, LOD0 of every encoding is also rendered in headless Chromium (three.js, the
// scene's rest pose: frame 0 of the animations' bind state) against the input, same camera, and
// must reach RENDER_BAR_DB.
//
//   node tests/render/scene_suite.mjs --lodestone BIN --work DIR [--shared DIR] [--render 1]
import fs from 'node:fs';
import path from 'node:path';
import { gltfIO } from './gltf.mjs';
import { inspectFile, checkLod } from './inspect.mjs';
import { makeAssets, makeSceneExtras } from './make_assets.mjs';
import { processModel, validateFile } from './pbr_suite.mjs';
import { tool, psnrValue } from './lib.mjs';
import { openRenderer } from './render.mjs';

const RENDER_BAR_DB = 40;
const SIMPLE_SKIN = '/usr/share/assimp/models/glTF2/simple_skin/simple_skin.gltf';

function parseArgs(argv) {
  const o = { lodestone: null, work: null, shared: null, render: null };
  for (let i = 0; i < argv.length; i += 2) {
    const [k, v] = [argv[i], argv[i + 1]];
    if (v === undefined || !['--lodestone', '--work', '--shared', '--render'].includes(k)) {
      process.stderr.write('usage: node tests/render/scene_suite.mjs --lodestone BIN --work DIR [--shared DIR] [--render 1]\n');
      process.exit(2);
    }
    o[k.slice(2)] = k === '--render' ? v === '1' : path.resolve(v);
  }
  return o;
}

/** what the scene checks compare: parents, skins, animation channels, skinned primitives */
async function sceneOf(file) {
  const { io, core } = await gltfIO();
  const root = (await io.read(file)).getRoot();
  const { min, max } = core.getBounds(root.getDefaultScene() || root.listScenes()[0]);
  const name = (n) => (n ? n.getName() || '?' : null);
  const parents = {};
  for (const n of root.listNodes()) for (const c of n.listChildren()) parents[name(c)] = name(n);
  const channels = {};
  for (const a of root.listAnimations()) {
    for (const c of a.listChannels()) {
      const s = c.getSampler();
      channels[`${a.getName()}:${name(c.getTargetNode())}/${c.getTargetPath()}`] =
        `${s.getInput().getCount()} keys ${s.getOutput().getCount()} values ${s.getInterpolation()}`;
    }
  }
  const instanced = root.listNodes().filter((n) => n.getExtension('EXT_mesh_gpu_instancing')).map((n) => {
    const t = n.getExtension('EXT_mesh_gpu_instancing').getAttribute('TRANSLATION');
    return `${name(n)}: ${t ? t.getCount() : 0} instances`;
  });
  const skins = root.listSkins().map((s) => s.listJoints().map(name).join(','));
  const skinned = [];
  for (const n of root.listNodes()) {
    if (!n.getSkin() || !n.getMesh()) continue;
    for (const p of n.getMesh().listPrimitives()) {
      const j = p.getAttribute('JOINTS_0'), w = p.getAttribute('WEIGHTS_0');
      let worst = 0;
      if (w) {
        const e = [];
        for (let i = 0; i < w.getCount(); i++) worst = Math.max(worst, Math.abs(w.getElement(i, e).reduce((x, y) => x + y, 0) - 1));
      }
      skinned.push({ node: name(n), joints: !!j, weights: !!w, worst });
    }
  }
  return { parents, channels, skins, skinned, instanced, min, max };
}

function compareScenes(inp, lod) {
  const problems = [];
  // the scene's bounds (node transforms applied): each node draws its own local geometry again
  const diag = Math.hypot(...inp.max.map((x, i) => x - inp.min[i]));
  const off = Math.max(...[...inp.min, ...inp.max].map((x, i) => Math.abs(x - [...lod.min, ...lod.max][i])));
  if (!(off <= 0.02 * diag)) problems.push(`scene bounds: input ${inp.min}..${inp.max}, lod ${lod.min}..${lod.max}`);
  for (const [child, parent] of Object.entries(inp.parents)) {
    if (lod.parents[child] !== parent) problems.push(`node "${child}": parent input "${parent}", lod "${lod.parents[child]}"`);
  }
  for (const [ch, keys] of Object.entries(inp.channels)) {
    if (lod.channels[ch] !== keys) problems.push(`channel ${ch}: input ${keys}, lod ${lod.channels[ch]}`);
  }
  if (lod.instanced.join(' | ') !== inp.instanced.join(' | ')) problems.push(`instancing: input ${inp.instanced.join(' | ')}, lod ${lod.instanced.join(' | ')}`);
  if (lod.skins.join(' | ') !== inp.skins.join(' | ')) problems.push(`skin joints: input ${inp.skins.join(' | ')}, lod ${lod.skins.join(' | ')}`);
  if (lod.skinned.length < inp.skinned.length) problems.push(`skinned primitives: input ${inp.skinned.length}, lod ${lod.skinned.length}`);
  for (const p of lod.skinned) {
    if (!p.joints || !p.weights) problems.push(`node "${p.node}": skinned primitive without JOINTS_0/WEIGHTS_0`);
    else if (p.worst > 1e-3) problems.push(`node "${p.node}": weights sum off 1 by ${p.worst}`);
  }
  return problems;
}

/** LOD0 of every encoding rendered against the input */
async function renderCheck(check, input, base, lods) {
  const lod0 = lods.find((l) => l.level === 0);
  const files = lod0 ? ['glb', 'draco', 'meshopt'].map((f) => lod0.files[f] && lod0.files[f].path).filter(Boolean) : [];
  const r = await openRenderer({ size: 256, views: 2 });
  try {
    const res = await r.compare(input, files, {});
    for (const f of res.files) {
      const db = psnrValue(f.psnr);
      process.stdout.write(`${base} ${path.basename(f.file)}: PSNR ${f.psnr} dB\n`);
      check(!f.error && db >= RENDER_BAR_DB, `${base} ${path.basename(f.file)}: render PSNR ${f.psnr} dB against the input (want >= ${RENDER_BAR_DB})${f.error ? `: ${f.error}` : ''}`);
    }
  } finally {
    await r.close();
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!o.lodestone || !o.work) { process.stderr.write('scene_suite.mjs: --lodestone and --work are required\n'); return 2; }
  const gen = path.join(o.work, 'assets');
  fs.mkdirSync(gen, { recursive: true });
  const made = await makeAssets(gen);
  const inputs = [made.find((f) => path.basename(f) === 'skinned.glb'), await makeSceneExtras(gen)];
  if (fs.existsSync(SIMPLE_SKIN)) inputs.push(SIMPLE_SKIN);
  else process.stdout.write(`note: ${SIMPLE_SKIN} absent (assimp-testmodels); skipped\n`);
  const chair = o.shared && path.join(o.shared, 'corpus', 'pbr', 'SheenChair.glb');
  if (chair && fs.existsSync(chair)) inputs.push(chair);
  else process.stdout.write('note: ../shared absent; the SheenChair light and variants check is skipped\n');

  const v = await tool('gltf-validator').then((m) => (m.validateBytes ? m : m.default));
  let checks = 0, fails = 0;
  const check = (ok, what) => { checks++; if (!ok) { fails++; process.stdout.write(`FAIL ${what}\n`); } };
  for (const input of inputs) {
    const base = path.basename(input).replace(/\.(glb|gltf)$/i, '');
    const r = processModel(o.lodestone, input, path.join(o.work, 'out', base), path.join(o.work, 'home'));
    check(r.exit === 0 && r.lods.length > 0, `${base}: lodestone process exit ${r.exit}, ${r.lods.length} levels: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    const inDesc = await inspectFile(input), inScene = await sceneOf(input);
    if (o.render) await renderCheck(check, input, base, r.lods);
    check(inScene.skins.length > 0 || inDesc.lights > 0 || inDesc.variants > 0, `${base}: the input has a skin, light or variants to keep`);
    for (const l of r.lods) {
      for (const fmt of ['glb', 'draco', 'meshopt']) {
        const f = l.files[fmt];
        const label = `${base} lod${l.level} ${fmt}`;
        if (!f || !fs.existsSync(f.path)) { check(false, `${label}: no file`); continue; }
        const val = await validateFile(v, f.path);
        check(val.errors === 0, `${label}: glTF Validator ${val.errors} errors: ${val.messages.join('; ')}`);
        let problems;
        try {
          problems = [...checkLod(inDesc, await inspectFile(f.path)), ...compareScenes(inScene, await sceneOf(f.path))];
        } catch (e) {
          problems = [`unreadable by glTF-Transform: ${e.message}`];
        }
        check(problems.length === 0, `${label}: ${problems.join('; ')}`);
      }
    }
  }
  process.stdout.write(`scene_suite: ${checks - fails} of ${checks} checks passed\n`);
  return fails ? 1 : 0;
}

main().then((c) => process.exit(c), (e) => { process.stderr.write(`scene_suite.mjs: ${e.stack || e}\n`); process.exit(1); });
