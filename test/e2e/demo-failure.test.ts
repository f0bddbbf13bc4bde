// A step that times out: the demo says what it was waiting for and what it saw last, prints
// `kubectl get modelship -o wide`, recent Events and the operator log, exits non-zero, and
// leaves nothing running. (--timeout-scale 0.01 makes the training wait 2.4 s.)
import { rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { demoDir, processesUnder, runDemo, type DemoRun } from './demo-support.js';

let run: DemoRun;

test.before(async () => {
  run = await runDemo(['--steps', '1', '--no-wait', '--timeout-scale', '0.01'], demoDir(), 120_000);
});

test.after(() => {
  if (run?.dir) rmSync(run.dir, { recursive: true, force: true });
});

test('a timed-out wait fails the demo with what it waited for and the diagnostics', () => {
  const out = run.output;
  assert.is(run.code, 1, out.slice(-3000));
  assert.match(
    out,
    /! the demo failed: timed out after 2s waiting for TrainingRun face-attributes-cpu to finish \(last seen: TrainingRun face-attributes-cpu is (Pending|Running)\)/,
  );
  assert.match(out, /--- kubectl get modelship -o wide\nNAME\s+/);
  assert.match(out, /trainingrun\.modelship\.dev\/face-attributes-cpu/);
  assert.match(out, /inferenceservice\.modelship\.dev\/face-attributes/);
  assert.match(out, /--- recent Events \(kubectl get events --sort-by=\.lastTimestamp\)\n/);
  assert.match(
    out,
    /--- operator log \(kubectl logs -n modelship-system deploy\/modelship-operator --tail=30\)\n.*"message":"Operator starting"/s,
    'the demo waits for the chart-installed operator before applying anything',
  );
  assert.not.match(out, /== Step 2|VERSION\s+TRAINED BY/, 'no summary after a failure');
});

test('nothing is left running after the failure', () => {
  assert.match(run.output, /stopped the load generator, the operator and the dev cluster/);
  assert.equal(processesUnder(run.dir), []);
});

test.run();
