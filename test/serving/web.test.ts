// The web page end to end: the real serving process (`serving/main.ts`, real ONNX model from
// examples/sample-model.sh) and real headless Chromium. Upload a freshly generated face,
// check the page shows exactly what /predict answered, send feedback from the page and find
// it counted in /metrics; a corrupt upload shows the server's error. Screenshot:
// test-output/web.png.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureSampleModel, generateImages, REPO_ROOT } from '../support/models.js';

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

interface PredictResponse {
  model: string;
  version: string;
  predictions: {
    predictionId: string;
    heads: Record<string, { label: string; score: number; scores: Record<string, number> }>;
  }[];
}

/** Starts `serve` on a free port and resolves with its base URL once the model is ready. */
async function startServer(modelDir: string): Promise<{ child: ChildProcess; base: string; logs: () => string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'serving/main.ts',
      '--model-dir',
      modelDir,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--model-version',
      'v7',
      '--feedback-credentials-dir',
      credentialsDir,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, MODELSHIP_FEEDBACK_KEY: 'web-test-feedback-key-0123456789', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  child.stderr!.on('data', (d) => {
    output += d;
  });
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not listen in 30 s:\n${output}`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited ${code}:\n${output}`));
    });
    child.stderr!.on('data', () => {
      const m = /"address":"([^"]+:\d+)"/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  const base = `http://${address}`;
  const deadline = Date.now() + 30_000;
  while (
    (await fetch(`${base}/v2/health/ready`).then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    if (Date.now() > deadline) throw new Error(`model not ready in 30 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, base, logs: () => output };
}

const dir = mkdtempSync(join(tmpdir(), 'web-test-'));
/** The service's feedback credential, as a mounted Secret directory would hold it. */
const credentialsDir = join(dir, 'credentials');
const CREDENTIAL = 'web-test-feedback-credential-0123456789';
let server: Awaited<ReturnType<typeof startServer>> | undefined;
let browser: Browser | undefined;
let page: Page;
let headNames: string[];
let labelsOf: Record<string, string[]>;
let imagePath: string;
const problems: string[] = [];

const t = suite('web page on the real model server');

t.before(async () => {
  const modelDir = await ensureSampleModel();
  const signature = JSON.parse(readFileSync(join(modelDir, 'modelship.json'), 'utf8')) as {
    heads: { name: string; labels: string[] }[];
  };
  headNames = signature.heads.map((h) => h.name);
  labelsOf = Object.fromEntries(signature.heads.map((h) => [h.name, h.labels]));
  const generated = await generateImages({ count: 2, seed: 4242, out: join(dir, 'faces') });
  imagePath = join(generated.dir, generated.labels[0].file);
  writeFileSync(join(dir, 'corrupt.png'), Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png', 'latin1'));
  mkdirSync(credentialsDir);
  writeFileSync(join(credentialsDir, 'c1'), CREDENTIAL);
  server = await startServer(modelDir);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(msg.text());
  });
});

t.after(async () => {
  await browser?.close();
  if (server && server.child.exitCode === null) {
    const exited = new Promise((r) => server!.child.once('exit', r));
    server.child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

let predicted: PredictResponse;

t('the page shows the model, then exactly what /predict answered for an uploaded image', async () => {
  await page.goto(server!.base);
  assert.match(await page.title(), /v7/);
  const answer = page.waitForResponse((r) => r.url().endsWith('/predict'));
  await page.getByLabel('Choose an image').setInputFiles(imagePath);
  const response = await answer;
  assert.is(response.status(), 200);
  predicted = (await response.json()) as PredictResponse;
  assert.is(predicted.version, 'v7');
  await page.locator(`[data-head="${headNames[headNames.length - 1]}"]`).waitFor();

  assert.equal(
    await page.locator('[data-head]').evaluateAll((els) => els.map((e) => e.getAttribute('data-head'))),
    headNames,
  );
  for (const name of headNames) {
    const head = predicted.predictions[0].heads[name];
    assert.ok(labelsOf[name].includes(head.label), `${name} label ${head.label}`);
    const card = page.locator(`[data-head="${name}"]`);
    assert.is(await card.locator('.verdict').textContent(), `${head.label}${(head.score * 100).toFixed(1)}%`);
    for (const label of labelsOf[name]) {
      const meter = card.getByRole('meter', { name: `${name} ${label}`, exact: true });
      assert.is(await meter.getAttribute('aria-valuenow'), (head.scores[label] * 100).toFixed(1), `${name}/${label}`);
    }
  }
  assert.match((await page.locator('#status').textContent()) ?? '', /v7 answered in \d+\.\d ms/);
});

t('feedback from the page is accepted and counted in /metrics', async () => {
  const [first, second] = headNames;
  const firstLabel = predicted.predictions[0].heads[first].label;
  // The service requires its feedback credential: refused and asked for, then accepted with it.
  const correct = page.getByRole('button', { name: `${first}: "${firstLabel}" is correct` });
  await correct.click();
  await page.locator(`[data-head="${first}"] output`).filter({ hasText: 'UNAUTHENTICATED' }).waitFor();
  assert.match(
    (await page.locator(`[data-head="${first}"] output`).textContent()) ?? '',
    /Enter the feedback credential/,
  );
  await page.getByLabel('Credential').fill(CREDENTIAL);
  await correct.click();
  await page.locator(`[data-head="${first}"] output`).filter({ hasText: 'Thanks' }).waitFor();
  assert.match((await page.locator(`[data-head="${first}"] output`).textContent()) ?? '', /\(prediction was correct\)/);

  const secondPredicted = predicted.predictions[0].heads[second].label;
  const other = labelsOf[second].find((l) => l !== secondPredicted)!;
  await page.locator(`[data-head="${second}"]`).getByLabel('Right label', { exact: true }).selectOption(other);
  await page.getByRole('button', { name: `Send the right label for ${second}` }).click();
  await page.locator(`[data-head="${second}"] output`).filter({ hasText: 'Thanks' }).waitFor();
  assert.match(
    (await page.locator(`[data-head="${second}"] output`).textContent()) ?? '',
    /\(prediction was incorrect\)/,
  );

  const metrics = await (await fetch(`${server!.base}/metrics`)).text();
  const counted = (head: string, outcome: string) =>
    metrics
      .split('\n')
      .some(
        (line) =>
          line.startsWith('modelship_feedback_total{') &&
          line.includes(`head="${head}"`) &&
          line.includes(`outcome="${outcome}"`) &&
          line.includes('version="v7"') &&
          line.endsWith(' 1'),
      );
  assert.ok(
    counted(first, 'correct'),
    `correct feedback for ${first} in:\n${metrics
      .split('\n')
      .filter((l) => l.includes('feedback'))
      .join('\n')}`,
  );
  assert.ok(counted(second, 'incorrect'), `incorrect feedback for ${second}`);
  mkdirSync(join(REPO_ROOT, 'test-output'), { recursive: true });
  await page.screenshot({ path: join(REPO_ROOT, 'test-output', 'web.png'), fullPage: true });
});

t('a corrupt image shows the server error code and message', async () => {
  const answer = page.waitForResponse((r) => r.url().endsWith('/predict'));
  await page.getByLabel('Choose an image').setInputFiles(join(dir, 'corrupt.png'));
  const response = await answer;
  assert.ok(response.status() >= 400 && response.status() < 500, `status ${response.status()}`);
  const { error } = (await response.json()) as { error: { code: string; message: string } };
  const alert = page.getByRole('alert');
  await alert.waitFor();
  assert.is(await alert.textContent(), `${error.code}: ${error.message} (HTTP ${response.status()})`);
  assert.is(await page.locator('[data-head]').count(), 0, 'no stale prediction is left on screen');
  assert.equal(problems, [], 'no script errors or CSP violations in the page');
});

t.run();
