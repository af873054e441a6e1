#!/usr/bin/env node
// make_assets.mjs OUTDIR: procedural test assets written with glTF-Transform, so the PBR tests run
// whole without ../shared/corpus (same bytes on every run: fixed seeds, no clock):
//   pbr_sphere.glb   all five texture slots (TEXCOORD_1 for occlusion, KHR_texture_transform on base
//                    colour), every factor kind, emissive strength, clearcoat; a MASK double-sided floor;
//                    a BLEND box with sheen
//   skinned.glb      a 3-joint skinned cylinder with vertex colours, two rotation tracks and a
//                    translation track on a second node
//   seams.glb        a textured height field whose every quad is its own UV island (all vertices are
//                    UV seams meeting four ways): simplification cannot move it without breaking the
//                    texture, so a faithful chain must end early
//   missing_image/missing_image.gltf   .gltf + .bin + one PNG; the base colour image it names is absent
import fs from 'node:fs';
import path from 'node:path';
import { tool, encodePng } from './lib.mjs';

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function image(w, h, fn) {
  const px = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set(fn(x / w, y / h, x, y).map((v) => Math.max(0, Math.min(255, Math.round(v)))), (y * w + x) * 4);
  return encodePng(px, w, h, 4);
}

const TEX = {
  // with fine noise (a scan's photo texture): PNG cannot shrink it, so textures dominate the bytes
  base: (size, noise) => {
    const r = rng(11);
    return image(size, size, (u, v) => {
      const c = (Math.floor(u * 8) + Math.floor(v * 8)) % 2;
      const n = noise * (r() - 0.5);
      return [(c ? 220 : 60 + 150 * u) + n, 80 + 120 * v + n, (c ? 40 : 200) + n, 255];
    });
  },
  mr: () => image(256, 256, (u, v) => [0, 40 + 200 * ((Math.floor(u * 6) % 2) ? v : 1 - v), Math.floor(v * 4) % 2 ? 255 : 20, 255]),
  normal: () => image(256, 256, (u, v) => {
    const nx = 0.5 * Math.sin(u * Math.PI * 16), ny = 0.5 * Math.cos(v * Math.PI * 12);
    const nz = Math.sqrt(Math.max(0, 1 - nx * nx - ny * ny));
    return [127.5 + 127.5 * nx, 127.5 + 127.5 * ny, 127.5 + 127.5 * nz, 255];
  }),
  occlusion: () => image(128, 128, (u, v) => { const d = Math.hypot(u - 0.5, v - 0.5); return [255 - 300 * d * d, 0, 0, 255]; }),
  emissive: () => image(128, 128, (u, v) => (Math.hypot((u * 8) % 1 - 0.5, (v * 8) % 1 - 0.5) < 0.15 ? [255, 200, 80, 255] : [0, 0, 0, 255])),
  holes: () => image(128, 128, (u, v) => [200, 200, 190, (Math.floor(u * 10) + Math.floor(v * 10)) % 2 ? 255 : 40]),
};

function sphere(rings, segs) {
  const pos = [], nor = [], uv0 = [], uv1 = [], idx = [];
  for (let r = 0; r <= rings; r++) {
    const th = (Math.PI * r) / rings;
    for (let s = 0; s <= segs; s++) {
      const ph = (2 * Math.PI * s) / segs;
      const n = [Math.sin(th) * Math.cos(ph), Math.cos(th), Math.sin(th) * Math.sin(ph)];
      pos.push(...n); nor.push(...n); uv0.push(s / segs, r / rings); uv1.push(0.1 + 0.8 * (s / segs), 0.1 + 0.8 * (r / rings));
    }
  }
  for (let r = 0; r < rings; r++) for (let s = 0; s < segs; s++) {
    const a = r * (segs + 1) + s, b = a + segs + 1;
    idx.push(a, a + 1, b, a + 1, b + 1, b);
  }
  return { pos, nor, uv0, uv1, idx };
}

function grid(n, size, y, fn) {
  const pos = [], nor = [], uv0 = [], idx = [];
  for (let j = 0; j <= n; j++) for (let i = 0; i <= n; i++) {
    pos.push((i / n - 0.5) * size, y, (j / n - 0.5) * size); nor.push(0, 1, 0); uv0.push(i / n, j / n);
  }
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
    const a = j * (n + 1) + i, b = a + n + 1;
    idx.push(a, b, a + 1, a + 1, b, b + 1);
  }
  return fn ? fn({ pos, nor, uv0, idx }) : { pos, nor, uv0, idx };
}

function box(cx, cy, cz, h) {
  const pos = [], nor = [], uv0 = [], idx = [];
  const faces = [[0, 1], [0, -1], [1, 1], [1, -1], [2, 1], [2, -1]];
  for (const [ax, sg] of faces) {
    const u = (ax + 1) % 3, v = (ax + 2) % 3;
    const base = pos.length / 3;
    for (const [a, b] of [[-1, -1], [1, -1], [1, 1], [-1, 1]]) {
      const p = [0, 0, 0]; p[ax] = sg * h; p[u] = a * h; p[v] = b * h;
      const n = [0, 0, 0]; n[ax] = sg;
      pos.push(cx + p[0], cy + p[1], cz + p[2]); nor.push(...n); uv0.push((a + 1) / 2, (b + 1) / 2);
    }
    idx.push(...(sg > 0 ? [base, base + 1, base + 2, base, base + 2, base + 3] : [base, base + 2, base + 1, base, base + 3, base + 2]));
  }
  return { pos, nor, uv0, idx };
}

async function setup() {
  const core = await tool('@gltf-transform/core');
  const ext = await tool('@gltf-transform/extensions');
  return { core, ext };
}

function primitive(core, doc, buffer, g, extra = {}) {
  const acc = (type, arr, Ctor, norm) => doc.createAccessor().setType(type).setArray(new Ctor(arr)).setBuffer(buffer).setNormalized(!!norm);
  const prim = doc.createPrimitive()
    .setAttribute('POSITION', acc('VEC3', g.pos, Float32Array))
    .setAttribute('NORMAL', acc('VEC3', g.nor, Float32Array))
    .setIndices(acc('SCALAR', g.idx, g.pos.length / 3 > 65535 ? Uint32Array : Uint16Array));
  if (g.uv0) prim.setAttribute('TEXCOORD_0', acc('VEC2', g.uv0, Float32Array));
  if (g.uv1) prim.setAttribute('TEXCOORD_1', acc('VEC2', g.uv1, Float32Array));
  for (const [k, [type, arr, Ctor, norm]] of Object.entries(extra)) prim.setAttribute(k, acc(type, arr, Ctor, norm));
  return prim;
}

function texture(doc, name, bytes) {
  return doc.createTexture(name).setImage(bytes).setMimeType('image/png').setURI(`${name}.png`);
}

async function pbrSphere(io, core, ext, out) {
  const doc = new core.Document();
  const buffer = doc.createBuffer();
  const tt = doc.createExtension(ext.KHRTextureTransform).setRequired(false);
  const es = doc.createExtension(ext.KHRMaterialsEmissiveStrength);
  const cc = doc.createExtension(ext.KHRMaterialsClearcoat);
  const sh = doc.createExtension(ext.KHRMaterialsSheen);
  const mat = doc.createMaterial('sphere_all_slots')
    .setBaseColorFactor([0.9, 0.95, 1.0, 1]).setMetallicFactor(0.8).setRoughnessFactor(0.6)
    .setEmissiveFactor([1, 0.6, 0.2])
    .setBaseColorTexture(texture(doc, 'base', TEX.base(1024, 40)))
    .setMetallicRoughnessTexture(texture(doc, 'mr', TEX.mr()))
    .setNormalTexture(texture(doc, 'normal', TEX.normal())).setNormalScale(0.8)
    .setOcclusionTexture(texture(doc, 'occlusion', TEX.occlusion())).setOcclusionStrength(0.9)
    .setEmissiveTexture(texture(doc, 'emissive', TEX.emissive()));
  mat.getOcclusionTextureInfo().setTexCoord(1);
  mat.getBaseColorTextureInfo().setExtension('KHR_texture_transform', tt.createTransform().setScale([2, 1]).setOffset([0.1, 0]));
  mat.setExtension('KHR_materials_emissive_strength', es.createEmissiveStrength().setEmissiveStrength(2));
  mat.setExtension('KHR_materials_clearcoat', cc.createClearcoat().setClearcoatFactor(0.5).setClearcoatRoughnessFactor(0.2));
  const floor = doc.createMaterial('floor_mask').setAlphaMode('MASK').setAlphaCutoff(0.4).setDoubleSided(true)
    .setRoughnessFactor(0.9).setMetallicFactor(0).setBaseColorTexture(texture(doc, 'holes', TEX.holes()));
  const glass = doc.createMaterial('box_blend').setAlphaMode('BLEND').setBaseColorFactor([0.2, 0.4, 1, 0.6])
    .setMetallicFactor(0).setRoughnessFactor(0.3);
  glass.setExtension('KHR_materials_sheen', sh.createSheen().setSheenColorFactor([1, 0.5, 0.2]).setSheenRoughnessFactor(0.5));
  const mesh = doc.createMesh('assembly')
    .addPrimitive(primitive(core, doc, buffer, sphere(32, 64)).setMaterial(mat))
    .addPrimitive(primitive(core, doc, buffer, grid(12, 3.2, -1.05)).setMaterial(floor))
    .addPrimitive(primitive(core, doc, buffer, box(1.25, -0.7, 0.7, 0.3)).setMaterial(glass));
  doc.createScene('scene').addChild(doc.createNode('assembly').setMesh(mesh));
  await io.write(path.join(out, 'pbr_sphere.glb'), doc);
}

async function skinned(io, core, ext, out) {
  const doc = new core.Document();
  const buffer = doc.createBuffer();
  const rings = 16, segs = 24, height = 2, rad = 0.3;
  const pos = [], nor = [], uv0 = [], idx = [], joints = [], weights = [], colors = [];
  for (let r = 0; r <= rings; r++) for (let s = 0; s <= segs; s++) {
    const ph = (2 * Math.PI * s) / segs, y = (height * r) / rings;
    pos.push(rad * Math.cos(ph), y, rad * Math.sin(ph)); nor.push(Math.cos(ph), 0, Math.sin(ph)); uv0.push(s / segs, r / rings);
    const t = y / 0.7, j = Math.min(1, Math.floor(t)), f = Math.min(1, Math.max(0, t - j));
    joints.push(j, f > 0 ? j + 1 : 0, 0, 0); weights.push(1 - f, f, 0, 0);
    colors.push(0.5 + 0.5 * Math.cos(ph), r / rings, 1 - r / rings, 1);
  }
  for (let r = 0; r < rings; r++) for (let s = 0; s < segs; s++) {
    const a = r * (segs + 1) + s, b = a + segs + 1;
    idx.push(a, b, a + 1, a + 1, b, b + 1);
  }
  const mat = doc.createMaterial('skin_mat').setRoughnessFactor(0.5).setMetallicFactor(0.1)
    .setBaseColorTexture(texture(doc, 'skin_base', TEX.base(256, 0)));
  const prim = primitive(core, doc, buffer, { pos, nor, uv0, idx }, {
    JOINTS_0: ['VEC4', joints, Uint16Array], WEIGHTS_0: ['VEC4', weights, Float32Array],
    COLOR_0: ['VEC4', colors, Float32Array] }).setMaterial(mat);
  const mesh = doc.createMesh('arm').addPrimitive(prim);
  const j0 = doc.createNode('joint_root');
  const j1 = doc.createNode('joint_mid').setTranslation([0, 0.7, 0]);
  const j2 = doc.createNode('joint_top').setTranslation([0, 0.7, 0]);
  j0.addChild(j1); j1.addChild(j2);
  const ibm = [];
  for (const y of [0, 0.7, 1.4]) ibm.push(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, -y, 0, 1);
  const skin = doc.createSkin('arm_skin').setSkeleton(j0).addJoint(j0).addJoint(j1).addJoint(j2)
    .setInverseBindMatrices(doc.createAccessor().setType('MAT4').setArray(new Float32Array(ibm)).setBuffer(buffer));
  const armNode = doc.createNode('arm').setMesh(mesh).setSkin(skin);
  const cubeMat = doc.createMaterial('cube_mat').setBaseColorFactor([0.9, 0.2, 0.2, 1]).setRoughnessFactor(0.4);
  const cube = doc.createNode('mover').setTranslation([0.9, 0.3, 0])
    .setMesh(doc.createMesh('cube').addPrimitive(primitive(core, doc, buffer, box(0, 0, 0, 0.2)).setMaterial(cubeMat)));
  const times = doc.createAccessor().setType('SCALAR').setArray(new Float32Array([0, 1, 2])).setBuffer(buffer);
  const q = (deg) => [0, 0, Math.sin((deg * Math.PI) / 360), Math.cos((deg * Math.PI) / 360)];
  const rot = (a) => doc.createAccessor().setType('VEC4').setArray(new Float32Array([...q(0), ...q(a), ...q(0)])).setBuffer(buffer);
  const s1 = doc.createAnimationSampler().setInput(times).setOutput(rot(30)).setInterpolation('LINEAR');
  const s2 = doc.createAnimationSampler().setInput(times).setOutput(rot(-40)).setInterpolation('LINEAR');
  const s3 = doc.createAnimationSampler().setInput(times).setInterpolation('LINEAR')
    .setOutput(doc.createAccessor().setType('VEC3').setArray(new Float32Array([0.9, 0.3, 0, 0.9, 1.2, 0, 0.9, 0.3, 0])).setBuffer(buffer));
  doc.createAnimation('wave').addSampler(s1).addSampler(s2)
    .addChannel(doc.createAnimationChannel().setTargetNode(j1).setTargetPath('rotation').setSampler(s1))
    .addChannel(doc.createAnimationChannel().setTargetNode(j2).setTargetPath('rotation').setSampler(s2));
  doc.createAnimation('bob').addSampler(s3)
    .addChannel(doc.createAnimationChannel().setTargetNode(cube).setTargetPath('translation').setSampler(s3));
  doc.createScene('scene').addChild(j0).addChild(armNode).addChild(cube);
  await io.write(path.join(out, 'skinned.glb'), doc);
}

async function seams(io, core, ext, out) {
  const doc = new core.Document();
  const buffer = doc.createBuffer();
  const n = 40, rand = rng(7);
  const cells = [];
  for (let i = 0; i < n * n; i++) cells.push([40 + 200 * rand(), 40 + 200 * rand(), 40 + 200 * rand()]);
  const tex = image(512, 512, (u, v) => { const c = cells[Math.min(n - 1, Math.floor(v * n)) * n + Math.min(n - 1, Math.floor(u * n))]; return [...c, 255]; });
  const h = (x, z) => 0.15 * Math.sin(3 * x) * Math.cos(2 * z);
  const nrm = (x, z) => { const dx = 0.45 * Math.cos(3 * x) * Math.cos(2 * z), dz = -0.3 * Math.sin(3 * x) * Math.sin(2 * z); const l = Math.hypot(dx, 1, dz); return [-dx / l, 1 / l, -dz / l]; };
  const pos = [], nor = [], uv0 = [], idx = [];
  const cell = 1 / n, pad = 0.1 * cell;
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) {
    const base = pos.length / 3;
    // the quad's UV island: its own (shuffled) cell of the atlas, inset so no texel bleeds
    const k = (i * 17 + j * 31) % (n * n), cu = (k % n) * cell, cv = Math.floor(k / n) * cell;
    for (const [di, dj] of [[0, 0], [1, 0], [1, 1], [0, 1]]) {
      const x = ((i + di) / n - 0.5) * 2, z = ((j + dj) / n - 0.5) * 2;
      pos.push(x, h(x, z), z); nor.push(...nrm(x, z)); uv0.push(cu + pad + di * (cell - 2 * pad), cv + pad + dj * (cell - 2 * pad));
    }
    idx.push(base, base + 3, base + 1, base + 1, base + 3, base + 2);
  }
  const mat = doc.createMaterial('atlas').setMetallicFactor(0).setRoughnessFactor(0.8)
    .setBaseColorTexture(doc.createTexture('atlas').setImage(tex).setMimeType('image/png'));
  const mesh = doc.createMesh('field').addPrimitive(primitive(core, doc, buffer, { pos, nor, uv0, idx }).setMaterial(mat));
  doc.createScene('scene').addChild(doc.createNode('field').setMesh(mesh));
  await io.write(path.join(out, 'seams.glb'), doc);
}

async function missingImage(io, core, ext, out) {
  const dir = path.join(out, 'missing_image');
  fs.mkdirSync(dir, { recursive: true });
  const doc = new core.Document();
  const buffer = doc.createBuffer('missing_image');
  const mat = doc.createMaterial('plate').setBaseColorFactor([0.8, 0.3, 0.2, 1]).setMetallicFactor(0.1).setRoughnessFactor(0.7)
    .setBaseColorTexture(texture(doc, 'not_here', TEX.base(64, 0)))
    .setNormalTexture(texture(doc, 'bumps', TEX.normal()));
  const mesh = doc.createMesh('plate').addPrimitive(primitive(core, doc, buffer, grid(16, 2, 0)).setMaterial(mat));
  doc.createScene('scene').addChild(doc.createNode('plate').setMesh(mesh));
  await io.write(path.join(dir, 'missing_image.gltf'), doc);
  fs.unlinkSync(path.join(dir, 'not_here.png'));
}

// scene_extras.glb: a static scene kept for its extensions: a sphere drawn three times by one node
// (EXT_mesh_gpu_instancing) under a rotated, scaled parent, a spot light on its own node, and two
// material variants mapped on the sphere (KHR_materials_variants).
async function sceneExtras(io, core, ext, out) {
  const doc = new core.Document();
  const buffer = doc.createBuffer();
  const red = doc.createMaterial('red').setBaseColorFactor([0.9, 0.1, 0.1, 1]);
  const blue = doc.createMaterial('blue').setBaseColorFactor([0.1, 0.2, 0.9, 1]);
  const prim = primitive(core, doc, buffer, sphere(24, 32)).setMaterial(red);
  const variants = doc.createExtension(ext.KHRMaterialsVariants);
  const mapping = (name, mat) => variants.createMapping().addVariant(variants.createVariant(name)).setMaterial(mat);
  prim.setExtension('KHR_materials_variants', variants.createMappingList()
    .addMapping(mapping('warm', red)).addMapping(mapping('cold', blue)));
  const instancing = doc.createExtension(ext.EXTMeshGPUInstancing).setRequired(true);
  const offsets = doc.createAccessor().setType('VEC3').setBuffer(buffer)
    .setArray(new Float32Array([-3, 0, 0, 0, 0, 0, 3, 0, 0]));
  const balls = doc.createNode('balls').setMesh(doc.createMesh('ball').addPrimitive(prim))
    .setExtension('EXT_mesh_gpu_instancing', instancing.createInstancedMesh().setAttribute('TRANSLATION', offsets));
  const group = doc.createNode('group').setTranslation([0, 1, 0]).setScale([0.5, 0.5, 0.5])
    .setRotation([0, Math.sin(0.3), 0, Math.cos(0.3)]).addChild(balls);
  const lights = doc.createExtension(ext.KHRLightsPunctual);
  const lamp = doc.createNode('lamp').setTranslation([0, 4, 2]).setRotation([-Math.sin(0.5), 0, 0, Math.cos(0.5)])
    .setExtension('KHR_lights_punctual', lights.createLight('spot').setType('spot').setIntensity(20).setColor([1, 0.9, 0.8]));
  doc.createScene('scene').addChild(group).addChild(lamp);
  await io.write(path.join(out, 'scene_extras.glb'), doc);
  return path.join(out, 'scene_extras.glb');
}

/** scene_extras.glb in out (for scene_suite.mjs) */
export async function makeSceneExtras(out) {
  fs.mkdirSync(out, { recursive: true });
  const { core, ext } = await setup();
  return sceneExtras(new core.NodeIO().registerExtensions(ext.ALL_EXTENSIONS), core, ext, out);
}

export async function makeAssets(out) {
  fs.mkdirSync(out, { recursive: true });
  const { core, ext } = await setup();
  const io = new core.NodeIO().registerExtensions(ext.ALL_EXTENSIONS);
  await pbrSphere(io, core, ext, out);
  await skinned(io, core, ext, out);
  await seams(io, core, ext, out);
  await missingImage(io, core, ext, out);
  return ['pbr_sphere.glb', 'skinned.glb', 'seams.glb', 'missing_image/missing_image.gltf'].map((f) => path.join(out, f));
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  if (process.argv.length !== 3) { process.stderr.write('usage: node tests/render/make_assets.mjs OUTDIR\n'); process.exit(2); }
  makeAssets(process.argv[2]).then((files) => console.log(files.join('\n')),
    (e) => { process.stderr.write(`make_assets.mjs: ${e.stack || e}\n`); process.exit(1); });
}
