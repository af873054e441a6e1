// catalogue_page_check.mjs: the demo catalogue page (GET /catalogue) in headless Chromium, for
// test_api_catalogue_page: loads it with a key, waits for the cards and their thumbnails, then
// clicks "view in 3D" on the first card and reports the preview request it made and where the
// page went. Prints {"cards", "thumbnails", "ids", "previewRequested", "previewStatus",
// "navigatedTo", "status", "errors"}; the screenshot goes to PNG.
//
//   node catalogue_page_check.mjs BASE_URL KEY PNG
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';

const require = createRequire(path.join(process.env.LDS_TOOLS || path.resolve('tools'), 'package.json'));
const [base, key, png] = process.argv.slice(2);

async function main() {
  const {chromium} = require('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lds-catalogue-'));
  const browser = await chromium.launchPersistentContext(profile, {executablePath: '/usr/bin/chromium',
    headless: true, viewport: {width: 1200, height: 900}, args: ['--headless', '--no-sandbox', '--disable-gpu',
      '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync']});
  const errors = [];
  const result = {previewRequested: false, previewStatus: null, navigatedTo: null};
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('requestfailed', (r) => { if (!r.url().includes('/preview')) errors.push('request failed: ' + r.url()); });
    page.on('response', (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith('blob:')) errors.push('off-site request: ' + r.url());
      if (r.url().includes('/preview') && r.request().method() === 'POST') {
        result.previewRequested = true;
        result.previewStatus = r.status();
      }
    });
    await page.goto(base + '/catalogue#key=' + key);
    await page.waitForSelector('.card', {timeout: 30000});
    await page.waitForFunction(() => [...document.querySelectorAll('.card img')].every((i) => i.complete && i.naturalWidth > 0),
      null, {timeout: 30000});
    Object.assign(result, await page.evaluate(() => ({
      cards: document.querySelectorAll('.card').length,
      thumbnails: [...document.querySelectorAll('.card img')].filter((i) => i.naturalWidth === 512).length,
      ids: [...document.querySelectorAll('.card')].map((c) => c.dataset.asset),
    })));
    await page.screenshot({path: png});
    const navigation = page.waitForURL((u) => !u.pathname.startsWith('/catalogue'), {timeout: 20000}).catch(() => null);
    const answered = page.waitForResponse((r) => r.url().includes('/preview') && r.request().method() === 'POST',
      {timeout: 20000});
    await page.click('.card .view');
    await answered;
    if (result.previewStatus === 200 || result.previewStatus === 201) {
      await navigation;
      result.navigatedTo = page.url();
    } else {
      await page.waitForFunction(() => document.getElementById('status').textContent.length > 0, null, {timeout: 10000});
      result.status = await page.evaluate(() => document.getElementById('status').textContent);
    }
  } finally {
    await browser.close();
    fs.rmSync(profile, {recursive: true, force: true});
  }
  console.log(JSON.stringify(Object.assign(result, {errors})));
}

main().catch((e) => { console.log(JSON.stringify({errors: [String(e)]})); process.exit(1); });
