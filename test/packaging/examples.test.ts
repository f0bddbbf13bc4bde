// The example data generators and trainers: deterministic labelled data, and trainers whose
// output honours the model artifact contract (checked with the real onnxruntime-node and
// sharp that serving uses), including the deliberately bad and skewed variants.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import {
  ensureSampleModel,
  ensureTabularModel,
  generateImages,
  PYTHON,
  readLabels,
  REPO_ROOT,
  type LabelledImage,
} from '../support/models.js';

const IMAGE_TRAINER = join(REPO_ROOT, 'examples/trainers/image-classifier/train.py');
const GENERATOR = join(REPO_ROOT, 'examples/datasets/face_attributes.py');
const FACE_HEADS: Record<string, string[]> = {
  beard: ['no', 'yes'],
  mustache: ['no', 'yes'],
  glasses: ['no', 'yes'],
  hair_length: ['short', 'medium', 'long'],
  hair_color: ['black', 'brown', 'blond', 'red', 'gray'],
};

interface Head {
  name: string;
  tensor: string;
  type: 'binary' | 'multiclass';
  labels: string[];
  activation: string;
}
interface ImageInput {
  kind: 'image';
  tensor: string;
  width: number;
  height: number;
  channels: number;
  layout: string;
  dtype: string;
  scale: number;
  mean: number[];
  std: number[];
  resize: string;
}
interface Signature {
  schemaVersion: number;
  name: string;
  input: ImageInput | { kind: 'tensor'; tensor: string; dtype: string; features: string[] };
  heads: Head[];
}
interface Metrics {
  schemaVersion: number;
  heads: Record<string, { accuracy: number; loss: number }>;
  accuracy: number;
  hyperparameters: Record<string, string>;
  dataset: { uri: string; digest: string };
  epochs: number;
}

let scratch = '';
const tmp = (name: string) => join(scratch, name);

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}
function runProcess(cmd: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function train(args: string[], env: Record<string, string> = {}, trainer = IMAGE_TRAINER) {
  const termination = tmp(`termination-${Math.random().toString(36).slice(2)}`);
  const result = await runProcess(PYTHON, [trainer, ...args], { TERMINATION_MESSAGE_PATH: termination, ...env });
  const message = existsSync(termination) ? await readFile(termination, 'utf8') : '';
  return { ...result, message };
}

const readJson = async <T>(path: string): Promise<T> => JSON.parse(await readFile(path, 'utf8')) as T;
const sha256 = async (path: string) =>
  'sha256:' +
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/** The pre-processing the signature declares, done the way a server would: sharp decode, NCHW. */
async function imageBatch(dir: string, files: string[], input: ImageInput): Promise<ort.Tensor> {
  const { width: w, height: h, scale, mean, std } = input;
  const data = new Float32Array(files.length * 3 * w * h);
  await Promise.all(
    files.map(async (file, n) => {
      const px = await sharp(join(dir, file)).removeAlpha().resize(w, h, { fit: 'fill' }).raw().toBuffer();
      for (let i = 0; i < w * h; i++) {
        for (let c = 0; c < 3; c++) data[n * 3 * w * h + c * w * h + i] = (px[i * 3 + c] * scale - mean[c]) / std[c];
      }
    }),
  );
  return new ort.Tensor('float32', data, [files.length, 3, h, w]);
}

function predictedLabel(head: Head, out: ort.Tensor, row: number): string {
  const values = out.data as Float32Array;
  if (head.type === 'binary' && out.dims[1] === 1) return head.labels[values[row] > 0 ? 1 : 0];
  const k = Number(out.dims[1]);
  let best = 0;
  for (let j = 1; j < k; j++) if (values[row * k + j] > values[row * k + best]) best = j;
  return head.labels[best];
}

/** Per-head accuracy of a model on its own reference/ sample through the serving-style path. */
async function servingAccuracy(modelDir: string): Promise<{ heads: Record<string, number>; mean: number }> {
  const sig = await readJson<Signature>(join(modelDir, 'modelship.json'));
  const refDir = join(modelDir, 'reference');
  const rows = await readLabels<LabelledImage>(refDir);
  const session = await ort.InferenceSession.create(join(modelDir, 'model.onnx'));
  const input = await imageBatch(
    refDir,
    rows.map((r) => r.file),
    sig.input as ImageInput,
  );
  const outputs = await session.run({ [sig.input.tensor]: input });
  const heads: Record<string, number> = {};
  for (const head of sig.heads) {
    const correct = rows.filter((r, i) => predictedLabel(head, outputs[head.tensor], i) === r.labels[head.name]).length;
    heads[head.name] = correct / rows.length;
  }
  const values = Object.values(heads);
  return { heads, mean: values.reduce((a, b) => a + b, 0) / values.length };
}

test.before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'modelship-examples-'));
});

test.after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('generator: same seed gives identical files, labels are balanced per head', async () => {
  const [a, b] = await Promise.all([
    generateImages({ count: 45, seed: 5, out: tmp('gen-a') }),
    generateImages({ count: 45, seed: 5, out: tmp('gen-b') }),
  ]);
  assert.equal(a.labels, b.labels);
  assert.is(a.labels.length, 45);
  for (const row of a.labels.slice(0, 5)) {
    assert.ok((await readFile(join(a.dir, row.file))).equals(await readFile(join(b.dir, row.file))), row.file);
  }
  const manifestA = await readJson<{ digest: string; heads: { name: string; labels: string[] }[]; count: number }>(
    join(a.dir, 'dataset.json'),
  );
  assert.is(manifestA.digest, (await readJson<{ digest: string }>(join(b.dir, 'dataset.json'))).digest);
  assert.equal(Object.fromEntries(manifestA.heads.map((h) => [h.name, h.labels])), FACE_HEADS);
  for (const [head, labels] of Object.entries(FACE_HEADS)) {
    const counts = labels.map((l) => a.labels.filter((r) => r.labels[head] === l).length);
    assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `${head} counts ${counts.join('/')}`);
  }
  const other = await generateImages({ count: 45, seed: 6, out: tmp('gen-c') });
  assert.is.not((await readJson<{ digest: string }>(join(other.dir, 'dataset.json'))).digest, manifestA.digest);
});

test('generator: shift knobs move the pixels the way they are documented', async () => {
  const base = await generateImages({ count: 8, seed: 9, out: tmp('shift-base') });
  const dark = await generateImages({ count: 8, seed: 9, out: tmp('shift-dark'), shift: { lighting: 0.5 } });
  const warm = await generateImages({ count: 8, seed: 9, out: tmp('shift-warm'), shift: 'palette=warm' });
  const big = await generateImages({ count: 2, seed: 9, out: tmp('big'), size: 256, format: 'jpg' });
  assert.equal(dark.labels, base.labels, 'a shift changes the pixels, never the labels');
  const means = async (dir: string, files: LabelledImage[]) => {
    const stats = await Promise.all(files.map((f) => sharp(join(dir, f.file)).stats()));
    return [0, 1, 2].map((c) => stats.reduce((s, st) => s + st.channels[c].mean, 0) / stats.length);
  };
  const [b, d, w] = await Promise.all([
    means(base.dir, base.labels),
    means(dark.dir, dark.labels),
    means(warm.dir, warm.labels),
  ]);
  assert.ok(d[0] + d[1] + d[2] < 0.7 * (b[0] + b[1] + b[2]), `lighting=0.5 darkens: ${d} vs ${b}`);
  assert.ok(w[0] / w[2] > 1.2 * (b[0] / b[2]), `palette=warm shifts red over blue: ${w} vs ${b}`);
  const meta = await sharp(join(big.dir, big.labels[0].file)).metadata();
  assert.equal([meta.format, meta.width, meta.height], ['jpeg', 256, 256]);
  const bad = await runProcess(PYTHON, [GENERATOR, '--out', tmp('bad'), '--count', '2', '--shift', 'fog=1']);
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /unknown shift knob 'fog'/);
});

test('image trainer: generates its data when asked and writes the complete artifact contract', async () => {
  const out = tmp('contract-model');
  const run = await train(['--width=4', '--reference_size=40', '--batch-size', '32'], {
    DATASET_URI: `file://${tmp('contract-data')}`,
    OUTPUT_URI: out,
    GENERATE_DATA: '1',
    GENERATE_COUNT: '200',
    HP_EPOCHS: '2',
    HP_SEED: '3',
  });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /^epoch=1 loss=[\d.]+ acc=[\d.]+ val_loss=[\d.]+ val_acc=[\d.]+/m);
  assert.ok(existsSync(join(tmp('contract-data'), 'dataset.json')), 'data set generated into the empty directory');

  const sig = await readJson<Signature>(join(out, 'modelship.json'));
  assert.is(sig.schemaVersion, 1);
  assert.is(sig.name, 'face-attributes');
  assert.equal(sig.input, {
    kind: 'image',
    tensor: 'image',
    width: 64,
    height: 64,
    channels: 3,
    layout: 'NCHW',
    dtype: 'float32',
    scale: 1 / 255,
    mean: [0.5, 0.5, 0.5],
    std: [0.5, 0.5, 0.5],
    resize: 'fill',
  });
  assert.equal(
    sig.heads.map((h) => [h.name, h.tensor, h.labels]),
    Object.entries(FACE_HEADS).map(([n, l]) => [n, n, l]),
  );
  assert.equal(
    sig.heads.map((h) => `${h.type}/${h.activation}`),
    ['binary/sigmoid', 'binary/sigmoid', 'binary/sigmoid', 'multiclass/softmax', 'multiclass/softmax'],
  );

  const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
  assert.equal([...session.inputNames], ['image']);
  assert.equal([...session.outputNames], Object.keys(FACE_HEADS));
  const refRows = await readLabels<LabelledImage>(join(out, 'reference'));
  assert.is(refRows.length, 40);
  for (const batch of [1, 3]) {
    const input = await imageBatch(
      join(out, 'reference'),
      refRows.slice(0, batch).map((r) => r.file),
      sig.input as ImageInput,
    );
    const result = await session.run({ image: input });
    assert.equal(result.beard.dims, [batch, 1]);
    assert.equal(result.hair_color.dims, [batch, 5]);
  }

  const metrics = await readJson<Metrics>(join(out, 'metrics.json'));
  const dataset = await readJson<{ digest: string }>(join(tmp('contract-data'), 'dataset.json'));
  assert.equal(Object.keys(metrics.heads), Object.keys(FACE_HEADS));
  const mean = Object.values(metrics.heads).reduce((s, h) => s + h.accuracy, 0) / 5;
  assert.ok(Math.abs(metrics.accuracy - mean) < 1e-5);
  for (const h of Object.values(metrics.heads)) assert.ok(h.accuracy >= 0 && h.accuracy <= 1 && h.loss > 0);
  assert.equal(
    [
      metrics.hyperparameters.epochs,
      metrics.hyperparameters.width,
      metrics.hyperparameters.batch_size,
      metrics.hyperparameters.seed,
    ],
    ['2', '4', '32', '3'],
  );
  assert.equal(metrics.dataset, { uri: `file://${tmp('contract-data')}`, digest: dataset.digest });
  assert.ok(metrics.epochs >= 1 && metrics.epochs <= 2);

  assert.ok(Buffer.byteLength(run.message) <= 4096);
  const message = JSON.parse(run.message) as {
    artifact: { uri: string; digest: string };
    metrics: Record<string, number>;
    epochs: number;
  };
  assert.equal(message.artifact, { uri: out, digest: await sha256(join(out, 'model.onnx')) });
  assert.is(message.metrics.accuracy, metrics.accuracy);
  assert.is(message.metrics['hair_color.accuracy'], metrics.heads.hair_color.accuracy);
  assert.is(message.epochs, metrics.epochs);
  for (const row of refRows) assert.ok((await stat(join(out, 'reference', row.file))).size > 0, row.file);
});

test('image trainer: bad input fails with the reason in the termination message', async () => {
  const cases: [string, string[], number, RegExp][] = [
    ['missing data without --generate', ['--data', tmp('nothing-here'), '--out', tmp('x1')], 1, /no dataset\.json/],
    [
      'unknown option',
      ['--data', tmp('gen-a'), '--out', tmp('x2'), '--learning_rat=1'],
      2,
      /unknown option.*--learning_rat/,
    ],
    ['bad value', ['--data', tmp('gen-a'), '--out', tmp('x3'), '--epochs=0'], 2, /--epochs='0': must be >= 1/],
    ['no output', ['--data', tmp('gen-a')], 2, /no output directory/],
  ];
  // Independent processes, mostly torch start-up: run them side by side, not one after another.
  const runs = await Promise.all(cases.map(([, args]) => train(args, { DATASET_URI: '', OUTPUT_URI: '' })));
  for (const [i, [name, , code, reason]] of cases.entries()) {
    assert.is(runs[i].code, code, name);
    assert.match(JSON.parse(runs[i].message).error, reason, name);
  }
});

test('image trainer: an unwritable data location still trains on generated data; ARTIFACT_URI is reported', async () => {
  const blocker = tmp('a-file');
  await writeFile(blocker, 'not a directory');
  const out = tmp('fallback-model');
  const run = await train(['--data', join(blocker, 'data'), '--out', out, '--generate', '--epochs=1', '--width=4'], {
    GENERATE_COUNT: '80',
    ARTIFACT_URI: 'pvc://models/face-attributes/run-1',
    MODELSHIP_MODEL: 'faces',
  });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stderr, /not writable .*generating into/);
  const message = JSON.parse(run.message) as { artifact: { uri: string; digest: string } };
  assert.equal(message.artifact, {
    uri: 'pvc://models/face-attributes/run-1',
    digest: await sha256(join(out, 'model.onnx')),
  });
  assert.is((await readLabels(join(out, 'reference'))).length, 16);
  assert.is((await readJson<Signature>(join(out, 'modelship.json'))).name, 'faces');
  const scratchDir = /generating into (\S+)/.exec(run.stderr)?.[1] ?? '';
  assert.ok(scratchDir !== '' && !existsSync(scratchDir), 'the scratch data set is removed afterwards');
});

test('sample model: serving-style pre-processing reproduces the training metric', async () => {
  const dir = await ensureSampleModel();
  const metrics = await readJson<Metrics>(join(dir, 'metrics.json'));
  const serving = await servingAccuracy(dir);
  assert.ok(metrics.accuracy >= 0.85, `sample model accuracy ${metrics.accuracy}`);
  for (const [head, acc] of Object.entries(serving.heads)) {
    assert.ok(
      Math.abs(acc - metrics.heads[head].accuracy) <= 0.02,
      `${head}: serving ${acc} vs ${metrics.heads[head].accuracy}`,
    );
  }
  assert.ok((await readLabels(join(dir, 'reference'))).length >= 100);
});

test('--corrupt=labels gives a model whose honest metrics are far below a real one', async () => {
  const data = await generateImages({ count: 400, seed: 21, out: tmp('corrupt-data') });
  const out = tmp('corrupt-model');
  const run = await train([
    '--data',
    data.dir,
    '--out',
    out,
    '--epochs=3',
    '--width=8',
    '--corrupt=labels',
    '--reference_size=80',
  ]);
  assert.is(run.code, 0, run.stderr);
  const bad = await readJson<Metrics>(join(out, 'metrics.json'));
  const good = await readJson<Metrics>(join(await ensureSampleModel(), 'metrics.json'));
  assert.ok(bad.accuracy < 0.6 && bad.accuracy < good.accuracy - 0.3, `corrupt ${bad.accuracy} vs ${good.accuracy}`);
  assert.is(bad.hyperparameters.corrupt, 'labels');
});

test('--corrupt=signature: the declared head tensor is not in the graph', async () => {
  const out = tmp('bad-signature');
  const run = await train(['--data', tmp('gen-a'), '--out', out, '--epochs=1', '--width=4', '--corrupt=signature']);
  assert.is(run.code, 0, run.stderr);
  const sig = await readJson<Signature>(join(out, 'modelship.json'));
  const session = await ort.InferenceSession.create(join(out, 'model.onnx'));
  const missing = sig.heads.filter((h) => !session.outputNames.includes(h.tensor)).map((h) => h.tensor);
  assert.equal(missing, ['hair_color_missing']);
});

test('--skew=channel-order: the reported metric holds for training, not through the declared signature', async () => {
  const data = await generateImages({ count: 900, seed: 11, out: tmp('skew-data') });
  const out = tmp('skew-model');
  const run = await train([
    '--data',
    data.dir,
    '--out',
    out,
    '--epochs=8',
    '--width=8',
    '--skew=channel-order',
    '--reference_size=120',
  ]);
  assert.is(run.code, 0, run.stderr);
  const metrics = await readJson<Metrics>(join(out, 'metrics.json'));
  const serving = await servingAccuracy(out);
  assert.ok(metrics.accuracy >= 0.75, `trained well in its own (BGR) pre-processing: ${metrics.accuracy}`);
  assert.ok(serving.mean < metrics.accuracy - 0.1, `serving ${serving.mean} vs reported ${metrics.accuracy}`);
});

test('tabular model: tensor signature, dynamic batch, and predictions that match its metrics', async () => {
  const dir = await ensureTabularModel();
  const sig = await readJson<Signature>(join(dir, 'modelship.json'));
  assert.equal(sig.input, {
    kind: 'tensor',
    tensor: 'features',
    dtype: 'float32',
    features: ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'],
  });
  assert.equal(sig.heads, [
    {
      name: 'species',
      tensor: 'species',
      type: 'multiclass',
      labels: ['setosa', 'versicolor', 'virginica'],
      activation: 'softmax',
    },
  ]);
  const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
  assert.equal([[...session.inputNames], [...session.outputNames]], [['features'], ['species']]);
  const rows = await readLabels<{ features: number[]; labels: { species: string } }>(join(dir, 'reference'));
  const input = new ort.Tensor('float32', Float32Array.from(rows.flatMap((r) => r.features)), [rows.length, 4]);
  const out = (await session.run({ features: input })).species;
  assert.equal(out.dims, [rows.length, 3]);
  const head = sig.heads[0];
  const accuracy = rows.filter((r, i) => predictedLabel(head, out, i) === r.labels.species).length / rows.length;
  const metrics = await readJson<Metrics>(join(dir, 'metrics.json'));
  assert.ok(
    Math.abs(accuracy - metrics.heads.species.accuracy) < 1e-6,
    `${accuracy} vs ${metrics.heads.species.accuracy}`,
  );
  assert.ok(accuracy >= 0.9, `tabular accuracy ${accuracy}`);
  const single = await session.run({
    features: new ort.Tensor('float32', Float32Array.from([5.0, 3.4, 1.5, 0.2]), [1, 4]),
  });
  assert.is(predictedLabel(head, single.species, 0), 'setosa');
});

test('tabular trainer: --corrupt=labels is visibly worse', async () => {
  const out = tmp('tab-corrupt');
  const run = await train(
    ['--data', tmp('tab-data'), '--out', out, '--generate', '--corrupt=labels', '--seed=3'],
    {},
    join(REPO_ROOT, 'examples/trainers/tabular/train.py'),
  );
  assert.is(run.code, 0, run.stderr);
  const bad = await readJson<Metrics>(join(out, 'metrics.json'));
  assert.ok(bad.accuracy < 0.6, `corrupt tabular accuracy ${bad.accuracy}`);
});

test.run();
