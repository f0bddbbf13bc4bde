// API server faults during whole TrainingRun → ModelVersion flows: a seeded storm (printed
// seed) of 500 and 409 bursts, 410 Expired watches, dropped and reset watch streams, compacted
// history and 2 s latency hits the operator (its own process), the node agent and the
// validation Jobs alike. Afterwards: every run Succeeded and registered exactly one
// ModelVersion, versions 1..N per model, every version validated Ready, one Job each, the
// operator never crashed, and the cluster is quiet (no writes at steady state).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { planStorm, startStorm } from '../../hack/chaos/faults.js';
import { chaosRng } from '../../hack/chaos/seed.js';
import { ensureSampleModel } from '../support/models.js';
import { fastTrainingRun, jobsOf, modelAccuracy, picture, runsSettled, startEnv, type Env } from './support.js';

const RUNS = 8;
const MODELS = ['storm-a', 'storm-b'];
let env: Env;

test.before(async () => {
  await ensureSampleModel();
  env = await startEnv({ agent: true });
});

test.after(async () => {
  await env?.stop();
});

test('a storm of 409/410/500 bursts, dropped watches and 2 s latency: no state lost, one ModelVersion per run, quiet after', async () => {
  const rng = chaosRng('api-faults');
  const modelDir = await ensureSampleModel();
  const accuracy = modelAccuracy(modelDir);
  const plan = planStorm(rng, {
    actions: 40,
    latencyMs: 2000,
    resources: ['trainingruns.modelship.dev', 'modelversions.modelship.dev', 'jobs.batch', 'pods', 'events'],
  });
  const storm = startStorm(env.cluster.api.faults, plan, rng, [300, 900]);
  const names = Array.from({ length: RUNS }, (_, i) => `storm-${i}`);
  for (const [i, name] of names.entries()) {
    // Creation itself may meet an injected 500: a user would retry, so does this test.
    await waitFor(
      () =>
        env.client
          .create(fastTrainingRun(name, MODELS[i % 2], { modelDir, accuracy, seconds: rng.int(0, 3) }))
          .then(() => true),
      20_000,
      `create ${name}`,
      200,
    );
    await sleep(rng.int(500, 2500));
  }
  const applied = await storm.done;
  const outcomes = await waitFor(() => runsSettled(env.client, names), 180_000, 'runs settled after the storm', 500);
  // Fault rules still waiting for a matching request outlive the storm; the reads below are the
  // test's own checks, not the system under test, so they must not meet one (a leftover 500 on
  // the test's list of Jobs failed a run once).
  env.cluster.api.faults.clear();
  const shown = picture(outcomes);
  for (const { run, versions } of outcomes) {
    assert.is(run.status?.phase, 'Succeeded', `${run.metadata.name}: ${shown}`);
    assert.is(versions.length, 1, `${run.metadata.name}: exactly one ModelVersion: ${shown}`);
    assert.is(versions[0].metadata.name, run.status?.modelVersion);
    assert.is(versions[0].status?.phase, 'Ready', shown);
    assert.is(await jobsOf(env.client, run.metadata.uid!), 1, `${run.metadata.name}: one training Job`);
    assert.is(
      await jobsOf(env.client, versions[0].metadata.uid!),
      1,
      `${versions[0].metadata.name}: one validation Job`,
    );
  }
  for (const model of MODELS) {
    const versions = outcomes
      .flatMap((o) => o.versions)
      .filter((v) => v.spec.model === model)
      .map((v) => v.spec.version)
      .sort((a, b) => a - b);
    assert.equal(
      versions,
      Array.from({ length: RUNS / 2 }, (_, i) => i + 1),
      `${model}: ${shown}`,
    );
  }
  assert.is(env.operator.incarnations, 1, 'the operator process never exited');
  assert.ok(env.operator.running);
  // Steady state: a settled system does not keep writing (hot loops would show here).
  await sleep(2000);
  const w0 = env.cluster.api.counters().writes;
  await sleep(3000);
  const w1 = env.cluster.api.counters().writes;
  assert.is(w1 - w0, 0, `writes at steady state: ${JSON.stringify(env.cluster.api.counters().byKey)}`);
  process.stderr.write(
    `api-faults: ${applied.length} faults applied: ${JSON.stringify(countBy(applied.map((a) => (a.op === 'fail' ? `${a.code}` : a.op))))}\n`,
  );
});

function countBy(xs: string[]): Record<string, number> {
  return xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test.run();
