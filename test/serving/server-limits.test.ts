// Limits, errors, readiness and graceful drain: each maps to one documented 4xx/503 code.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Agent, request } from 'node:http';
import sharp from 'sharp';
import { readArtifact } from '../../serving/lib/model/artifact.js';
import { Model } from '../../serving/lib/model/onnx-model.js';
import {
  bytes,
  colourImage,
  fixtureModels,
  parseMetrics,
  pngClaimingSize,
  startApp,
  type RunningApp,
} from './support/fixtures.js';

const test = suite('serve: limits and errors');
let srv: RunningApp;

test.before(async () => {
  srv = await startApp(fixtureModels().colours, {
    limits: { maxBodyBytes: 200_000, maxPixels: 1_000_000, maxImages: 3, requestTimeoutMs: 1500 },
  });
});
test.after(async () => {
  await srv.close();
});

async function post(path: string, body: Uint8Array<ArrayBuffer> | string, type?: string) {
  const res = await fetch(`${srv.url}${path}`, { method: 'POST', headers: type ? { 'content-type': type } : {}, body });
  return { status: res.status, body: await res.json() };
}

test('each limit and bad input gets its status and error code', async () => {
  const red = await colourImage([230, 40, 40]);
  const big = await sharp({ create: { width: 1100, height: 1000, channels: 3, background: '#888' } })
    .jpeg({ quality: 10 })
    .toBuffer();
  const svg = Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
  );
  const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, string]> = [
    [
      'body over max-body-bytes',
      () => post('/predict', bytes(Buffer.alloc(300_000, 1)), 'image/png'),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    ['real image over max-pixels', () => post('/predict', bytes(big), 'image/jpeg'), 413, 'TOO_MANY_PIXELS'],
    [
      'header claims 100k x 100k (bomb)',
      () => post('/predict', bytes(pngClaimingSize(100_000, 100_000)), 'image/png'),
      413,
      'TOO_MANY_PIXELS',
    ],
    [
      'too many images',
      () => post('/predict', JSON.stringify({ images: new Array(4).fill(red.toString('base64')) }), 'application/json'),
      413,
      'PAYLOAD_TOO_LARGE',
    ],
    [
      'unsupported content type',
      () => post('/predict', 'a=b', 'application/x-www-form-urlencoded'),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['no content type', () => post('/predict', bytes(red)), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['svg is not decoded', () => post('/predict', bytes(svg), 'image/svg+xml'), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [
      'corrupt image',
      () => post('/predict', bytes(Buffer.from('not an image at all')), 'image/png'),
      400,
      'CORRUPT_IMAGE',
    ],
    [
      'truncated png',
      () => post('/predict', bytes(red.subarray(0, red.length >> 1)), 'image/png'),
      400,
      'CORRUPT_IMAGE',
    ],
    ['empty body', () => post('/predict', '', 'image/png'), 400, 'CORRUPT_IMAGE'],
    ['bad JSON', () => post('/predict', '{"image":', 'application/json'), 400, 'INVALID_INPUT'],
    ['JSON of the wrong shape', () => post('/predict', '{"picture": "x"}', 'application/json'), 400, 'INVALID_INPUT'],
    ['bad base64', () => post('/predict', '{"image": "%%%"}', 'application/json'), 400, 'INVALID_INPUT'],
    [
      'tensor inputs to an image model',
      () => post('/predict', '{"inputs": {"x": [1]}}', 'application/json'),
      400,
      'INVALID_INPUT',
    ],
    [
      'multipart without a file part',
      () =>
        post(
          '/predict',
          '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n1\r\n--b--\r\n',
          'multipart/form-data; boundary=b',
        ),
      400,
      'INVALID_INPUT',
    ],
    ['multipart without boundary', () => post('/predict', 'x', 'multipart/form-data'), 400, 'INVALID_INPUT'],
    [
      'unknown route',
      async () => {
        const r = await fetch(`${srv.url}/nope`);
        return { status: r.status, body: await r.json() };
      },
      404,
      'NOT_FOUND',
    ],
    [
      'wrong method',
      async () => {
        const r = await fetch(`${srv.url}/predict`);
        return { status: r.status, body: await r.json() };
      },
      405,
      'METHOD_NOT_ALLOWED',
    ],
  ];
  for (const [name, send, status, code] of cases) {
    const res = await send();
    assert.is(res.status, status, name);
    assert.is(res.body.error?.code, code, name);
    assert.type(res.body.error.message, 'string', name);
  }
});

test('keep-alive stays for answered requests; a refused body closes the connection', async () => {
  const ok = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: bytes(await colourImage([1, 2, 3])),
  });
  await ok.text();
  assert.is(ok.headers.get('connection'), 'keep-alive');
  const tooBig = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: bytes(Buffer.alloc(300_000, 1)),
  });
  await tooBig.text();
  assert.is(tooBig.status, 413);
  assert.is(tooBig.headers.get('connection'), 'close');
});

test('a client that stops sending its body gets 408 REQUEST_TIMEOUT', async () => {
  const url = new URL(srv.url);
  const result = await new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/predict',
        method: 'POST',
        headers: { 'content-type': 'image/png', 'content-length': 1000 },
      },
      (res) => {
        let data = '';
        res.on('data', (d) => {
          data += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
      },
    );
    req.on('error', reject);
    req.write(Buffer.alloc(10));
  });
  assert.is(result.status, 408);
  assert.is(result.body.error.code, 'REQUEST_TIMEOUT');
});

test('an answer not ready within the deadline is 503 DEADLINE_EXCEEDED (overload), and the server carries on', async () => {
  const dir = fixtureModels().colours;
  const slow = await startApp(dir, { limits: { requestTimeoutMs: 400 } }, false);
  const real = await Model.fromArtifact(await readArtifact(dir));
  let delayMs = 1500;
  // The real model, answering late: stands in for an overloaded node.
  const late = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'predict')
        return async (input: Float32Array, dims: number[]) => {
          await new Promise((r) => setTimeout(r, delayMs));
          return target.predict(input, dims);
        };
      return Reflect.get(target, prop, receiver);
    },
  });
  slow.app.setModel(late);
  try {
    const png = bytes(await colourImage([200, 20, 20]));
    const res = await fetch(`${slow.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: png,
    });
    assert.is(res.status, 503);
    assert.is((await res.json()).error.code, 'DEADLINE_EXCEEDED');
    await new Promise((r) => setTimeout(r, 1500));
    const counted = (await (await fetch(`${slow.url}/metrics`)).text()).match(
      /modelship_predictions_total\{head="dominant",class="red"[^}]*\} (\d+)/,
    )?.[1];
    assert.is(counted, '0', 'a late answer is not counted as a prediction');
    delayMs = 0;
    const ok = await fetch(`${slow.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: png,
    });
    assert.is(ok.status, 200);
  } finally {
    await slow.close();
  }
});

test('a request whose deadline passes while its images decode is never run through the model', async () => {
  const dir = fixtureModels().colours;
  // 60 ms against eight 20-megapixel images (about 40 ms each to decode): the deadline
  // answers while they decode; the model must not then be run for nobody.
  const slow = await startApp(dir, { limits: { requestTimeoutMs: 60 } }, false);
  const real = await Model.fromArtifact(await readArtifact(dir));
  let runs = 0;
  slow.app.setModel(
    new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'predict')
          return (input: Float32Array, dims: number[]) => {
            runs++;
            return target.predict(input, dims);
          };
        return Reflect.get(target, prop, receiver);
      },
    }),
  );
  try {
    const huge = await sharp({ create: { width: 4500, height: 4500, channels: 3, background: '#c02020' } })
      .png()
      .toBuffer();
    const form = new FormData();
    for (let i = 0; i < 8; i++) form.append('file', new Blob([bytes(huge)], { type: 'image/png' }), `${i}.png`);
    const res = await fetch(`${slow.url}/predict`, { method: 'POST', body: form });
    const body = await res.json();
    assert.is(res.status, 503, JSON.stringify(body));
    assert.is(body.error.code, 'DEADLINE_EXCEEDED');
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(runs, 0, 'the model was run for a request already answered');
  } finally {
    await slow.close();
  }
});

test('model errors are counted by reason', async () => {
  await post('/predict', bytes(Buffer.from('garbage')), 'image/png');
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  assert.match(text, /modelship_model_errors_total\{reason="corrupt_image",model="colours",version="v1"\} [1-9]/);
  assert.match(text, /modelship_requests_total\{handler="predict",code="400",model="colours",version="v1"\} [1-9]/);
});

test('readiness is 503 until the model is loaded; predict is 503 NOT_READY meanwhile', async () => {
  const dir = fixtureModels().colours;
  const pending = await startApp(dir, {}, false);
  try {
    assert.is((await fetch(`${pending.url}/v2/health/live`)).status, 200);
    assert.is((await fetch(`${pending.url}/v2/health/ready`)).status, 503);
    assert.is((await fetch(`${pending.url}/v2/models/colours/ready`)).status, 503);
    const res = await fetch(`${pending.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'image/png' },
      body: bytes(await colourImage([1, 2, 3])),
    });
    assert.is(res.status, 503);
    assert.is((await res.json()).error.code, 'NOT_READY');
    pending.app.setModel(await Model.fromArtifact(await readArtifact(dir)));
    assert.is((await fetch(`${pending.url}/v2/health/ready`)).status, 200);
  } finally {
    await pending.close();
  }
});

test('drain: in-flight requests finish, readiness turns 503, then the port closes', async () => {
  const d = await startApp(fixtureModels().colours, { limits: { requestTimeoutMs: 5000 } });
  const url = new URL(d.url);
  const png = await colourImage([30, 30, 200]);
  // A request whose body arrives slowly is in flight when the drain starts.
  const inflight = new Promise<{ status: number; body: any }>((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/predict',
        method: 'POST',
        headers: { 'content-type': 'image/png', 'content-length': png.length },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => {
          data += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
      },
    );
    req.on('error', reject);
    req.write(png.subarray(0, 10));
    setTimeout(() => req.end(png.subarray(10)), 300);
  });
  await new Promise((r) => setTimeout(r, 100));
  const drained = d.app.drain(3000);
  assert.is(d.app.ready, false);
  const res = await inflight;
  assert.is(res.status, 200);
  assert.is(res.body.predictions[0].heads.dominant.label, 'blue');
  await drained;
  await fetch(`${d.url}/v2/health/live`).then(
    () => assert.unreachable('port still open'),
    () => undefined,
  );
});

/** POST /predict through `agent`: status, Connection header and the dominant label. */
function predictVia(
  agent: Agent,
  url: URL,
  png: Buffer,
): Promise<{ status: number; connection?: string; label?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        path: '/predict',
        method: 'POST',
        headers: { 'content-type': 'image/png' },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => {
          data += c;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            connection: res.headers.connection,
            label: JSON.parse(data).predictions?.[0].heads.dominant.label,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(png);
  });
}

// After SIGTERM a real cluster keeps sending for a while: kube-proxy and the router's pooled
// keep-alive connections learn of the terminating pod late. Those requests must be answered
// (and told to reconnect elsewhere), not refused as the version's server errors.
test('draining: a request on a kept-alive connection is still answered, with Connection: close', async () => {
  const d = await startApp(fixtureModels().colours);
  const url = new URL(d.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const png = await colourImage([30, 30, 200]);
  try {
    const before = await predictVia(agent, url, png);
    assert.equal(before, { status: 200, connection: 'keep-alive', label: 'blue' });
    d.app.startDraining();
    assert.is((await fetch(`${d.url}/v2/health/ready`)).status, 503);
    const during = await predictVia(agent, url, png);
    assert.equal(during, { status: 200, connection: 'close', label: 'blue' });
    const metric = parseMetrics(await (await fetch(`${d.url}/metrics`)).text());
    assert.is(metric('modelship_requests_total', { handler: 'predict', code: '200' }), 2);
    assert.is(metric('modelship_requests_total', { handler: 'predict', code: '503' }) ?? 0, 0);
  } finally {
    agent.destroy();
    await d.close();
  }
});

test.run();
