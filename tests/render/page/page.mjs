// The render page: one WebGL renderer, a fixed neutral environment (three's RoomEnvironment through
// PMREM, plus one directional key light fixed in world space), a mid-grey background, and a camera
// given by node (fitted once to the ORIGINAL model's bounding sphere, so every variant of one asset is
// seen from the same place). window.lds.load(url) loads a glTF/GLB with Draco and meshopt decoders;
// window.lds.render(view) draws one view and returns its RGBA pixels (top row first) as base64.
import * as THREE from 'three';
import { GLTFLoader } from 'three/addons/loaders/GLTFLoader.js';
import { DRACOLoader } from 'three/addons/loaders/DRACOLoader.js';
import { MeshoptDecoder } from 'three/addons/libs/meshopt_decoder.module.js';
import { RoomEnvironment } from 'three/addons/environments/RoomEnvironment.js';

const params = new URLSearchParams(location.search);
const SIZE = Number(params.get('size') || 512);
const canvas = document.createElement('canvas');
document.body.appendChild(canvas);
const renderer = new THREE.WebGLRenderer({ canvas, antialias: true, alpha: false,
  preserveDrawingBuffer: true, powerPreference: 'default' });
renderer.setPixelRatio(1);
renderer.setSize(SIZE, SIZE, false);
renderer.outputColorSpace = THREE.SRGBColorSpace;
renderer.toneMapping = THREE.NeutralToneMapping;
renderer.toneMappingExposure = 1.0;

const scene = new THREE.Scene();
scene.background = new THREE.Color(0.5, 0.5, 0.5);
const pmrem = new THREE.PMREMGenerator(renderer);
const room = new RoomEnvironment();
scene.environment = pmrem.fromScene(room, 0.04).texture;
room.dispose();
const key = new THREE.DirectionalLight(0xffffff, 1.5);
key.position.set(1, 2, 1.5);
scene.add(key);
const camera = new THREE.PerspectiveCamera(35, 1, 0.1, 100);

const draco = new DRACOLoader();
draco.setDecoderPath('/three/examples/jsm/libs/draco/');
const loader = new GLTFLoader();
loader.setDRACOLoader(draco);
loader.setMeshoptDecoder(MeshoptDecoder);

let current = null;
// the previous model is disposed only after the next one has been drawn, so that shader programs of
// materials with the same features stay compiled (SwiftShader compiles slowly)
let retired = null;

function disposeObject(root) {
  root.traverse((o) => {
    if (o.geometry) o.geometry.dispose();
    const mats = o.material ? (Array.isArray(o.material) ? o.material : [o.material]) : [];
    for (const m of mats) {
      for (const v of Object.values(m)) if (v && v.isTexture) v.dispose();
      m.dispose();
    }
  });
}

function countTriangles(root) {
  let n = 0;
  root.traverse((o) => {
    if (!o.isMesh || !o.geometry) return;
    const g = o.geometry;
    const count = g.index ? g.index.count : (g.attributes.position ? g.attributes.position.count : 0);
    if (o.isPoints || o.isLine) return;
    n += Math.floor(count / 3);
  });
  return n;
}

async function load(url) {
  if (current) { scene.remove(current); if (retired) disposeObject(retired); retired = current; current = null; }
  const gltf = await loader.loadAsync(url);
  current = gltf.scene;
  current.traverse((o) => { o.frustumCulled = false; });
  scene.add(current);
  current.updateMatrixWorld(true);
  const box = new THREE.Box3().setFromObject(current, true);
  const sphere = box.getBoundingSphere(new THREE.Sphere());
  return { triangles: countTriangles(current), center: sphere.center.toArray(), radius: sphere.radius,
           min: box.min.toArray(), max: box.max.toArray(), animations: gltf.animations.length };
}

// views around the model: azimuth 360/n apart, 20 degrees above the horizon; camera fixed by `frame`.
function place(frame, view, views) {
  const az = (2 * Math.PI * view) / views + Math.PI / 8;
  const el = (20 * Math.PI) / 180;
  const r = frame.radius > 0 ? frame.radius : 1;
  const dist = (r / Math.sin(((camera.fov / 2) * Math.PI) / 180)) * 1.02;
  const c = new THREE.Vector3().fromArray(frame.center);
  camera.position.set(c.x + dist * Math.cos(el) * Math.sin(az), c.y + dist * Math.sin(el),
                      c.z + dist * Math.cos(el) * Math.cos(az));
  camera.near = Math.max(dist - 1.5 * r, dist * 0.01);
  camera.far = dist + 1.5 * r;
  camera.up.set(0, 1, 0);
  camera.lookAt(c);
  camera.updateProjectionMatrix();
}

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function render(frame, view, views) {
  place(frame, view, views);
  renderer.render(scene, camera);
  if (retired) { disposeObject(retired); retired = null; }
  const gl = renderer.getContext();
  const raw = new Uint8Array(SIZE * SIZE * 4);
  gl.readPixels(0, 0, SIZE, SIZE, gl.RGBA, gl.UNSIGNED_BYTE, raw);
  const out = new Uint8Array(raw.length);
  const row = SIZE * 4;
  for (let y = 0; y < SIZE; y++) out.set(raw.subarray((SIZE - 1 - y) * row, (SIZE - y) * row), y * row);
  return base64(out);
}

function info() {
  const gl = renderer.getContext();
  const dbg = gl.getExtension('WEBGL_debug_renderer_info');
  return { webgl2: renderer.capabilities.isWebGL2, size: SIZE, three: THREE.REVISION,
           renderer: dbg ? gl.getParameter(dbg.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER) };
}

window.lds = { load, render, info };
window.ldsReady = true;
