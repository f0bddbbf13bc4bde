// Pure building blocks: features, tensor layout/normalisation, profile bins, head outputs,
// the signature/graph comparison and the flag parser.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseFlags } from '../../serving/lib/cli/args.js';
import { compareSignatureWithGraph, type GraphValue } from '../../serving/lib/model/graph-check.js';
import { imageFeatures, laplacianVariance } from '../../serving/lib/pipeline/image-features.js';
import { headProbabilities, predictionOf } from '../../serving/lib/model/heads.js';
import { binIndex, buildProfile, histogram, quantileEdges } from '../../serving/lib/monitoring/profile.js';
import { parseSignature, type Head, type ImageInput } from '../../serving/lib/model/schema.js';
import { layoutBytesToRgb, writeImageTensor } from '../../serving/lib/pipeline/tensor.js';

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} ≈ ${b}`);

test('image features of a flat grey image and of a checkerboard', () => {
  const grey = new Uint8Array(4 * 4 * 3).fill(128);
  const [brightness, contrast, saturation, r, g, b, sharpness, width, height, aspect] = imageFeatures(
    { rgb: grey, width: 4, height: 4 },
    { width: 640, height: 480 },
  );
  close(brightness, 128 / 255, 1e-4);
  close(contrast, 0, 1e-4);
  close(saturation, 0);
  close(r, 128 / 255);
  close(g, 128 / 255);
  close(b, 128 / 255);
  close(sharpness, 0);
  assert.equal([width, height], [640, 480]);
  close(aspect, 4 / 3);
  const board = new Uint8Array(8 * 8 * 3);
  for (let i = 0; i < 64; i++) board.fill(((i % 8) + Math.floor(i / 8)) % 2 ? 255 : 0, i * 3, i * 3 + 3);
  const f = imageFeatures({ rgb: board, width: 8, height: 8 }, { width: 8, height: 8 });
  close(f[0], 0.5, 1e-3);
  close(f[1], 0.5, 1e-3);
  assert.ok(f[6] > 10, 'a checkerboard is very sharp');
  const red = new Uint8Array(3 * 9).map((_, i) => (i % 3 === 0 ? 200 : 0));
  close(imageFeatures({ rgb: red, width: 3, height: 3 }, { width: 3, height: 3 })[2], 1);
  assert.is(laplacianVariance(new Float32Array(4), 2, 2), 0);
});

const input = (layout: 'NCHW' | 'NHWC', channels: 1 | 3 = 3): ImageInput => ({
  kind: 'image',
  tensor: 'x',
  width: 2,
  height: 1,
  channels,
  layout,
  dtype: 'float32',
  scale: 1 / 255,
  mean: channels === 3 ? [0, 0.5, 1] : [0.5],
  std: channels === 3 ? [1, 0.5, 1] : [0.5],
  resize: 'fill',
});

test('tensor: ((byte*scale) - mean[c]) / std[c] in NCHW, NHWC and luma; UINT8 layouts round-trip', () => {
  const rgb = new Uint8Array([255, 255, 255, 0, 0, 0]); // white, black
  const nchw = new Float32Array(6);
  writeImageTensor(rgb, input('NCHW'), nchw, 0);
  [1, 0, 1, -1, 0, -1].forEach((v, i) => close(nchw[i], v, 1e-5));
  const nhwc = new Float32Array(12);
  writeImageTensor(rgb, input('NHWC'), nhwc, 1);
  [1, 1, 0, 0, -1, -1].forEach((v, i) => close(nhwc[6 + i], v, 1e-5));
  const luma = new Float32Array(2);
  writeImageTensor(rgb, input('NCHW', 1), luma, 0);
  close(luma[0], 1, 1e-5);
  close(luma[1], -1, 1e-5);
  const planar = new Uint8Array([1, 2, 3, 4, 5, 6]); // R plane, G plane, B plane
  assert.equal([...layoutBytesToRgb(planar, input('NCHW'), 0)], [1, 3, 5, 2, 4, 6]);
  assert.equal(
    [...layoutBytesToRgb(new Uint8Array([9, 9, 9, 9, 9, 9, 1, 3, 5, 2, 4, 6]), input('NHWC'), 1)],
    [1, 3, 5, 2, 4, 6],
  );
});

test('profile: quantile edges, bin index convention and histograms', () => {
  const values = Array.from({ length: 100 }, (_, i) => i);
  const edges = quantileEdges(values, 4);
  assert.equal(edges, [24.75, 49.5, 74.25]);
  assert.equal(histogram(edges, values), [25, 25, 25, 25]);
  assert.is(binIndex(edges, -1e9), 0);
  assert.is(binIndex(edges, 24.75), 1, 'a value equal to an edge belongs to the bin above');
  assert.is(binIndex(edges, 1e9), 3);
  assert.equal(quantileEdges([5, 5, 5, 5], 10), [5], 'constant features collapse to one edge');
  assert.equal(quantileEdges([], 10), []);
  const head: Head = { name: 'h', tensor: 'h', type: 'binary', labels: ['no', 'yes'], activation: 'sigmoid' };
  const p = buildProfile({
    model: 'm',
    digest: 'sha256:' + '0'.repeat(64),
    bins: 2,
    featureNames: ['x'],
    features: [[1], [2], [3]],
    heads: [head],
    predictions: [
      { h: { label: 'yes', score: 0.95, scores: {} } },
      { h: { label: 'no', score: 0.55, scores: {} } },
      { h: { label: 'yes', score: 1, scores: {} } },
    ],
  });
  assert.equal(p.heads.h.classes, { no: 1, yes: 2 });
  assert.equal(p.heads.h.confidence.counts, [0, 0, 0, 0, 0, 1, 0, 0, 0, 2]);
  assert.equal(p.features.x, { edges: [2], counts: [1, 2], min: 1, max: 3, mean: 2 });
});

test('heads: sigmoid [N,1], softmax [N,K], probabilities as-is, [N,2] binary', () => {
  const bin: Head = { name: 'b', tensor: 'b', type: 'binary', labels: ['no', 'yes'], activation: 'sigmoid' };
  const [pNo, pYes] = headProbabilities(bin, [0, 2], 1, 1);
  close(pYes, 1 / (1 + Math.exp(-2)));
  close(pNo + pYes, 1);
  const multi: Head = { name: 'm', tensor: 'm', type: 'multiclass', labels: ['a', 'b', 'c'], activation: 'softmax' };
  const probs = headProbabilities(multi, [9, 9, 9, 1, 2, 3], 3, 1);
  close(
    probs.reduce((a, b) => a + b, 0),
    1,
  );
  assert.equal(predictionOf(multi, probs).label, 'c');
  const asIs: Head = { ...multi, activation: 'none' };
  assert.equal(headProbabilities(asIs, [0.2, 0.7, 0.1], 3, 0), [0.2, 0.7, 0.1]);
  const two: Head = { ...bin, activation: 'softmax' };
  assert.is(predictionOf(two, headProbabilities(two, [3, -3], 2, 0)).label, 'no');
});

const sig = parseSignature({
  schemaVersion: 1,
  name: 'm',
  input: {
    kind: 'image',
    tensor: 'image',
    width: 32,
    height: 24,
    channels: 3,
    layout: 'NHWC',
    dtype: 'float32',
    scale: 1,
    mean: [0, 0, 0],
    std: [1, 1, 1],
    resize: 'cover',
  },
  heads: [
    { name: 'b', tensor: 'b_out', type: 'binary', labels: ['no', 'yes'], activation: 'sigmoid' },
    { name: 'c', tensor: 'c_out', type: 'multiclass', labels: ['x', 'y', 'z'], activation: 'softmax' },
  ],
});
const t = (name: string, shape: Array<number | string>, type = 'float32'): GraphValue => ({
  name,
  isTensor: true,
  type,
  shape,
});

test('signature vs graph: names, ranks, dims and dtypes', () => {
  const inputs = [t('image', ['batch', 24, 32, 3])];
  const outputs = [t('b_out', ['batch', 1]), t('c_out', ['batch', 3])];
  assert.equal(compareSignatureWithGraph(sig, inputs, outputs), []);
  const cases: Array<[GraphValue[], GraphValue[], RegExp]> = [
    [
      [t('image', ['batch', 3, 24, 32])],
      outputs,
      /input\.tensor "image" has shape \[batch, 3, 24, 32\] in the graph, signature implies \[N, 24, 32, 3\]/,
    ],
    [[t('image', ['batch', 24, 32, 3], 'uint8')], outputs, /has dtype uint8 in the graph, signature says float32/],
    [[t('image', ['batch', 24, 32])], outputs, /has shape/],
    [[...inputs, t('mask', ['batch'])], outputs, /graph input "mask" is not fed by the signature/],
    [inputs, [t('b_out', ['batch', 1])], /heads\.1\.tensor "c_out" is not a graph output \(graph outputs: b_out\)/],
    [
      inputs,
      [t('b_out', ['batch', 1]), t('c_out', ['batch', 4])],
      /heads\.1\.tensor "c_out" has 4 columns in the graph, expected 3 for 3 labels/,
    ],
    [
      inputs,
      [t('b_out', ['batch', 2]), t('c_out', ['batch', 3])],
      /heads\.0\.activation sigmoid needs a \[N, 1\] output/,
    ],
    [inputs, [t('b_out', ['batch', 1, 1]), t('c_out', ['batch', 3])], /heads\.0\.tensor "b_out" has rank 3/],
    [inputs, [t('b_out', ['batch', 1], 'int64'), t('c_out', ['batch', 3])], /heads\.0\.tensor "b_out" has dtype int64/],
  ];
  for (const [i, o, message] of cases) assert.match(compareSignatureWithGraph(sig, i, o).join('\n'), message);
});

test('flags: values, =values, numbers, booleans; unknown flags and bad numbers are errors', () => {
  const spec = { port: 'number', name: 'string', verbose: 'boolean' } as const;
  assert.equal(parseFlags(['--port', '80', '--name=x', '--verbose'], spec), { port: 80, name: 'x', verbose: true });
  assert.throws(() => parseFlags(['--prot', '80'], spec), /unknown flag --prot/);
  assert.throws(() => parseFlags(['--port', 'eighty'], spec), /--port must be a number/);
  assert.throws(() => parseFlags(['--name'], spec), /--name needs a value/);
  assert.throws(() => parseFlags(['stray'], spec), /unexpected argument "stray"/);
});

test.run();
