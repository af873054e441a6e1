// preview_tools.mjs: what a leaker does to a preview, for test_preview_service (glTF-Transform,
// meshoptimizer and draco3dgltf from tools/node_modules), and the viewer check in Chromium.
//
//   node preview_tools.mjs decode IN.glb OUT.glb        any glTF (meshopt, Draco, quantised) -> plain GLB
//   node preview_tools.mjs draco IN.glb OUT.glb         KHR_draco_mesh_compression (default 14-bit positions)
//   node preview_tools.mjs noise IN.glb OUT.glb REL SEED Gaussian noise, sigma = REL x bbox diagonal
//   node preview_tools.mjs rigid IN.glb OUT.glb         rotation, translation and scale 3.7
//   node preview_tools.mjs obj IN.glb OUT.obj           Wavefront OBJ of the triangles
//   node preview_tools.mjs info IN.glb                  {"triangles", "vertices", "max_texture", "extensions"}
//   node preview_tools.mjs viewer URL PNG               Chromium: {"loaded", "triangles", "errors", "nonBackground"}
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';

const require = createRequire(path.join(process.env.LDS_TOOLS || path.resolve('tools'), 'package.json'));
const [command, input, output, ...rest] = process.argv.slice(2);

async function io() {
  const {NodeIO} = require('@gltf-transform/core');
  const {ALL_EXTENSIONS} = require('@gltf-transform/extensions');
  const {MeshoptDecoder, MeshoptEncoder} = require('meshoptimizer');
  const draco3d = require('draco3dgltf');
  await MeshoptDecoder.ready;
  await MeshoptEncoder.ready;
  return new NodeIO().registerExtensions(ALL_EXTENSIONS).registerDependencies({
    'meshopt.decoder': MeshoptDecoder, 'meshopt.encoder': MeshoptEncoder,
    'draco3d.decoder': await draco3d.createDecoderModule(), 'draco3d.encoder': await draco3d.createEncoderModule(),
  });
}

async function plain(doc) {
  const {dequantize} = require('@gltf-transform/functions');
  for (const ext of doc.getRoot().listExtensionsUsed()) {
    const name = ext.extensionName;
    if (name === 'EXT_meshopt_compression' || name === 'KHR_draco_mesh_compression' || name === 'KHR_mesh_quantization')
      ext.dispose();
  }
  await doc.transform(dequantize());
  return doc;
}

function positions(doc, fn) {
  for (const mesh of doc.getRoot().listMeshes())
    for (const prim of mesh.listPrimitives()) {
      const pos = prim.getAttribute('POSITION');
      const array = pos.getArray().slice();
      for (let i = 0; i < array.length; i += 3) {
        const p = fn([array[i], array[i + 1], array[i + 2]]);
        array[i] = p[0], array[i + 1] = p[1], array[i + 2] = p[2];
      }
      pos.setArray(array);
    }
}

function bakeTransforms(doc) { // world positions, so that rigid/noise act on what a viewer sees
  const {flatten, transformMesh} = require('@gltf-transform/functions');
  return doc.transform(flatten()).then(() => {
    for (const node of doc.getRoot().listNodes())
      if (node.getMesh()) {
        transformMesh(node.getMesh(), node.getWorldMatrix());
        node.setMatrix([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
      }
  });
}

function bounds(doc) {
  const lo = [Infinity, Infinity, Infinity], hi = [-Infinity, -Infinity, -Infinity];
  positions(doc, (p) => { for (let a = 0; a < 3; a++) lo[a] = Math.min(lo[a], p[a]), hi[a] = Math.max(hi[a], p[a]); return p; });
  return Math.hypot(hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]);
}

function random(seed) { // xorshift32, then Box-Muller
  let s = seed >>> 0 || 1;
  const u = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return (s + 0.5) / 4294967296; };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

function objText(doc) {
  const lines = ['# exported by preview_tools.mjs'];
  let base = 1;
  for (const mesh of doc.getRoot().listMeshes())
    for (const prim of mesh.listPrimitives()) {
      const pos = prim.getAttribute('POSITION'), idx = prim.getIndices();
      for (let i = 0; i < pos.getCount(); i++) {
        const p = pos.getElement(i, []);
        lines.push(`v ${p[0].toPrecision(9)} ${p[1].toPrecision(9)} ${p[2].toPrecision(9)}`);
      }
      const count = idx ? idx.getCount() : pos.getCount();
      for (let i = 0; i < count; i += 3) {
        const a = idx ? idx.getScalar(i) : i, b = idx ? idx.getScalar(i + 1) : i + 1, c = idx ? idx.getScalar(i + 2) : i + 2;
        lines.push(`f ${a + base} ${b + base} ${c + base}`);
      }
      base += pos.getCount();
    }
  return lines.join('\n') + '\n';
}

async function viewer(url, png) {
  const {chromium} = require('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lds-viewer-'));
  const browser = await chromium.launchPersistentContext(profile, {executablePath: '/usr/bin/chromium',
    headless: true, viewport: {width: 640, height: 480}, args: ['--headless', '--no-sandbox', '--disable-gpu',
      '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync']});
  const errors = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('requestfailed', (r) => errors.push('request failed: ' + r.url()));
    page.on('response', (r) => {
      if (!r.url().startsWith('http://127.0.0.1') && !r.url().startsWith('data:')) errors.push('off-site request: ' + r.url());
      else if (r.status() >= 400) errors.push(r.status() + ' ' + r.url());
    });
    await page.goto(url);
    await page.waitForFunction(() => window.lodestonePreview !== undefined, null, {timeout: 60000});
    await page.waitForTimeout(500); // a few frames
    const state = await page.evaluate(() => {
      const gl = document.getElementById('view'), c = document.createElement('canvas');
      c.width = gl.width, c.height = gl.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(gl, 0, 0);
      const d = ctx.getImageData(0, 0, c.width, c.height).data, bg = [d[0], d[1], d[2]];
      let other = 0;
      for (let i = 0; i < d.length; i += 4)
        if (Math.abs(d[i] - bg[0]) + Math.abs(d[i + 1] - bg[1]) + Math.abs(d[i + 2] - bg[2]) > 24) other++;
      return Object.assign({nonBackground: other / (d.length / 4)}, window.lodestonePreview);
    });
    await page.screenshot({path: png});
    return Object.assign(state, {errors});
  } finally {
    await browser.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
}

async function main() {
  if (command === 'viewer') {
    console.log(JSON.stringify(await viewer(input, output)));
    return;
  }
  const gltf = await io();
  const doc = await gltf.read(input);
  if (command === 'info') {
    let triangles = 0, vertices = 0, maxTexture = 0;
    for (const mesh of doc.getRoot().listMeshes())
      for (const prim of mesh.listPrimitives()) {
        const idx = prim.getIndices(), pos = prim.getAttribute('POSITION');
        triangles += (idx ? idx.getCount() : pos.getCount()) / 3, vertices += pos.getCount();
      }
    for (const tex of doc.getRoot().listTextures()) {
      const size = tex.getSize();
      if (size) maxTexture = Math.max(maxTexture, size[0], size[1]);
    }
    const extensions = doc.getRoot().listExtensionsUsed().map((e) => e.extensionName);
    console.log(JSON.stringify({triangles, vertices, max_texture: maxTexture, extensions}));
    return;
  }
  await plain(doc);
  if (command === 'draco') {
    const {draco} = require('@gltf-transform/functions');
    await doc.transform(draco());
  } else if (command === 'noise') {
    await bakeTransforms(doc);
    const sigma = Number(rest[0]) * bounds(doc), gauss = random(Number(rest[1] || 1));
    positions(doc, (p) => [p[0] + sigma * gauss(), p[1] + sigma * gauss(), p[2] + sigma * gauss()]);
  } else if (command === 'rigid') {
    await bakeTransforms(doc);
    const a = 0.9, b = -2.1, s = 3.7;
    positions(doc, (p) => {
      const y = Math.cos(a) * p[1] - Math.sin(a) * p[2], z = Math.sin(a) * p[1] + Math.cos(a) * p[2];
      const x = Math.cos(b) * p[0] - Math.sin(b) * y, y2 = Math.sin(b) * p[0] + Math.cos(b) * y;
      return [s * x + 12.5, s * y2 - 3, s * z + 0.25];
    });
  } else if (command === 'obj') {
    await bakeTransforms(doc);
    fs.writeFileSync(output, objText(doc));
    return;
  } else if (command !== 'decode') {
    throw new Error('unknown command ' + command);
  }
  await gltf.write(output, doc);
}

main().catch((e) => { console.error(String(e && e.stack || e)); process.exit(1); });
