// The web page in real headless Chromium against a small in-test server that speaks the
// documented /predict and /feedback shapes. It covers what the real model server cannot be made
// to do on demand (conflicting feedback, hostile labels, the CSP); web.test.ts drives the page
// against the real serving process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { indexHtml, INDEX_CONTENT_SECURITY_POLICY } from '../../serving/web/index.js';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const heads = [
  { name: 'beard', labels: ['no', 'yes'] },
  { name: 'hair_color', labels: ['black', 'brown', 'blond', 'red', 'gray'] },
];

interface Posted {
  path: string;
  contentType: string;
  body: Buffer;
}
const posted: Posted[] = [];
let predictStatus = 200;
let feedbackStatus = 200;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function sendJson(res: import('node:http').ServerResponse, status: number, value: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

let server: Server;
let base: string;
let browser: Browser;
let page: Page;
const dir = mkdtempSync(join(tmpdir(), 'web-page-test-'));
const imagePath = join(dir, 'face.png');
const textPath = join(dir, 'notes.txt');

const t = suite('web page (interim server)');

t.before(async () => {
  server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': INDEX_CONTENT_SECURITY_POLICY,
      });
      res.end(indexHtml({ model: 'face-attributes', version: 'v2', heads }));
      return;
    }
    const body = await readBody(req);
    posted.push({ path: req.url!, contentType: String(req.headers['content-type']), body });
    if (req.url === '/predict') {
      if (predictStatus !== 200)
        return sendJson(res, predictStatus, { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'not an image' } });
      return sendJson(res, 200, {
        model: 'face-attributes',
        version: 'v2',
        latencyMs: 4.1,
        predictions: [
          {
            predictionId: 'tok-1',
            heads: {
              beard: { label: 'yes', score: 0.97, scores: { no: 0.03, yes: 0.97 } },
              hair_color: {
                label: 'red',
                score: 0.6,
                scores: { black: 0.1, brown: 0.2, blond: 0.05, red: 0.6, gray: 0.05 },
              },
            },
          },
        ],
      });
    }
    if (req.url === '/feedback') {
      if (feedbackStatus !== 200)
        return sendJson(res, feedbackStatus, {
          error: { code: 'ALREADY_COUNTED', message: 'feedback for this prediction was already counted' },
        });
      const { labels } = JSON.parse(body.toString());
      const truth: Record<string, string> = { beard: 'yes', hair_color: 'red' };
      return sendJson(res, 200, {
        accepted: Object.fromEntries(
          Object.entries(labels).map(([h, l]) => [h, truth[h] === l ? 'correct' : 'incorrect']),
        ),
      });
    }
    sendJson(res, 404, { error: { code: 'NOT_FOUND', message: 'no route' } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await sharp({ create: { width: 96, height: 96, channels: 3, background: { r: 200, g: 60, b: 40 } } })
    .png()
    .toFile(imagePath);
  writeFileSync(textPath, 'not an image');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

let problems: string[] = [];

t.before.each(async () => {
  posted.length = 0;
  predictStatus = 200;
  feedbackStatus = 200;
  problems = [];
  page = await browser.newPage();
  page.on('pageerror', (err) => problems.push(err.message));
  // HTTP error statuses are logged as "Failed to load resource"; those are expected here.
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(msg.text());
  });
  await page.goto(base);
});

t.after.each(async () => {
  await page.close();
});

/** A page test that also fails on any script error or CSP violation the page logged. */
function pageTest(name: string, body: () => Promise<void>) {
  t(name, async () => {
    await body();
    assert.equal(problems, [], 'no script errors or CSP violations in the page');
  });
}

t.after(async () => {
  await browser?.close();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

pageTest('upload → prediction per head with sorted score bars, under a strict CSP', async () => {
  assert.is(await page.title(), 'face-attributes · v2 · Modelship');
  await page.getByLabel('Choose an image').setInputFiles(imagePath);
  const beard = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'beard' }) });
  await beard.getByRole('meter', { name: 'beard yes' }).waitFor();
  assert.is(await page.getByRole('status').first().textContent(), 'face-attributes v2 answered in 4.1 ms');
  assert.is(await page.locator('[data-head="beard"] .verdict').textContent(), 'yes97.0%');
  assert.is(await beard.getByRole('meter', { name: 'beard yes' }).getAttribute('aria-valuenow'), '97.0');
  const hairRows = await page.locator('[data-head="hair_color"] .bar-row > span:first-child').allTextContents();
  assert.equal(hairRows, ['red', 'brown', 'black', 'blond', 'gray'], 'classes sorted by score');
  assert.ok(await page.locator('#preview').isVisible(), 'preview shown');
  const upload = posted.find((p) => p.path === '/predict')!;
  assert.match(upload.contentType, /^multipart\/form-data; boundary=/);
  assert.match(upload.body.toString('latin1'), /name="file"; filename="face.png"/);
  assert.ok(upload.body.includes(Buffer.from('\x89PNG', 'latin1')), 'the image bytes were posted');
  mkdirSync('test-output', { recursive: true });
  await page.screenshot({ path: 'test-output/web-page.png', fullPage: true });
});

pageTest('"correct" posts the predicted label; the select posts a different one; answers are shown', async () => {
  await page.getByLabel('Choose an image').setInputFiles(imagePath);
  await page.getByRole('button', { name: 'beard: "yes" is correct' }).click();
  const beardOut = page.locator('[data-head="beard"] output');
  await beardOut.filter({ hasText: 'Thanks' }).waitFor();
  assert.is(await beardOut.textContent(), 'Thanks! Recorded "yes" (prediction was correct).');
  assert.ok(await page.getByRole('button', { name: 'beard: "yes" is correct' }).isDisabled(), 'one answer per head');

  await page.locator('[data-head="hair_color"]').getByLabel('Right label', { exact: true }).selectOption('blond');
  await page.getByRole('button', { name: 'Send the right label for hair_color' }).click();
  await page.locator('[data-head="hair_color"] output').filter({ hasText: 'Thanks' }).waitFor();
  const feedback = posted.filter((p) => p.path === '/feedback').map((p) => JSON.parse(p.body.toString()));
  assert.equal(feedback, [
    { predictionId: 'tok-1', labels: { beard: 'yes' } },
    { predictionId: 'tok-1', labels: { hair_color: 'blond' } },
  ]);
  assert.match((await page.locator('[data-head="hair_color"] output').textContent()) ?? '', /incorrect/);
});

pageTest('server errors are shown with their code and message', async () => {
  predictStatus = 415;
  await page.getByLabel('Choose an image').setInputFiles(imagePath);
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.is(await alert.textContent(), 'UNSUPPORTED_MEDIA_TYPE: not an image (HTTP 415)');
  predictStatus = 200;
  await page.getByRole('button', { name: 'Predict' }).click();
  await page.locator('[data-head="beard"]').waitFor();
  assert.ok(await alert.isHidden(), 'the error clears on success');
  feedbackStatus = 409;
  await page.getByRole('button', { name: 'beard: "yes" is correct' }).click();
  const out = page.locator('[data-head="beard"] output');
  await out.filter({ hasText: 'ALREADY_COUNTED' }).waitFor();
  assert.ok(await page.getByRole('button', { name: 'beard: "yes" is correct' }).isDisabled(), '409 is final');
});

pageTest('a non-image file is refused in the page without a request', async () => {
  await page.getByLabel('Choose an image').setInputFiles(textPath);
  await page.getByRole('alert').waitFor();
  assert.match((await page.getByRole('alert').textContent()) ?? '', /choose an image file/i);
  assert.equal(posted, []);
});

pageTest('drag and drop uploads the dropped image', async () => {
  const bytes = [...(await sharp(imagePath).png().toBuffer())];
  await page.evaluate((data) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(data)], 'dropped.png', { type: 'image/png' }));
    document
      .getElementById('drop')!
      .dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, bytes);
  await page.locator('[data-head="beard"]').waitFor();
  assert.match(posted[0].body.toString('latin1'), /filename="dropped.png"/);
});

t('model names and labels are text, never markup', () => {
  const html = indexHtml({
    model: '<img src=x onerror=alert(1)>',
    version: '"v1"',
    heads: [{ name: 'h', labels: ['</script><b>x'] }],
  });
  assert.not.match(html, /<img src=x/);
  assert.not.match(html, /<\/script><b>/);
  assert.match(html, /&#60;img src=x onerror=alert\(1\)&#62;/);
});

t.run();
