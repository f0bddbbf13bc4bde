// Admission control against the real `serve` process under a 1 GiB memory limit (as the
// operator passes it, MODELSHIP_MEMORY_LIMIT from the downward API): 48 uploads of ~9.4 MB held
// in flight at once. Without admission the server buffered them all (914-1,157 MiB RSS measured:
// a 1 GiB pod survives by luck); with it the excess is refused 503 + Retry-After at once, the
// server stays well inside its limit, and small predictions are still answered meanwhile.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import sharp from 'sharp';
import { colourImage, fixtureModels, parseMetrics, startServeProcess } from './support/fixtures.js';

const test = suite('serve: admission control');
const GIB = 1024 ** 3;
const UPLOADS = 48;
let child: ChildProcess;
let url = '';

test.before(async () => {
  const started = await startServeProcess(
    ['--model-dir', fixtureModels().colours, '--port', '0', '--host', '127.0.0.1'],
    { MODELSHIP_FEEDBACK_KEY: 'admission-key-0123456789abcdef', MODELSHIP_MEMORY_LIMIT: String(GIB) },
  );
  child = started.child;
  url = started.url;
});
test.after(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
});

/** Peak resident memory of the server so far (VmHWM), in bytes. */
function peakRss(pid: number): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

interface Upload {
  status: number;
  retryAfter?: string;
}

/** Sends `body` in 16 pieces over ~1.5 s, so that every upload is in flight at the same time. */
function slowUpload(body: Buffer): Promise<Upload> {
  return new Promise((resolve) => {
    const req = request(`${url}/predict`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'image/png', 'content-length': body.length },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string }));
    });
    // A reset that swallowed the answer: the test fails on it (the server lingers to prevent it).
    req.on('error', () => resolve({ status: -1 }));
    const piece = Math.ceil(body.length / 16);
    let i = 0;
    const next = () => {
      if (req.destroyed) return;
      if (i >= 16) return void req.end();
      req.write(body.subarray(i * piece, (i + 1) * piece));
      i++;
      setTimeout(next, 100);
    };
    next();
  });
}

test(`${UPLOADS} uploads of ~9.4 MB at once under a 1 GiB limit: excess refused 503 at once, RSS bounded, small predictions answered`, async () => {
  // Noise does not compress: 1,770² RGB pixels make a ~9.4 MB PNG (3.1 MP, under --max-pixels).
  const side = 1770;
  const big = await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  assert.ok(big.length > 9_000_000 && big.length < 10 * 1024 * 1024, `upload of ${big.length} bytes`);
  const small = await colourImage([200, 30, 30]);

  const started = performance.now();
  const uploads = Promise.all(Array.from({ length: UPLOADS }, () => slowUpload(big)));
  const smallAnswers: number[] = [];
  const smallLatencies: number[] = [];
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const t0 = performance.now();
    const res = await fetch(`${url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: new Uint8Array(small),
    });
    await res.arrayBuffer();
    smallAnswers.push(res.status);
    smallLatencies.push(performance.now() - t0);
  }
  const results = await uploads;
  const seconds = (performance.now() - started) / 1000;

  const byStatus: Record<string, number> = {};
  for (const r of results) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
  const refused = results.filter((r) => r.status === 503);
  const peak = peakRss(child.pid!);
  const picture = `statuses ${JSON.stringify(byStatus)}, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB, small ${JSON.stringify(smallAnswers)} in ${smallLatencies.map((l) => l.toFixed(0)).join('/')} ms, ${seconds.toFixed(1)} s`;
  console.log(`  admission: ${picture}`);

  assert.is(child.exitCode, null, `the server is still running: ${picture}`);
  assert.ok(refused.length > 0, `some uploads refused: ${picture}`);
  assert.ok(
    refused.every((r) => r.retryAfter === '1'),
    'each refusal says when to retry',
  );
  assert.ok((byStatus['200'] ?? 0) > 0, `the admitted uploads are answered: ${picture}`);
  // The refusal comes before the body is read; the server keeps discarding the rest of it for
  // a while before closing, so that no reset destroys the 503 before the client reads it.
  assert.is(byStatus['200'] + refused.length, UPLOADS, `every upload answered: ${picture}`);
  assert.ok(
    smallAnswers.every((s) => s === 200),
    `small predictions answered throughout: ${picture}`,
  );
  // Held bodies take a fifth of the limit (twice over while joined); model, runtime and decoding
  // take the rest. Three quarters leaves the headroom the budget is for.
  assert.ok(peak < 0.75 * GIB, `peak RSS within three quarters of the limit: ${picture}`);

  const metrics = parseMetrics(await (await fetch(`${url}/metrics`)).text());
  assert.is(metrics('modelship_requests_refused_total', { handler: 'predict' }), refused.length);
  assert.is(
    metrics('modelship_requests_total', { handler: 'predict', code: '503' }),
    0,
    'a refusal is capacity, not the model failing: not in the requests the analysis reads',
  );
  assert.is(metrics('modelship_model_errors_total', { reason: 'overloaded' }), undefined);
});

test.run();
