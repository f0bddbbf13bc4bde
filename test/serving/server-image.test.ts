// The serve HTTP API against the real colours image model (onnxruntime + sharp): each
// endpoint, predictions on images of known classes, tokens and feedback, metrics.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  bytes,
  colourImage,
  fixtureModels,
  parseMetrics,
  startApp,
  TEST_KEY,
  type RunningApp,
} from './support/fixtures.js';
import { readArtifact } from '../../serving/lib/model/artifact.js';
import { TokenSigner } from '../../serving/lib/protocol/token.js';
import { INDEX_CONTENT_SECURITY_POLICY, WEB_PAGE } from '../../serving/web/index.js';

const test = suite('serve: image model');
let srv: RunningApp;

test.before(async () => {
  srv = await startApp(fixtureModels().colours, { name: 'colours', version: 'v7', webPage: WEB_PAGE });
});
test.after(async () => {
  await srv.close();
});

const RED: [number, number, number] = [230, 40, 40];
const DARK_BLUE: [number, number, number] = [30, 30, 140];
const BRIGHT_GREEN: [number, number, number] = [160, 250, 160];

async function postImage(body: Buffer, type = 'image/png') {
  return fetch(`${srv.url}/predict`, { method: 'POST', headers: { 'content-type': type }, body: bytes(body) });
}

async function metricsText(): Promise<string> {
  return (await fetch(`${srv.url}/metrics`)).text();
}

test('raw image/png body: a red image is "red", not bright, with all class scores', async () => {
  const res = await postImage(await colourImage(RED));
  assert.is(res.status, 200);
  assert.is(res.headers.get('x-modelship-version'), 'v7');
  const body = await res.json();
  assert.is(body.model, 'colours');
  assert.is(body.version, 'v7');
  assert.type(body.latencyMs, 'number');
  assert.is(body.predictions.length, 1);
  const heads = body.predictions[0].heads;
  assert.is(heads.dominant.label, 'red');
  assert.equal(Object.keys(heads.dominant.scores), ['red', 'green', 'blue']);
  assert.ok(Math.abs(heads.dominant.scores.red + heads.dominant.scores.green + heads.dominant.scores.blue - 1) < 1e-5);
  assert.is(heads.dominant.score, heads.dominant.scores.red);
  assert.is(heads.bright.label, 'no');
  assert.ok(heads.bright.scores.no > 0.5);
});

test('multipart upload with several files is one batch, one prediction per image, in order', async () => {
  const form = new FormData();
  form.append('file', new Blob([bytes(await colourImage(RED))], { type: 'image/png' }), 'a.png');
  form.append('file', new Blob([bytes(await colourImage(DARK_BLUE, 64, 64, 'jpeg'))], { type: 'image/jpeg' }), 'b.jpg');
  form.append('file', new Blob([bytes(await colourImage(BRIGHT_GREEN, 20, 90))], { type: 'image/png' }), 'c.png');
  const res = await fetch(`${srv.url}/predict`, { method: 'POST', body: form });
  assert.is(res.status, 200);
  const body = await res.json();
  assert.equal(
    body.predictions.map((p: any) => p.heads.dominant.label),
    ['red', 'blue', 'green'],
  );
  assert.equal(
    body.predictions.map((p: any) => p.heads.bright.label),
    ['no', 'no', 'yes'],
  );
  const ids = new Set(body.predictions.map((p: any) => p.predictionId));
  assert.is(ids.size, 3);
});

test('JSON {"image": base64} (also as a data URL) and {"images": [...]}', async () => {
  const png = await colourImage(BRIGHT_GREEN);
  for (const image of [png.toString('base64'), `data:image/png;base64,${png.toString('base64')}`]) {
    const res = await fetch(`${srv.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ image }),
    });
    assert.is(res.status, 200);
    assert.is((await res.json()).predictions[0].heads.dominant.label, 'green');
  }
  const res = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ images: [(await colourImage(DARK_BLUE)).toString('base64'), png.toString('base64')] }),
  });
  assert.equal(
    (await res.json()).predictions.map((p: any) => p.heads.dominant.label),
    ['blue', 'green'],
  );
});

test('predictionId is a token signed with the key, carrying model, version and classes', async () => {
  const body = await (await postImage(await colourImage(DARK_BLUE))).json();
  const claims = new TokenSigner(TEST_KEY, 3600).verify(body.predictions[0].predictionId);
  assert.is(claims.model, 'colours');
  assert.is(claims.version, 'v7');
  assert.equal(claims.classes, { dominant: 'blue', bright: 'no' });
  assert.ok(Math.abs(claims.issuedAt - Date.now() / 1000) < 5);
});

test('metrics: predictions per head/class, confidence, feature bins and requests increase', async () => {
  const before = parseMetrics(await metricsText());
  const redBefore =
    before('modelship_predictions_total', { head: 'dominant', class: 'red', model: 'colours', version: 'v7' }) ?? 0;
  const reqBefore = before('modelship_requests_total', { handler: 'predict', code: '200' }) ?? 0;
  const confBefore = before('modelship_prediction_confidence_count', { head: 'bright' }) ?? 0;
  await postImage(await colourImage(RED));
  await postImage(await colourImage(RED));
  const text = await metricsText();
  const after = parseMetrics(text);
  assert.is(after('modelship_predictions_total', { head: 'dominant', class: 'red' }), redBefore + 2);
  assert.is(after('modelship_requests_total', { handler: 'predict', code: '200' }), reqBefore + 2);
  assert.is(after('modelship_prediction_confidence_count', { head: 'bright' }), confBefore + 2);
  assert.ok((after('modelship_request_duration_seconds_count', { handler: 'predict' }) ?? 0) >= reqBefore + 2);
  const { digest } = await readArtifact(fixtureModels().colours);
  assert.is(after('modelship_model_info', { digest, model: 'colours', version: 'v7' }), 1);
  // Series for classes never predicted exist at 0, so ratios work from the first scrape.
  assert.is(typeof after('modelship_predictions_total', { head: 'bright', class: 'yes' }), 'number');
  assert.match(text, /modelship_predictions_total\{head="dominant",class="red",model="colours",version="v7"\}/);
});

test('feedback: correct and incorrect outcomes are counted per version and head', async () => {
  const pred = (await (await postImage(await colourImage(RED))).json()).predictions[0];
  const before = parseMetrics(await metricsText());
  const res = await fetch(`${srv.url}/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ predictionId: pred.predictionId, labels: { dominant: 'red', bright: 'yes' } }),
  });
  assert.is(res.status, 200);
  assert.equal(await res.json(), { accepted: { dominant: 'correct', bright: 'incorrect' } });
  const after = parseMetrics(await metricsText());
  const delta = (head: string, outcome: string) =>
    (after('modelship_feedback_total', { version: 'v7', head, outcome }) ?? 0) -
    (before('modelship_feedback_total', { version: 'v7', head, outcome }) ?? 0);
  assert.is(delta('dominant', 'correct'), 1);
  assert.is(delta('bright', 'incorrect'), 1);
  assert.is(delta('dominant', 'incorrect'), 0);
});

async function feedback(body: unknown, type = 'application/json') {
  const res = await fetch(`${srv.url}/feedback`, {
    method: 'POST',
    headers: { 'content-type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

test('feedback: replay is 409 and does not double count; other heads of the token stay open', async () => {
  const pred = (await (await postImage(await colourImage(DARK_BLUE))).json()).predictions[0];
  assert.is((await feedback({ predictionId: pred.predictionId, labels: { dominant: 'blue' } })).status, 200);
  const before = parseMetrics(await metricsText())('modelship_feedback_total', {
    head: 'dominant',
    outcome: 'correct',
  });
  const again = await feedback({ predictionId: pred.predictionId, labels: { dominant: 'blue' } });
  assert.is(again.status, 409);
  assert.is(again.body.error.code, 'ALREADY_COUNTED');
  assert.is(
    parseMetrics(await metricsText())('modelship_feedback_total', { head: 'dominant', outcome: 'correct' }),
    before,
  );
  assert.is((await feedback({ predictionId: pred.predictionId, labels: { bright: 'no' } })).status, 200);
});

test('feedback: forged, foreign-key, expired, malformed tokens and unknown labels are 4xx', async () => {
  const pred = (await (await postImage(await colourImage(RED))).json()).predictions[0];
  const token: string = pred.predictionId;
  const [prefix, kid, payload, sig] = token.split('.');
  const tampered = JSON.parse(Buffer.from(payload, 'base64url').toString());
  tampered.c.dominant = 'blue';
  const cases: Array<[string, unknown, number, string]> = [
    [
      'payload changed, old signature',
      {
        predictionId: `${prefix}.${kid}.${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.${sig}`,
        labels: { dominant: 'red' },
      },
      403,
      'TOKEN_FORGED',
    ],
    [
      'signed with another key',
      {
        predictionId: new TokenSigner(Buffer.alloc(32, 7), 3600).issue('colours', 'v7', { dominant: 'red' }),
        labels: { dominant: 'red' },
      },
      403,
      'TOKEN_FORGED',
    ],
    [
      'issued for another model',
      {
        predictionId: new TokenSigner(TEST_KEY, 3600).issue('other', 'v7', { dominant: 'red' }),
        labels: { dominant: 'red' },
      },
      403,
      'TOKEN_FORGED',
    ],
    [
      'expired',
      {
        predictionId: new TokenSigner(TEST_KEY, 3600).issue(
          'colours',
          'v7',
          { dominant: 'red' },
          Date.now() - 90_000_000,
        ),
        labels: { dominant: 'red' },
      },
      410,
      'TOKEN_EXPIRED',
    ],
    ['not a token', { predictionId: 'hello', labels: { dominant: 'red' } }, 400, 'TOKEN_INVALID'],
    ['unknown label', { predictionId: token, labels: { dominant: 'purple' } }, 400, 'UNKNOWN_LABEL'],
    ['unknown head', { predictionId: token, labels: { hat: 'yes' } }, 400, 'UNKNOWN_LABEL'],
    ['no labels', { predictionId: token, labels: {} }, 400, 'INVALID_INPUT'],
    ['array body', [1, 2], 400, 'INVALID_INPUT'],
  ];
  for (const [name, body, status, code] of cases) {
    const res = await feedback(body);
    assert.is(res.status, status, name);
    assert.is(res.body.error.code, code, name);
    assert.type(res.body.error.message, 'string');
  }
  // A rejected request did not consume the token.
  assert.is((await feedback({ predictionId: token, labels: { dominant: 'red' } })).status, 200);
  assert.is((await feedback('{"predictionId": 1', 'application/json')).status, 400);
  assert.is((await feedback('x', 'text/plain')).status, 415);
});

test('OIP v2: health, server and model metadata, model readiness, unknown model 404 with {"error"}', async () => {
  assert.is((await fetch(`${srv.url}/v2/health/live`)).status, 200);
  assert.is((await fetch(`${srv.url}/v2/health/ready`)).status, 200);
  assert.is((await fetch(`${srv.url}/v2/models/colours/ready`)).status, 200);
  const meta = await (await fetch(`${srv.url}/v2/models/colours`)).json();
  assert.is(meta.name, 'colours');
  assert.equal(meta.versions, ['v7']);
  assert.equal(meta.inputs, [{ name: 'image', datatype: 'FP32', shape: [-1, 3, 32, 32] }]);
  assert.equal(
    meta.outputs.map((o: any) => o.name),
    ['dominant', 'bright'],
  );
  const missing = await fetch(`${srv.url}/v2/models/nope`);
  assert.is(missing.status, 404);
  const err = await missing.json();
  assert.type(err.error, 'string');
  assert.match(err.error, /nope/);
  assert.is((await fetch(`${srv.url}/v2/models/colours/versions/v7/ready`)).status, 200);
  assert.is((await fetch(`${srv.url}/v2/models/colours/versions/v1`)).status, 404);
});

async function infer(body: unknown, model = 'colours') {
  const res = await fetch(`${srv.url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

test('OIP infer: BYTES (encoded images) return raw head outputs that decide the known classes', async () => {
  const images = [await colourImage(RED), await colourImage(BRIGHT_GREEN)].map((b) => b.toString('base64'));
  const res = await infer({
    id: 'req-1',
    inputs: [{ name: 'image_bytes', shape: [2], datatype: 'BYTES', data: images }],
  });
  assert.is(res.status, 200);
  assert.is(res.body.id, 'req-1');
  assert.is(res.body.model_name, 'colours');
  assert.is(res.body.model_version, 'v7');
  const dominant = res.body.outputs.find((o: any) => o.name === 'dominant');
  assert.equal(dominant.shape, [2, 3]);
  assert.is(dominant.datatype, 'FP32');
  const argmax = (row: number[]) => row.indexOf(Math.max(...row));
  assert.is(argmax(dominant.data.slice(0, 3)), 0);
  assert.is(argmax(dominant.data.slice(3, 6)), 1);
  const bright = res.body.outputs.find((o: any) => o.name === 'bright');
  assert.equal(bright.shape, [2, 1]);
  assert.ok(bright.data[0] < 0 && bright.data[1] > 0, 'bright logits: dark red < 0 < light green');
  assert.is(res.body.parameters.prediction_ids.length, 2);
});

test('OIP infer: UINT8 pixels in the model layout and FP32 normalised tensors; "outputs" filter', async () => {
  const plane = 32 * 32;
  const pixels = new Array(3 * plane).fill(0).map((_, i) => (i < plane ? 40 : i < 2 * plane ? 40 : 220)); // blue in NCHW
  const u8 = await infer({
    inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'UINT8', data: pixels }],
    outputs: [{ name: 'dominant' }],
  });
  assert.is(u8.status, 200);
  assert.equal(
    u8.body.outputs.map((o: any) => o.name),
    ['dominant'],
  );
  const row = u8.body.outputs[0].data;
  assert.is(row.indexOf(Math.max(...row)), 2);
  const fp32 = await infer({
    inputs: [
      { name: 'image', shape: [1, 3, 32, 32], datatype: 'FP32', data: pixels.map((p) => (p / 255 - 0.5) / 0.5) },
    ],
  });
  assert.is(fp32.status, 200);
  const f = fp32.body.outputs.find((o: any) => o.name === 'dominant').data;
  row.forEach((v: number, i: number) => assert.ok(Math.abs(v - f[i]) < 1e-3));
});

test('OIP infer errors use {"error": "..."} with 4xx: wrong shape, datatype, name, length, output', async () => {
  const cases: Array<[string, unknown, number]> = [
    [
      'wrong shape',
      { inputs: [{ name: 'image', shape: [1, 3, 16, 16], datatype: 'FP32', data: new Array(768).fill(0) }] },
      400,
    ],
    ['wrong length', { inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'FP32', data: [1, 2, 3] }] }, 400],
    [
      'wrong datatype',
      { inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'INT64', data: new Array(3072).fill(0) }] },
      400,
    ],
    [
      'uint8 out of range',
      { inputs: [{ name: 'image', shape: [1, 3, 32, 32], datatype: 'UINT8', data: new Array(3072).fill(300) }] },
      400,
    ],
    [
      'unknown input',
      { inputs: [{ name: 'pixels', shape: [1, 3, 32, 32], datatype: 'FP32', data: new Array(3072).fill(0) }] },
      400,
    ],
    [
      'unknown output',
      { inputs: [{ name: 'x', shape: [1], datatype: 'BYTES', data: ['aGVsbG8='] }], outputs: [{ name: 'nope' }] },
      400,
    ],
    ['corrupt BYTES', { inputs: [{ name: 'x', shape: [1], datatype: 'BYTES', data: ['aGVsbG8='] }] }, 400],
    ['no inputs', { inputs: [] }, 400],
  ];
  for (const [name, body, status] of cases) {
    const res = await infer(body);
    assert.is(res.status, status, name);
    assert.type(res.body.error, 'string', name);
  }
  assert.is((await infer({ inputs: [] }, 'other')).status, 404);
});

test('GET / serves the web page naming the model and its heads, with its security headers', async () => {
  const res = await fetch(`${srv.url}/`);
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  assert.is(res.headers.get('content-security-policy'), INDEX_CONTENT_SECURITY_POLICY);
  assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.is(res.headers.get('x-frame-options'), 'DENY');
  assert.is(res.headers.get('x-content-type-options'), 'nosniff');
  assert.is(res.headers.get('referrer-policy'), 'no-referrer');
  const html = await res.text();
  assert.match(html, /colours/);
  assert.match(html, /dominant/);
  for (const path of ['/readyz', '/nope'])
    assert.is((await fetch(`${srv.url}${path}`)).headers.get('x-content-type-options'), 'nosniff', path);
});

test.run();
