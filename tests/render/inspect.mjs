#!/usr/bin/env node
// inspect.mjs: what a glTF/GLB holds, read back with glTF-Transform (Draco and meshopt decoded):
// materials with every texture slot (size, texCoord, sampler, KHR_texture_transform), every factor and
// every material extension; textures; skins; animations; nodes; meshes with attributes and triangles.
//
//   node tests/render/inspect.mjs FILE... [--json]          list
//   node tests/render/inspect.mjs --check INPUT LOD... [--json]
//        every LOD keeps the input's material slots (same texCoord, transform), factor values, alpha
//        mode, double-sidedness, material and file extensions (compression ones aside), vertex
//        attribute sets (TEXCOORD_n, COLOR_n, JOINTS_n, WEIGHTS_n), skins, animations (channels) and
//        variants; LOD textures are never larger than the input's nor below min(64 px, input).
//        Exit 1 when any LOD misses something (each problem printed with both values).
import fs from 'node:fs';
import path from 'node:path';
import { gltfIO } from './gltf.mjs';

// extensions that encode data rather than describe the asset: an LOD may add or drop them
export const ENCODING_EXTENSIONS = new Set(['KHR_draco_mesh_compression', 'EXT_meshopt_compression',
  'KHR_mesh_quantization', 'EXT_texture_webp', 'KHR_texture_basisu', 'EXT_texture_avif',
  'KHR_meshopt_compression', 'MSFT_lod', 'MSFT_screencoverage']);
const SLOT_REQUIRED_ATTRS = /^(TEXCOORD|COLOR|JOINTS|WEIGHTS)_\d+$/;

function triangleCount(mode, count) {
  if (mode === undefined || mode === 4) return Math.floor(count / 3);
  if (mode === 5 || mode === 6) return Math.max(0, count - 2);
  return 0;
}

function flatten(obj, prefix, out) {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, key, out);
    else out[key] = v;
  }
  return out;
}

/** { slots: {path: {...}}, factors: {path: value}, extensions: [...] } of one material's JSON */
function describeMaterial(m, textures) {
  const slots = {};
  const factors = {};
  const walk = (obj, prefix) => {
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'extras' || k === 'name') continue;
      const key = prefix ? `${prefix}.${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v) && typeof v.index === 'number') {
        const t = textures[v.index] || {};
        const info = { texCoord: v.texCoord || 0, size: t.size || null, mimeType: t.mimeType || null,
                       bytes: t.bytes || 0, sampler: t.sampler || null,
                       transform: v.extensions && v.extensions.KHR_texture_transform ?
                         v.extensions.KHR_texture_transform : null };
        if (v.scale !== undefined) factors[`${key}.scale`] = v.scale;
        if (v.strength !== undefined) factors[`${key}.strength`] = v.strength;
        slots[key] = info;
      } else if (v && typeof v === 'object' && !Array.isArray(v)) {
        walk(v, key);
      } else {
        factors[key] = v;
      }
    }
  };
  walk(m, '');
  const defaults = { alphaMode: 'OPAQUE', doubleSided: false };
  for (const [k, v] of Object.entries(defaults)) if (factors[k] === undefined) factors[k] = v;
  if (factors.alphaMode !== 'MASK') delete factors.alphaCutoff;
  else if (factors.alphaCutoff === undefined) factors.alphaCutoff = 0.5;
  return { name: m.name || null, slots, factors, extensions: Object.keys(m.extensions || {}).sort() };
}

/** Everything the checks look at, from one file. */
export async function inspectFile(file) {
  const { io, core } = await gltfIO();
  const doc = await io.read(file);
  const root = doc.getRoot();
  for (const e of root.listExtensionsUsed()) {
    if (e.extensionName === 'KHR_draco_mesh_compression' || e.extensionName === 'EXT_meshopt_compression') e.dispose();
  }
  const usedRaw = JSON.parse(readJsonChunk(file)).extensionsUsed || [];
  const { json, resources } = await io.writeJSON(doc, { format: core.Format.GLTF });
  const images = (json.images || []).map((im) => {
    let bytes = null;
    if (im.uri && resources[im.uri]) bytes = resources[im.uri];
    else if (im.bufferView !== undefined) bytes = null;
    const mimeType = im.mimeType || (im.uri && /\.png$/i.test(im.uri) ? 'image/png' :
      im.uri && /\.jpe?g$/i.test(im.uri) ? 'image/jpeg' : im.uri && /\.webp$/i.test(im.uri) ? 'image/webp' : null);
    const size = bytes && mimeType ? core.ImageUtils.getSize(bytes, mimeType) : null;
    return { name: im.name || null, mimeType, size, bytes: bytes ? bytes.byteLength : 0 };
  });
  const samplers = json.samplers || [];
  const textures = (json.textures || []).map((t) => {
    const ext = t.extensions || {};
    let src = t.source;
    for (const e of ['EXT_texture_webp', 'KHR_texture_basisu', 'EXT_texture_avif']) {
      if (ext[e] && ext[e].source !== undefined) src = ext[e].source;
    }
    const im = images[src] || {};
    return { ...im, sampler: t.sampler !== undefined ? samplers[t.sampler] || null : null };
  });
  const materials = (json.materials || []).map((m) => describeMaterial(m, textures));
  const usedMaterials = new Set();
  const attrs = new Set();
  const meshTris = (json.meshes || []).map((mesh) => mesh.primitives.reduce((n, p) => {
    const acc = p.indices !== undefined ? json.accessors[p.indices] : json.accessors[p.attributes.POSITION];
    return n + triangleCount(p.mode, acc ? acc.count : 0);
  }, 0));
  let triangles = 0;
  const nodes = json.nodes || [];
  const visit = (i, depth) => {
    if (depth > 64) return;
    const n = nodes[i];
    if (n.mesh !== undefined) {
      triangles += meshTris[n.mesh];
      for (const p of json.meshes[n.mesh].primitives) {
        if (p.material !== undefined) usedMaterials.add(p.material);
        const mv = p.extensions && p.extensions.KHR_materials_variants;
        if (mv) for (const mp of mv.mappings || []) usedMaterials.add(mp.material);
        for (const a of Object.keys(p.attributes)) attrs.add(a);
      }
    }
    for (const c of n.children || []) visit(c, depth + 1);
  };
  const scene = (json.scenes || [])[json.scene || 0];
  for (const i of (scene && scene.nodes) || []) visit(i, 0);
  const nodeName = (i) => (nodes[i] && nodes[i].name) || `#${i}`;
  return {
    file, bytes: fs.statSync(file).size, triangles,
    extensionsUsed: usedRaw.slice().sort(),
    materials, usedMaterials: [...usedMaterials].sort((a, b) => a - b),
    textures: textures.map((t) => ({ name: t.name, mimeType: t.mimeType, size: t.size, bytes: t.bytes })),
    textureBytes: images.reduce((n, im) => n + im.bytes, 0),
    attributes: [...attrs].sort(),
    skins: (json.skins || []).map((s) => ({ name: s.name || null, joints: s.joints.map(nodeName) })),
    animations: (json.animations || []).map((a) => ({ name: a.name || null,
      channels: a.channels.map((c) => `${c.target.node !== undefined ? nodeName(c.target.node) : '?'}/${c.target.path}`).sort() })),
    variants: ((json.extensions || {}).KHR_materials_variants || {}).variants?.length || 0,
    lights: ((json.extensions || {}).KHR_lights_punctual || {}).lights?.length || 0,
    nodes: nodes.length, meshes: (json.meshes || []).length,
    nodeNames: nodes.map((n) => n.name || null),
  };
}

/** the JSON chunk (GLB) or the whole file (.gltf), as text */
function readJsonChunk(file) {
  const b = fs.readFileSync(file);
  if (b.length >= 20 && b.readUInt32LE(0) === 0x46546c67) {
    const len = b.readUInt32LE(12);
    return b.subarray(20, 20 + len).toString('utf8');
  }
  return b.toString('utf8');
}

function near(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a));
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => near(x, b[i]));
  return a === b;
}
const show = (v) => (v === undefined ? "(default)" : JSON.stringify(v));

function matchMaterial(inp, i, input, lod) {
  const named = inp.name ? lod.materials.filter((m) => m.name === inp.name) : [];
  if (named.length === 1) return named[0];
  const round = (v) => (typeof v === 'number' ? Number(v.toPrecision(4)) : Array.isArray(v) ? v.map(round) : v);
  const sig = (m) => show([Object.keys(m.slots).sort(), m.extensions,
    Object.keys(m.factors).sort().map((k) => [k, round(m.factors[k])])]);
  const same = lod.materials.find((m) => sig(m) === sig(inp));
  if (same) return same;
  if (lod.materials.length === input.materials.length) return lod.materials[i];
  if (named.length) return named[0];
  // unnamed and changed: the LOD material that shares most slots, factors and extensions
  const score = (m) => Object.keys(inp.slots).filter((k) => m.slots[k]).length +
    Object.keys(inp.factors).filter((k) => near(inp.factors[k], m.factors[k])).length +
    inp.extensions.filter((e) => m.extensions.includes(e)).length;
  let best = null;
  for (const m of lod.materials) if (!best || score(m) > score(best)) best = m;
  return best;
}

function checkMaterial(inp, out, label, problems) {
  for (const [slot, s] of Object.entries(inp.slots)) {
    const o = out.slots[slot];
    if (!o) { problems.push(`${label}: slot ${slot} missing (input has a ${s.size ? s.size.join('x') : '?'} texture)`); continue; }
    if (o.texCoord !== s.texCoord) problems.push(`${label}: ${slot}.texCoord input ${s.texCoord}, lod ${o.texCoord}`);
    // an LOD may add a transform (gltfpack dequantises UVs with one); it must not drop one
    if (s.transform && !o.transform) problems.push(`${label}: ${slot} KHR_texture_transform input ${show(s.transform)}, lod ${show(o.transform)}`);
    if (s.size && o.size) {
      const [iw, ih] = s.size, [ow, oh] = o.size;
      if (ow > iw || oh > ih) problems.push(`${label}: ${slot} upscaled: input ${iw}x${ih}, lod ${ow}x${oh}`);
      if (Math.max(ow, oh) < Math.min(64, Math.max(iw, ih))) problems.push(`${label}: ${slot} below 64 px: input ${iw}x${ih}, lod ${ow}x${oh}`);
    } else if (s.size && !o.size) {
      problems.push(`${label}: ${slot} texture has no readable image in the lod (input ${s.size.join('x')})`);
    }
  }
  // both sides went through glTF-Transform's writer, so a factor left out is its default on both
  const keys = new Set([...Object.keys(inp.factors), ...Object.keys(out.factors)]);
  for (const k of keys) {
    const ext = /^extensions\.([^.]+)\./.exec(k);
    if (ext && !inp.extensions.includes(ext[1])) continue;
    const v = inp.factors[k];
    if (!near(v, out.factors[k])) problems.push(`${label}: ${k} input ${show(v)}, lod ${show(out.factors[k])}`);
  }
  for (const e of inp.extensions) {
    if (!out.extensions.includes(e)) problems.push(`${label}: material extension ${e} missing (lod has ${show(out.extensions)})`);
  }
}

/** problems (strings) of one LOD against its input; empty when faithful */
export function checkLod(input, lod) {
  const problems = [];
  for (const e of input.extensionsUsed) {
    if (!ENCODING_EXTENSIONS.has(e) && !lod.extensionsUsed.includes(e)) problems.push(`extension ${e} missing from extensionsUsed (lod has ${show(lod.extensionsUsed)})`);
  }
  for (const i of input.usedMaterials) {
    const inp = input.materials[i];
    const label = `material ${i}${inp.name ? ` "${inp.name}"` : ''}`;
    const out = matchMaterial(inp, i, input, lod);
    if (!out) { problems.push(`${label}: no matching material in the lod (lod has ${lod.materials.length})`); continue; }
    checkMaterial(inp, out, label, problems);
  }
  for (const a of input.attributes) {
    if (SLOT_REQUIRED_ATTRS.test(a) && !lod.attributes.includes(a)) problems.push(`vertex attribute ${a} missing (lod has ${show(lod.attributes)})`);
  }
  if (lod.skins.length < input.skins.length) problems.push(`skins: input ${input.skins.length}, lod ${lod.skins.length}`);
  input.skins.forEach((s, i) => {
    const o = lod.skins.find((x) => s.name && x.name === s.name) || lod.skins[i];
    if (o && o.joints.length !== s.joints.length) problems.push(`skin ${i}: joints input ${s.joints.length}, lod ${o.joints.length}`);
  });
  if (lod.animations.length < input.animations.length) problems.push(`animations: input ${input.animations.length}, lod ${lod.animations.length}`);
  input.animations.forEach((a, i) => {
    const o = lod.animations.find((x) => a.name && x.name === a.name) || lod.animations[i];
    if (!o) return;
    const missing = a.channels.filter((c) => !o.channels.includes(c));
    if (missing.length) problems.push(`animation ${i}${a.name ? ` "${a.name}"` : ''}: ${missing.length} of ${a.channels.length} channels missing (e.g. ${missing.slice(0, 3).join(', ')}; lod has ${o.channels.length})`);
  });
  if (lod.variants < input.variants) problems.push(`KHR_materials_variants: input ${input.variants} variants, lod ${lod.variants}`);
  if (lod.lights < input.lights) problems.push(`KHR_lights_punctual: input ${input.lights} lights, lod ${lod.lights}`);
  return problems;
}

function summary(d) {
  const lines = [`${d.file}: ${d.bytes} bytes, ${d.triangles} triangles, ${d.nodes} nodes, ${d.meshes} meshes, textures ${d.textureBytes} bytes`];
  lines.push(`  extensionsUsed: ${d.extensionsUsed.join(' ') || '-'}; attributes: ${d.attributes.join(' ')}`);
  d.materials.forEach((m, i) => {
    lines.push(`  material ${i} "${m.name || ''}"${d.usedMaterials.includes(i) ? '' : ' (unused)'}: ${m.extensions.join(' ')}`);
    for (const [k, s] of Object.entries(m.slots)) lines.push(`    ${k}: ${s.size ? s.size.join('x') : '?'} ${s.mimeType || ''} uv${s.texCoord}${s.transform ? ' transform' : ''}`);
    lines.push(`    ${Object.entries(m.factors).map(([k, v]) => `${k}=${show(v)}`).join(' ')}`);
  });
  for (const s of d.skins) lines.push(`  skin "${s.name || ''}": ${s.joints.length} joints`);
  for (const a of d.animations) lines.push(`  animation "${a.name || ''}": ${a.channels.length} channels`);
  if (d.variants) lines.push(`  variants: ${d.variants}`);
  if (d.lights) lines.push(`  lights: ${d.lights}`);
  return lines.join('\n');
}

async function main() {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const check = argv.includes('--check');
  const files = argv.filter((a) => !a.startsWith('--'));
  const bad = argv.filter((a) => a.startsWith('--') && a !== '--json' && a !== '--check');
  if (bad.length || files.length === 0 || (check && files.length < 2)) {
    process.stderr.write('usage: node tests/render/inspect.mjs FILE... [--json]\n' +
                         '       node tests/render/inspect.mjs --check INPUT LOD... [--json]\n');
    process.exit(2);
  }
  if (!check) {
    const all = [];
    for (const f of files) all.push(await inspectFile(f));
    process.stdout.write(json ? JSON.stringify(all, null, 1) + '\n' : all.map(summary).join('\n') + '\n');
    return 0;
  }
  const input = await inspectFile(files[0]);
  const results = [];
  for (const f of files.slice(1)) {
    let problems;
    try { problems = checkLod(input, await inspectFile(f)); } catch (e) { problems = [`unreadable: ${e.message}`]; }
    results.push({ file: f, input: files[0], ok: problems.length === 0, problems });
  }
  if (json) process.stdout.write(JSON.stringify(results, null, 1) + '\n');
  else for (const r of results) {
    console.log(`${r.file}: ${r.ok ? 'ok' : `${r.problems.length} problems`}`);
    for (const p of r.problems) console.log(`  ${p}`);
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().then((c) => process.exit(c), (e) => { process.stderr.write(`inspect.mjs: ${e.stack || e}\n`); process.exit(1); });
}
