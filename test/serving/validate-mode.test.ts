// `serve validate` / `serve profile` as the operator's Job runs it: a real process, a report,
// profile.json, a compact termination message, and non-zero exits with clear messages.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Digest } from '../../serving/lib/model/artifact.js';
import { parseProfile } from '../../serving/lib/model/schema.js';
import { runValidate } from '../../serving/lib/cli/validate.js';
import { copyModel, fixtureModels } from './support/fixtures.js';

const test = suite('validate mode');
const cleanups: Array<() => void> = [];
test.after(() => {
  for (const c of cleanups) c();
});

function copy(src: string): string {
  const c = copyModel(src);
  cleanups.push(c.cleanup);
  return c.dir;
}

function validate(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'serving/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function editJson(path: string, edit: (v: any) => void): void {
  const v = JSON.parse(readFileSync(path, 'utf8'));
  edit(v);
  writeFileSync(path, JSON.stringify(v));
}

test('good image model: profile.json, report and termination message agree with metrics.json', () => {
  const dir = copy(fixtureModels().colours);
  const report = join(dir, '..', 'report.json');
  const term = join(dir, '..', 'termination-log');
  const r = validate(['validate', '--model-dir', dir, '--report', report, '--termination-message-path', term]);
  assert.is(r.code, 0, r.stderr);
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  assert.ok(rep.ok);
  assert.is(rep.samples, 24);
  assert.ok(
    Math.abs(rep.accuracy - metrics.accuracy) <= 0.02,
    `serving ${rep.accuracy} vs training ${metrics.accuracy}`,
  );
  assert.is(rep.heads.dominant.accuracy, 1);
  assert.is(rep.digest, sha256Digest(readFileSync(join(dir, 'model.onnx'))));
  assert.equal(
    rep.signature.heads.map((h: any) => h.name),
    ['dominant', 'bright'],
  );
  assert.ok(rep.latencyMs.p50 > 0 && rep.latencyMs.p95 >= rep.latencyMs.p50);
  const profile = parseProfile(JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8')));
  assert.equal(Object.keys(profile.features), [
    'brightness',
    'contrast',
    'saturation',
    'mean_r',
    'mean_g',
    'mean_b',
    'sharpness',
    'width',
    'height',
    'aspect',
  ]);
  for (const f of Object.values(profile.features))
    assert.is(
      f.counts.reduce((a, b) => a + b, 0),
      24,
    );
  assert.equal(profile.heads.dominant.classes, { red: 8, green: 8, blue: 8 });
  assert.is(
    profile.heads.bright.confidence.counts.reduce((a, b) => a + b, 0),
    24,
  );
  // reference widths are 40, 48, 56, 64: quantile edges split them
  assert.equal(profile.features.width.edges.filter((e) => e > 40 && e <= 64).length > 0, true);
  const message = readFileSync(term, 'utf8');
  assert.ok(message.length <= 4096);
  const compact = JSON.parse(message);
  assert.is(compact.ok, true);
  assert.is(compact.digest, rep.digest);
  assert.is(compact.accuracy, rep.accuracy);
  assert.equal(compact.heads, { dominant: 1, bright: 1 });
});

test('`profile` alias on the tabular model, termination path from env', () => {
  const dir = copy(fixtureModels().iris);
  const term = join(dir, '..', 'term');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'serving/main.ts', 'profile', '--model-dir', dir, '--bins', '5'],
    { encoding: 'utf8', env: { ...process.env, TERMINATION_MESSAGE_PATH: term } },
  );
  assert.is(r.status, 0, r.stderr);
  const profile = parseProfile(JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8')));
  assert.is(profile.bins, 5);
  assert.equal(Object.keys(profile.features), ['sepal_length', 'sepal_width', 'petal_length', 'petal_width']);
  assert.is(profile.features.petal_length.edges.length, 4);
  assert.is(JSON.parse(readFileSync(term, 'utf8')).accuracy, 1);
  assert.is(JSON.parse(r.stdout).heads.species.accuracy, 1);
});

test('signature that disagrees with the graph: non-zero exit naming the field, no profile', async () => {
  const cases: Array<[string, (sig: any) => void, RegExp]> = [
    [
      'head tensor not in graph',
      (s) => {
        s.heads[0].tensor = 'logits';
      },
      /heads\.0\.tensor "logits" is not a graph output/,
    ],
    [
      'input size differs',
      (s) => {
        s.input.width = 64;
      },
      /input\.tensor "image" has shape \[.*3, 32, 32\] in the graph/,
    ],
    [
      'input name differs',
      (s) => {
        s.input.tensor = 'pixels';
      },
      /input\.tensor "pixels" is not a graph input/,
    ],
    [
      'class count differs',
      (s) => {
        s.heads[0].labels.push('yellow');
      },
      /heads\.0\.tensor "dominant" has 3 columns/,
    ],
    [
      'schema: bad layout',
      (s) => {
        s.input.layout = 'CHW';
      },
      /input\.layout must be equal to one of the allowed values \(NCHW, NHWC\)/,
    ],
    [
      'schema: missing field',
      (s) => {
        delete s.heads[1].labels;
      },
      /heads\.1 must have required property 'labels'/,
    ],
  ];
  for (const [i, [name, edit, message]] of cases.entries()) {
    const dir = copy(fixtureModels().colours);
    editJson(join(dir, 'modelship.json'), edit);
    const term = join(dir, '..', 'term');
    const args = ['--model-dir', dir, '--termination-message-path', term];
    // The first case runs as the real process (exit code, stderr); the rest in-process to stay fast.
    if (i === 0) {
      const r = validate(['validate', ...args]);
      assert.is(r.code, 1, name);
      assert.match(r.stderr, message, name);
    } else {
      assert.is(await runValidate(args, {}), 1, name);
    }
    assert.not.ok(existsSync(join(dir, 'profile.json')), name);
    const compact = JSON.parse(readFileSync(term, 'utf8'));
    assert.is(compact.ok, false, name);
    assert.match(compact.error, message, name);
  }
});

// In-process: the real process's exit code and stderr wiring are covered above; each extra
// process costs ~10 s of tsx + onnxruntime start-up on a loaded machine.
test('training/serving skew beyond --max-accuracy-gap fails with the measured gap', async () => {
  const dir = copy(fixtureModels().colours);
  // Serving normalises with a different mean than training did: every image looks dark.
  editJson(join(dir, 'modelship.json'), (s) => {
    s.input.mean = [0.9, 0.9, 0.9];
  });
  const report = join(dir, '..', 'report.json');
  assert.is(await runValidate(['--model-dir', dir, '--max-accuracy-gap', '0.05', '--report', report], {}), 1);
  const rep = JSON.parse(readFileSync(report, 'utf8'));
  assert.match(
    rep.error,
    /training\/serving skew: serving-path accuracy 0\.\d+ is 0\.\d+ below the training accuracy 1/,
  );
  assert.is(rep.ok, false);
  assert.ok(rep.accuracyGap > 0.2);
  assert.is(rep.heads.bright.accuracy, 0.5);
});

test('usage errors exit 2; a missing directory exits 1 naming the file', async () => {
  assert.is(await runValidate([], {}), 2, 'no --model-dir');
  assert.is(await runValidate(['--model-dir', 'x', '--bogus', '1'], {}), 2);
  const term = join(copy(fixtureModels().iris), '..', 'term');
  assert.is(await runValidate(['--model-dir', '/nonexistent/model', '--termination-message-path', term], {}), 1);
  assert.match(JSON.parse(readFileSync(term, 'utf8')).error, /modelship\.json: cannot read/);
});

test.run();
