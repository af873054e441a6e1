// Shared pieces of the render harness: the npm tools (tools/node_modules, reached through
// createRequire so these scripts need no node_modules of their own), a local static HTTP server that
// serves three.js and only the files registered with it, headless Chromium through playwright-core,
// PSNR over RGB, and a small PNG writer (node's zlib; no image package needed to write).
import { createRequire } from 'node:module';
import { pathToFileURL, fileURLToPath } from 'node:url';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const TOOLS = path.join(ROOT, 'tools');
const toolRequire = createRequire(path.join(TOOLS, 'package.json'));

/** import an npm package installed in tools/node_modules */
export function tool(name) {
  return import(pathToFileURL(toolRequire.resolve(name)).href);
}
export function toolPath(name) {
  return toolRequire.resolve(name);
}
export const THREE_DIR = path.dirname(path.dirname(toolRequire.resolve('three')));

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.glb': 'model/gltf-binary',
  '.gltf': 'model/gltf+json', '.bin': 'application/octet-stream', '.png': 'image/png',
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.ktx2': 'image/ktx2' };

function inside(root, rel) {
  const p = path.resolve(root, '.' + path.posix.normalize('/' + rel));
  return p === root || p.startsWith(root + path.sep) ? p : null;
}

/** A static server on 127.0.0.1 (any free port): /three/* from the three package, /page/* from
 *  tests/render/page, /m/<n>/* from the folder of the n-th registered model. */
export async function startServer() {
  const mounts = new Map([['three', THREE_DIR], ['page', path.join(HERE, 'page')]]);
  const models = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const parts = decodeURIComponent(url.pathname).split('/').filter(Boolean);
    let root = null;
    let rest = parts.slice(1);
    if (parts[0] === 'm' && parts.length > 2) { root = models[Number(parts[1])] || null; rest = parts.slice(2); }
    else root = mounts.get(parts[0]) || null;
    const file = root ? inside(root, rest.join('/')) : null;
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream',
                         'Content-Length': fs.statSync(file).size, 'Cache-Control': 'no-store' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    /** serve FILE's folder; returns the URL of FILE */
    add(file) {
      const abs = path.resolve(file);
      models.push(path.dirname(abs));
      return `${origin}/m/${models.length - 1}/${encodeURIComponent(path.basename(abs))}`;
    },
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist',
  '--disable-features=Translate,OptimizationHints,MediaRouter', '--force-color-profile=srgb'];

/** Chromium (Debian's) with a fresh profile; every request that is not for `origin` is aborted and
 *  recorded, as are page errors and console errors. */
export async function startBrowser(origin) {
  const pw = await tool('playwright-core');
  const chromium = pw.chromium || pw.default.chromium;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lds-render-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.LDS_CHROMIUM || '/usr/bin/chromium', headless: true,
    args: CHROMIUM_ARGS, viewport: { width: 800, height: 800 }, deviceScaleFactor: 1,
    serviceWorkers: 'block', offline: false });
  const problems = { errors: [], warnings: [], blocked: [] };
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(origin + '/') || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    problems.blocked.push(u);
    return route.abort();
  });
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => problems.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.errors.push(`console: ${m.text()}`);
    else if (m.type() === 'warning') problems.warnings.push(m.text());
  });
  // a fetch whose body three's FileLoader re-streams is reported as ERR_ABORTED although it loaded;
  // real failures surface as a loader error or a console error, so a failed request is only noted
  page.on('requestfailed', (r) => {
    if (!problems.blocked.includes(r.url())) problems.warnings.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
  });
  return {
    page, problems,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** mean squared error over RGB of two equally sized RGBA buffers */
export function mse(a, b) {
  if (a.length !== b.length) throw new Error(`image sizes differ: ${a.length} vs ${b.length} bytes`);
  let s = 0;
  for (let i = 0; i < a.length; i += 4) {
    const dr = a[i] - b[i], dg = a[i + 1] - b[i + 1], db = a[i + 2] - b[i + 2];
    s += dr * dr + dg * dg + db * db;
  }
  return s / ((a.length / 4) * 3);
}

export function psnrOf(m) {
  return m === 0 ? Infinity : 10 * Math.log10((255 * 255) / m);
}

/** JSON-friendly PSNR: a number rounded to 0.01 dB, or the string "inf" for identical images */
export function psnrJson(p) {
  return Number.isFinite(p) ? Math.round(p * 100) / 100 : 'inf';
}
export function psnrValue(j) {
  return j === 'inf' ? Infinity : Number(j);
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** PNG bytes of an 8-bit RGBA (channels 4) or RGB (3) or grey (1) image, rows top first */
export function encodePng(pixels, width, height, channels = 4) {
  const colorType = { 1: 0, 3: 2, 4: 6 }[channels];
  if (colorType === undefined) throw new Error(`encodePng: ${channels} channels`);
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0;
    Buffer.from(pixels.buffer, pixels.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = colorType; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 6 })), chunk('IEND', Buffer.alloc(0))]);
}
