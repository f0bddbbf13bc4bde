// `make demo --steps 1 --no-wait` end to end: the real dev cluster, the real operator process,
// real PyTorch training on CPU, validation through the serving path, the InferenceService
// serving v1 through its router, the load generator's predictions and feedback — then the
// summary table, the timeline picture from Prometheus, and a clean exit with nothing left running.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../support/models.js';
import { demoDir, processesUnder, runDemo, type DemoRun } from './demo-support.js';

let run: DemoRun;

/** Paths git reports as changed or new: a demo run must not add to them (it writes only under its --dir). */
const workTreeChanges = (): string[] =>
  execFileSync('git', ['status', '--porcelain'], { cwd: REPO_ROOT, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .sort();
let changesBefore: string[];

test.before(async () => {
  changesBefore = workTreeChanges();
  run = await runDemo(['--steps', '1', '--no-wait'], demoDir(), 240_000);
});

test.after(() => {
  if (run?.dir) rmSync(run.dir, { recursive: true, force: true });
});

test('step 1 runs end to end and exits 0', () => {
  assert.is(run.code, 0, run.output.slice(-4000));
  const out = run.output;
  assert.match(out, /== Step 0: start the dev cluster and the operator/);
  assert.match(out, /✓ dev cluster up: API server http:\/\/127\.0\.0\.1:\d+, Prometheus http:\/\/127\.0\.0\.1:\d+/);
  assert.match(out, /\$ export KUBECONFIG=\S+\/kubeconfig/);
  assert.match(out, /== Step 1: train v1/);
  assert.match(
    out,
    /kubectl apply -f hack\/demo\/manifests\/trainingrun-v1\.yaml\n\s+persistentvolumeclaim\/modelship-data created/,
  );
  assert.match(
    out,
    /✓ TrainingRun face-attributes-cpu Succeeded: offline accuracy 0\.\d{3} \(real PyTorch on CPU, \d+s\)/,
  );
  assert.match(out, /✓ ModelVersion face-attributes-v1 \(v1\) Ready: serving-path accuracy 0\.\d{3}/);
  assert.match(out, /✓ InferenceService face-attributes serves v1/);
  assert.match(out, /✓ live traffic: \d+ predictions, live accuracy 0\.\d{3} over \d+ head judgements/);
  assert.not.match(out, /== Step 2/, 'only the steps asked for');
});

test('the summary has v1 with its accuracies and outcome; the service state follows', () => {
  const lines = run.output.split('\n');
  const header = lines.findIndex((l) =>
    /^VERSION\s+TRAINED BY\s+TRIGGER\s+OFFLINE ACC\s+VALIDATION ACC\s+LIVE ACC \(n\)/.test(l),
  );
  assert.ok(header >= 0, 'summary header');
  const row = lines[header + 1];
  const m =
    /^v1\s+face-attributes-cpu\s+kubectl apply\s+(0\.\d{3})\s+(0\.\d{3})\s+(0\.\d{3}) \((\d+)\)\s+-\s+Serving \(first version\)\s+(\d+)s\s+-$/.exec(
      row,
    );
  assert.ok(m, `summary row: ${row}`);
  const [offline, validation, live, judged, trainSeconds] = m!.slice(1).map(Number);
  assert.ok(offline >= 0.5, `offline accuracy ${offline}`);
  assert.ok(Math.abs(offline - validation) <= 0.05, 'validation matches training (no skew)');
  assert.ok(live >= 0.5 && judged >= 100, `live accuracy ${live} over ${judged}`);
  assert.ok(trainSeconds > 0);
  assert.match(lines[header + 2], /^InferenceService face-attributes: phase Serving, stable v1/);
});

test('the timeline SVG is drawn from Prometheus (traffic and accuracy of v1)', () => {
  const file = join(run.dir, 'canary-timeline.svg');
  assert.ok(existsSync(file), run.output.slice(-2000));
  const svg = readFileSync(file, 'utf8');
  assert.match(svg, /^<svg /);
  assert.match(svg, />v1<\/text>/, 'v1 in the legend: its series came back from Prometheus');
  assert.ok((svg.match(/<path /g) ?? []).length >= 2, 'a traffic line and an accuracy line');
  assert.match(run.output, /✓ canary timeline from Prometheus → .*\(1 traffic and 1 accuracy series\)/);
});

test('clean shutdown: nothing it started is left running', () => {
  assert.match(run.output, /stopped the load generator, the operator and the dev cluster/);
  assert.equal(processesUnder(run.dir), []);
});

test('the run leaves the work tree as it was', () => {
  assert.equal(workTreeChanges(), changesBefore);
});

test.run();
