// Fuzz: the real `serve` process (serving/main.ts) gets 1,050 malformed requests — random
// bytes, truncated and bit-flipped images, wrong JSON shapes, huge dimension headers, wrong
// content types, broken multipart, bogus OIP tensors and tokens. It must never answer 5xx
// (except 503), never crash, still predict correctly afterwards, and exit 0 on SIGTERM.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ChildProcess } from 'node:child_process';
import { bytes, colourImage, fixtureModels, pngClaimingSize, startServeProcess } from './support/fixtures.js';

const test = suite('fuzz');
let child: ChildProcess;
let url = '';
let log: () => string = () => '';

test.before(async () => {
  const started = await startServeProcess(
    [
      '--model-dir',
      fixtureModels().colours,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--max-body-bytes',
      '2000000',
      '--max-pixels',
      '4000000',
      '--request-timeout-ms',
      '5000',
      '--intra-op-threads',
      '1',
    ],
    { MODELSHIP_FEEDBACK_KEY: 'fuzz-key-0123456789abcdef', MODELSHIP_MODEL_VERSION: 'v9' },
  );
  child = started.child;
  url = started.url;
  log = started.log;
});
test.after(() => {
  if (child.exitCode === null) child.kill('SIGKILL');
  if (process.env.FUZZ_LOG) console.log(log());
});

/** Deterministic PRNG (mulberry32) so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Case {
  path: string;
  type?: string;
  body: Buffer | string;
}

function makeCases(n: number, seed: number, png: Buffer, jpeg: Buffer): Case[] {
  const r = rng(seed);
  const int = (max: number) => Math.floor(r() * max);
  const pick = <T>(xs: T[]): T => xs[int(xs.length)];
  const randomBytes = (len: number) => Buffer.from(Array.from({ length: len }, () => int(256)));
  const types = [
    undefined,
    'image/png',
    'image/jpeg',
    'image/gif',
    'application/json',
    'text/plain',
    'application/octet-stream',
    'multipart/form-data; boundary=xyz',
    'multipart/form-data',
    'application/x-www-form-urlencoded',
    'image/svg+xml',
    'application/json; charset=utf-8',
    '*/*',
    'image',
  ];
  const randomJson = (depth: number): unknown => {
    const k = int(depth > 2 ? 4 : 7);
    if (k === 0) return r() * 1e6 - 5e5;
    if (k === 1) return pick(['', 'x', 'aGVsbG8=', '%%%', 'data:image/png;base64,AAAA', '\u0000', 'null']);
    if (k === 2) return pick([null, true, false, -1, 1e308, 0]);
    if (k === 3) return [];
    if (k === 4) return Array.from({ length: int(4) }, () => randomJson(depth + 1));
    return Object.fromEntries(
      Array.from({ length: int(4) }, () => [
        pick([
          'image',
          'images',
          'inputs',
          'features',
          'predictionId',
          'labels',
          'name',
          'shape',
          'datatype',
          'data',
          'x',
        ]),
        randomJson(depth + 1),
      ]),
    );
  };
  const flip = (b: Buffer) => {
    const c = Buffer.from(b);
    for (let i = 0; i < 1 + int(20); i++) c[8 + int(c.length - 8)] = int(256);
    return c;
  };
  const generators: Array<() => Case> = [
    () => ({ path: '/predict', type: pick(types), body: randomBytes(int(3000)) }),
    () => ({
      path: '/predict',
      type: pick(['image/png', 'application/octet-stream']),
      body: png.subarray(0, int(png.length)),
    }),
    () => ({ path: '/predict', type: 'image/jpeg', body: jpeg.subarray(0, int(jpeg.length)) }),
    () => ({ path: '/predict', type: pick(['image/png', 'image/jpeg']), body: flip(pick([png, jpeg])) }),
    () => ({ path: '/predict', type: 'image/png', body: pngClaimingSize(2001 + int(900_000), 2001 + int(900_000)) }),
    () => ({ path: '/predict', type: pick(['application/json', 'text/plain']), body: JSON.stringify(randomJson(0)) }),
    () => ({
      path: '/predict',
      type: 'application/json',
      body: JSON.stringify({ [pick(['image', 'images', 'inputs'])]: randomJson(1) }),
    }),
    () => ({
      path: '/predict',
      type: 'application/json',
      body: JSON.stringify({
        images: [png.subarray(0, int(png.length)).toString('base64'), randomBytes(50).toString('base64')],
      }),
    }),
    () => ({
      path: '/predict',
      type: 'multipart/form-data; boundary=xyz',
      body: `--xyz\r\nContent-Disposition: form-data; name="${pick(['file', 'f', ''])}"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n${randomBytes(int(200)).toString('latin1')}${pick(['\r\n--xyz--\r\n', '', '\r\n--xy'])}`,
    }),
    () => ({
      path: '/predict',
      type: 'multipart/form-data; boundary=xyz',
      body: Buffer.concat([
        Buffer.from('--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'),
        flip(png),
        Buffer.from('\r\n--xyz--\r\n'),
      ]),
    }),
    () => ({
      path: '/v2/models/colours/infer',
      type: pick(['application/json', undefined, 'text/plain']),
      body: JSON.stringify({
        inputs: [
          {
            name: pick(['image', 'x']),
            shape: Array.from({ length: int(5) }, () => int(40) - 2),
            datatype: pick(['FP32', 'UINT8', 'BYTES', 'INT8', 'FP64', 7]),
            data: randomJson(1),
          },
        ],
        outputs: pick([undefined, [{ name: 'dominant' }], [{}], 'x']),
      }),
    }),
    () => ({ path: '/v2/models/colours/infer', type: 'application/json', body: JSON.stringify(randomJson(0)) }),
    () => ({
      path: pick(['/v2/models/colours/infer', '/v2/models/other/infer', '/v2/models/%zz/infer']),
      type: 'application/json',
      body: randomBytes(int(500)),
    }),
    () => ({
      path: '/feedback',
      type: pick(['application/json', 'text/plain']),
      body: JSON.stringify({
        predictionId: pick([
          randomBytes(40).toString('base64url'),
          `v1.${randomBytes(30).toString('base64url')}.${randomBytes(32).toString('base64url')}`,
          'v1..',
          'v1.e30.',
          randomJson(2),
        ]),
        labels: randomJson(1),
      }),
    }),
    () => ({ path: '/feedback', type: 'application/json', body: randomBytes(int(300)) }),
    () => ({ path: pick(['/predict', '/feedback', '/v2/models/colours/infer']), type: pick(types), body: '' }),
  ];
  return Array.from({ length: n }, () => pick(generators)());
}

test('1,050 malformed requests: only 4xx or 503, the server survives and still predicts', async () => {
  const png = await colourImage([200, 30, 30], 64, 64);
  const jpeg = await colourImage([30, 30, 200], 64, 64, 'jpeg');
  const cases = makeCases(1050, 20261122, png, jpeg);
  const statuses = new Map<number, number>();
  const bad: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i];
      const res = await fetch(url + c.path, {
        method: 'POST',
        headers: c.type ? { 'content-type': c.type } : {},
        body: typeof c.body === 'string' ? c.body : bytes(c.body),
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if ((res.status >= 500 && res.status !== 503) || (res.status < 400 && res.status !== 200))
        bad.push(`case ${i} ${c.path} ${c.type}: ${res.status} ${text.slice(0, 200)}`);
      if (res.status >= 400) {
        const body = JSON.parse(text);
        const ok = c.path.startsWith('/v2') ? typeof body.error === 'string' : typeof body.error?.code === 'string';
        if (!ok) bad.push(`case ${i}: error body has the wrong shape: ${text.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  assert.equal(bad, [], bad.slice(0, 5).join('\n'));
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  assert.is(total, 1050);
  assert.ok((statuses.get(400) ?? 0) > 250, `statuses: ${JSON.stringify([...statuses])}`);
  assert.ok(
    (statuses.get(413) ?? 0) > 10,
    `huge dimension headers are refused as too many pixels: ${JSON.stringify([...statuses])}`,
  );
  assert.is(child.exitCode, null, 'server still running');
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: bytes(png),
  });
  assert.is(res.status, 200);
  assert.is((await res.json()).predictions[0].heads.dominant.label, 'red');
});

test('identity from env and flags: version header, process metrics labelled model and version', async () => {
  const res = await fetch(`${url}/v2/health/ready`);
  assert.is(res.headers.get('x-modelship-version'), 'v9');
  const text = await (await fetch(`${url}/metrics`)).text();
  assert.match(text, /process_resident_memory_bytes\{model="colours",version="v9"\} \d+/);
  assert.match(text, /modelship_model_errors_total\{reason="corrupt_image",model="colours",version="v9"\} [1-9]/);
});

test('SIGTERM: not ready at once, still predicting for the shutdown delay, then exits 0', async () => {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const sent = Date.now();
  child.kill('SIGTERM');
  const waitFor503 = async (): Promise<void> => {
    if ((await fetch(`${url}/v2/health/ready`)).status === 503) return;
    await new Promise((r) => setTimeout(r, 20));
    return waitFor503();
  };
  await waitFor503();
  const png = await colourImage([230, 40, 40]);
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: bytes(png),
  });
  assert.is(res.status, 200);
  assert.is(res.headers.get('connection'), 'close');
  assert.is((await res.json()).predictions[0].heads.dominant.label, 'red');
  assert.is(await exited, 0);
  // The default delay (5 s) passed before the listener closed.
  assert.ok(Date.now() - sent >= 4900, `exited ${Date.now() - sent} ms after SIGTERM`);
});

test.run();
