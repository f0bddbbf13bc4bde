// The serve API against the real iris-like tabular model, with a profile written by
// validate so that feature bins are counted.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateModelDir } from '../../serving/lib/validation/validate-model.js';
import { copyModel, fixtureModels, parseMetrics, startApp, type RunningApp } from './support/fixtures.js';

const test = suite('serve: tabular model');
let srv: RunningApp;
let cleanup: () => void;

test.before(async () => {
  const copy = copyModel(fixtureModels().iris);
  cleanup = copy.cleanup;
  const { profile } = await validateModelDir(copy.dir);
  writeFileSync(join(copy.dir, 'profile.json'), JSON.stringify(profile));
  srv = await startApp(copy.dir, { version: 'v3' });
});
test.after(async () => {
  await srv.close();
  cleanup();
});

const SETOSA = [5.1, 3.5, 1.4, 0.2];
const VERSICOLOR = [6.4, 3.2, 4.5, 1.5];
const VIRGINICA = [6.3, 3.3, 6.0, 2.5];

async function predict(body: unknown) {
  const res = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const species = (body: any) => body.predictions.map((p: any) => p.heads.species.label);

const predictRaw = (body: unknown) =>
  fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const infer = (row: number[]) =>
  fetch(`${srv.url}/v2/models/iris/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'features', shape: [1, 4], datatype: 'FP32', data: [row] }] }),
  });

test('the three JSON spellings of tabular input predict the known species', async () => {
  const byTensor = await predict({ inputs: { features: [SETOSA, VERSICOLOR, VIRGINICA] } });
  assert.is(byTensor.status, 200);
  assert.equal(species(byTensor.body), ['setosa', 'versicolor', 'virginica']);
  const single = await predict({ inputs: { features: VIRGINICA } });
  assert.equal(species(single.body), ['virginica']);
  const byColumn = await predict({
    inputs: { sepal_length: [5.1, 6.3], sepal_width: [3.5, 3.3], petal_length: [1.4, 6.0], petal_width: [0.2, 2.5] },
  });
  assert.equal(species(byColumn.body), ['setosa', 'virginica']);
  const byRecord = await predict({
    inputs: [{ sepal_length: 6.4, sepal_width: 3.2, petal_length: 4.5, petal_width: 1.5 }],
  });
  assert.equal(species(byRecord.body), ['versicolor']);
  const scores = byRecord.body.predictions[0].heads.species.scores;
  assert.equal(Object.keys(scores), ['setosa', 'versicolor', 'virginica']);
  assert.ok(scores.versicolor > 0.9);
});

test('wrong tensor shapes and types are 400 WRONG_TENSOR; images are 400 for a tabular model', async () => {
  const cases: Array<[string, unknown, string]> = [
    ['short row', { inputs: { features: [[1, 2, 3]] } }, 'WRONG_TENSOR'],
    ['string value', { inputs: { features: [[1, 2, 'x', 4]] } }, 'WRONG_TENSOR'],
    ['missing feature', { inputs: { sepal_length: 1, sepal_width: 2, petal_length: 3 } }, 'WRONG_TENSOR'],
    [
      'ragged columns',
      { inputs: { sepal_length: [1, 2], sepal_width: [2], petal_length: [3, 3], petal_width: [1, 1] } },
      'WRONG_TENSOR',
    ],
    ['null inputs', { inputs: null }, 'WRONG_TENSOR'],
    ['nan-ish', { inputs: { features: [[1, 2, null, 4]] } }, 'WRONG_TENSOR'],
    ['an image', { image: 'aGVsbG8=' }, 'INVALID_INPUT'],
  ];
  for (const [name, body, code] of cases) {
    const res = await predict(body);
    assert.is(res.status, 400, name);
    assert.is(res.body.error.code, code, name);
  }
});

test('values a float32 cannot hold, or that overflow the model, are 400s; the metrics stay readable', async () => {
  const cases: Array<[string, () => Promise<Response>, string, RegExp]> = [
    [
      'a feature of 1e39 (Infinity as float32)',
      () => predictRaw({ inputs: { features: [[1e39, 2, 3, 4]] } }),
      'WRONG_TENSOR',
      /finite float32 number/,
    ],
    ['an OIP FP32 value of 1e39', () => infer([1e39, 2, 3, 4]), '', /finite float32 numbers/],
    [
      'an OIP FP32 value of 3.4e38 (overflows inside the model)',
      () => infer([3.4e38, 3.4e38, 3.4e38, 3.4e38]),
      '',
      /no finite scores/,
    ],
    [
      'a feature of -3.4e38 (overflows inside the model)',
      () => predictRaw({ inputs: { features: [[-3.4e38, 3.4e38, -3.4e38, 3.4e38]] } }),
      'INVALID_INPUT',
      /no finite scores/,
    ],
  ];
  for (const [name, send, code, message] of cases) {
    const res = await send();
    const body = (await res.json()) as { error?: string | { code?: string; message?: string } };
    assert.is(res.status, 400, `${name}: ${JSON.stringify(body)}`);
    // OIP errors are a plain string; ours carry a code.
    if (typeof body.error === 'string') assert.match(body.error, message, name);
    else {
      assert.is(body.error?.code, code, name);
      assert.match(body.error?.message ?? '', message, name);
    }
  }
  const metrics = await fetch(`${srv.url}/metrics`);
  assert.is(metrics.status, 200);
  assert.not.match(await metrics.text(), /NaN/);
});

test('feature bins from profile.json and predictions are counted', async () => {
  const before = parseMetrics(await (await fetch(`${srv.url}/metrics`)).text());
  const total = (m: typeof before) =>
    [...Array(10).keys()].reduce(
      (a, bin) => a + (m('modelship_feature_bin_total', { feature: 'petal_length', bin: String(bin) }) ?? 0),
      0,
    );
  await predict({ inputs: { features: [SETOSA, [6.3, 3.3, 99, 2.5]] } });
  const after = parseMetrics(await (await fetch(`${srv.url}/metrics`)).text());
  assert.is(total(after) - total(before), 2);
  // 99 is above every reference value: it lands in the last bin.
  const lastBin = [...Array(10).keys()]
    .reverse()
    .find((b) => after('modelship_feature_bin_total', { feature: 'petal_length', bin: String(b) }) !== undefined)!;
  assert.is(
    (after('modelship_feature_bin_total', { feature: 'petal_length', bin: String(lastBin) }) ?? 0) -
      (before('modelship_feature_bin_total', { feature: 'petal_length', bin: String(lastBin) }) ?? 0),
    1,
  );
  assert.is(
    (after('modelship_predictions_total', { head: 'species', class: 'setosa' }) ?? 0) -
      (before('modelship_predictions_total', { head: 'species', class: 'setosa' }) ?? 0),
    1,
  );
});

test('GET /v2/models/<name>/profile answers the profile.json the server loaded (how the operator reads it)', async () => {
  const res = await fetch(`${srv.url}/v2/models/iris/profile`);
  assert.is(res.status, 200);
  const profile = await res.json();
  assert.match(profile.digest, /^sha256:[0-9a-f]{64}$/);
  assert.ok(profile.features.petal_length.counts.length > 0);
  assert.is((await fetch(`${srv.url}/v2/models/other/profile`)).status, 404, 'another model name');
  assert.is((await fetch(`${srv.url}/v2/models/iris/profile`, { method: 'POST' })).status, 405);
});

test('a profile.json computed for another model is ignored: no feature bins', async () => {
  const copy = copyModel(fixtureModels().iris);
  try {
    const { profile } = await validateModelDir(copy.dir);
    writeFileSync(join(copy.dir, 'profile.json'), JSON.stringify({ ...profile, digest: 'sha256:' + 'f'.repeat(64) }));
    const stale = await startApp(copy.dir);
    try {
      await fetch(`${stale.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { features: [SETOSA] } }),
      });
      const text = await (await fetch(`${stale.url}/metrics`)).text();
      assert.not.match(text, /modelship_feature_bin_total\{/);
      assert.match(text, /modelship_predictions_total\{head="species",class="setosa",model="iris",version="v1"\} 1/);
      const res = await fetch(`${stale.url}/v2/models/iris/profile`);
      assert.is(res.status, 404, "no profile served for another model's profile.json");
      assert.match((await res.json()).error, /no profile\.json/);
    } finally {
      await stale.close();
    }
  } finally {
    copy.cleanup();
  }
});

test('feedback on a tabular prediction', async () => {
  const { body } = await predict({ inputs: { features: [VIRGINICA] } });
  const res = await fetch(`${srv.url}/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ predictionId: body.predictions[0].predictionId, labels: { species: 'versicolor' } }),
  });
  assert.equal(await res.json(), { accepted: { species: 'incorrect' } });
  const m = parseMetrics(await (await fetch(`${srv.url}/metrics`)).text());
  assert.is(m('modelship_feedback_total', { version: 'v3', head: 'species', outcome: 'incorrect' }), 1);
});

test('feedback is accepted by another replica (and version) sharing the key; counted under the predicting version', async () => {
  const other = await startApp(fixtureModels().iris, { version: 'v4' });
  try {
    const { body } = await predict({ inputs: { features: [SETOSA] } });
    const send = (base: string) =>
      fetch(`${base}/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ predictionId: body.predictions[0].predictionId, labels: { species: 'setosa' } }),
      });
    assert.is((await send(other.url)).status, 200);
    const m = parseMetrics(await (await fetch(`${other.url}/metrics`)).text());
    assert.is(m('modelship_feedback_total', { version: 'v3', head: 'species', outcome: 'correct' }), 1);
    // the replica's own version only has its pre-created zero series: nothing was counted there
    assert.is(m('modelship_feedback_total', { version: 'v4', head: 'species', outcome: 'correct' }), 0);
    assert.is(m('modelship_feedback_total', { version: 'v4', head: 'species', outcome: 'incorrect' }), 0);
    const stranger = await startApp(fixtureModels().iris, { version: 'v3', feedbackKey: Buffer.alloc(32, 9) });
    try {
      assert.is((await send(stranger.url)).status, 403);
    } finally {
      await stranger.close();
    }
  } finally {
    await other.close();
  }
});

test('OIP infer with an FP32 [N, 4] tensor; metadata lists the feature tensor', async () => {
  const res = await fetch(`${srv.url}/v2/models/iris/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'features', shape: [2, 4], datatype: 'FP32', data: [SETOSA, VIRGINICA] }],
    }),
  });
  assert.is(res.status, 200);
  const out = (await res.json()).outputs[0];
  assert.is(out.name, 'species');
  assert.equal(out.shape, [2, 3]);
  const row = (i: number) => out.data.slice(i * 3, i * 3 + 3);
  assert.is(row(0).indexOf(Math.max(...row(0))), 0);
  assert.is(row(1).indexOf(Math.max(...row(1))), 2);
  const meta = await (await fetch(`${srv.url}/v2/models/iris`)).json();
  assert.equal(meta.inputs, [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }]);
  const bad = await fetch(`${srv.url}/v2/models/iris/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'features', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] }] }),
  });
  assert.is(bad.status, 400);
  assert.match((await bad.json()).error, /shape/);
});

test.run();
