// Artifact schemas: a bad file is rejected with a message naming the field.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServingError } from '../../serving/lib/errors.js';
import { parseMetrics, parseProfile, parseSignature } from '../../serving/lib/model/schema.js';

const good = () => ({
  schemaVersion: 1,
  name: 'face-attributes',
  input: {
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
  },
  heads: [
    { name: 'beard', tensor: 'beard', type: 'binary', labels: ['no', 'yes'], activation: 'sigmoid' },
    {
      name: 'hair_color',
      tensor: 'hair_color',
      type: 'multiclass',
      labels: ['black', 'brown', 'blond', 'red', 'gray'],
      activation: 'softmax',
    },
  ],
});

function rejects(fn: () => unknown, message: RegExp, name = String(message)): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ServingError, name);
    assert.is((err as ServingError).code, 'INVALID_ARTIFACT', name);
    assert.match((err as Error).message, message, name);
    return;
  }
  assert.unreachable(`${name}: accepted; expected ${message}`);
}

test('the contract example signature and a tensor signature are accepted', () => {
  assert.is(parseSignature(good()).heads.length, 2);
  const tabular = {
    schemaVersion: 1,
    name: 'iris',
    input: { kind: 'tensor', tensor: 'features', dtype: 'float32', features: ['a', 'b'] },
    heads: [{ name: 's', tensor: 's', type: 'multiclass', labels: ['x', 'y', 'z'], activation: 'softmax' }],
  };
  assert.is(parseSignature(tabular).input.kind, 'tensor');
});

const signatureCases: Array<[string, (s: any) => void, RegExp]> = [
  [
    'wrong schema version',
    (s) => {
      s.schemaVersion = 2;
    },
    /modelship\.json: schemaVersion must be equal to constant/,
  ],
  [
    'unknown layout',
    (s) => {
      s.input.layout = 'CHW';
    },
    /input\.layout must be equal to one of the allowed values \(NCHW, NHWC\)/,
  ],
  [
    'unknown resize',
    (s) => {
      s.input.resize = 'crop';
    },
    /input\.resize .*\(fill, cover, contain\)/,
  ],
  [
    'missing width',
    (s) => {
      delete s.input.width;
    },
    /input must have required property 'width'/,
  ],
  [
    'negative scale',
    (s) => {
      s.input.scale = -1;
    },
    /input\.scale must be > 0/,
  ],
  [
    'zero std',
    (s) => {
      s.input.std = [0.5, 0, 0.5];
    },
    /input\.std\.1 must be > 0/,
  ],
  [
    'mean per channel',
    (s) => {
      s.input.mean = [0.5];
    },
    /input\.mean has 1 values for 3 channels/,
  ],
  [
    'unknown input kind',
    (s) => {
      s.input.kind = 'audio';
    },
    /input\.kind must be equal to one of the allowed values \(image, tensor\)/,
  ],
  [
    'no heads',
    (s) => {
      s.heads = [];
    },
    /heads must NOT have fewer than 1 items/,
  ],
  [
    'head type',
    (s) => {
      s.heads[1].type = 'regression';
    },
    /heads\.1\.type .*\(binary, multiclass\)/,
  ],
  [
    'one label',
    (s) => {
      s.heads[1].labels = ['x'];
    },
    /heads\.1\.labels must NOT have fewer than 2 items/,
  ],
  [
    'binary with 3 labels',
    (s) => {
      s.heads[0].labels = ['a', 'b', 'c'];
    },
    /heads\.0\.labels must have 2 labels for a binary head/,
  ],
  [
    'duplicate labels',
    (s) => {
      s.heads[1].labels = ['a', 'a'];
    },
    /heads\.1\.labels repeats "a"/,
  ],
  [
    'duplicate head names',
    (s) => {
      s.heads[1].name = 'beard';
    },
    /heads repeats name "beard"/,
  ],
  [
    'sigmoid on multiclass',
    (s) => {
      s.heads[1].activation = 'sigmoid';
    },
    /heads\.1\.activation sigmoid needs type binary/,
  ],
  [
    'head reads the input',
    (s) => {
      s.heads[0].tensor = 'image';
    },
    /heads\.0\.tensor "image" is also the input tensor/,
  ],
  [
    'not an object',
    (s) => {
      s.input = 3;
    },
    /input must be object/,
  ],
];

test('each broken signature is rejected naming its field', () => {
  for (const [name, edit, message] of signatureCases) {
    const sig = good();
    edit(sig);
    rejects(() => parseSignature(sig), message, name);
  }
});

test('metrics.json and profile.json are validated too', () => {
  assert.is(
    parseMetrics({ schemaVersion: 1, heads: { beard: { accuracy: 0.9 } }, accuracy: 0.9, epochs: 3 }).accuracy,
    0.9,
  );
  rejects(
    () => parseMetrics({ schemaVersion: 1, heads: { beard: { accuracy: 1.5 } }, accuracy: 0.9 }),
    /metrics\.json: heads\.beard\.accuracy must be <= 1/,
  );
  rejects(
    () => parseMetrics({ schemaVersion: 1, heads: {} }),
    /metrics\.json: \(root\) must have required property 'accuracy'/,
  );
  const profile = {
    schemaVersion: 1,
    model: 'm',
    digest: 'sha256:' + 'a'.repeat(64),
    samples: 2,
    bins: 2,
    features: { x: { edges: [1], counts: [1, 1], min: 0, max: 2, mean: 1 } },
    heads: { h: { classes: { a: 2 }, confidence: { edges: [0.5], counts: [0, 2] } } },
  };
  assert.is(parseProfile(profile).samples, 2);
  rejects(() => parseProfile({ ...profile, digest: 'md5:x' }), /profile\.json: digest must match pattern/);
  rejects(
    () => parseProfile({ ...profile, features: { x: { edges: [1, 2], counts: [1], min: 0, max: 2, mean: 1 } } }),
    /features\.x\.counts must have edges\.length \+ 1 entries/,
  );
});

test.run();
