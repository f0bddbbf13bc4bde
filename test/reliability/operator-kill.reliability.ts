// Operator SIGKILL at random points of training, registration and validation (seeded; the
// seed is printed). Twelve fast TrainingRuns of two models overlap, and the operator process
// is killed once per run at a random delay, so kills land before Job creation, while Jobs
// run, between "name recorded" and "ModelVersion created", and during validation Jobs.
// After the last restart: every run registered exactly one ModelVersion, versions of a model
// are 1..N with none twice, one training Job per run, one validation Job per version, and
// every version validated Ready.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { chaosRng } from '../../hack/chaos/seed.js';
import { ensureSampleModel } from '../support/models.js';
import { fastTrainingRun, jobsOf, modelAccuracy, picture, runsSettled, startEnv, type Env } from './support.js';

const TRIALS = 12;
const MODELS = ['kill-a', 'kill-b'];
let env: Env;

test.before(async () => {
  await ensureSampleModel();
  env = await startEnv({ agent: true });
});

test.after(async () => {
  await env?.stop();
});

test(`${TRIALS} SIGKILLs of the operator at random points: one ModelVersion per run, all validated`, async () => {
  const rng = chaosRng('operator-kill');
  const modelDir = await ensureSampleModel();
  const accuracy = modelAccuracy(modelDir);
  const names: string[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const name = `run-${i}`;
    names.push(name);
    await env.client.create(
      fastTrainingRun(name, MODELS[i % MODELS.length], { modelDir, accuracy, seconds: rng.int(0, 2) }),
    );
    await sleep(rng.int(0, 5000));
    await env.operator.kill();
    await sleep(rng.int(0, 800));
    env.operator.start();
  }
  assert.is(env.operator.kills.length, TRIALS, 'every trial killed a running operator');
  const outcomes = await waitFor(() => runsSettled(env.client, names), 240_000, 'every run and version settled', 500);
  const shown = picture(outcomes);
  for (const { run, versions } of outcomes) {
    const name = run.metadata.name;
    assert.is(run.status?.phase, 'Succeeded', `${name}: ${shown}`);
    assert.is(versions.length, 1, `${name} registered exactly one ModelVersion: ${shown}`);
    assert.is(versions[0].metadata.name, run.status?.modelVersion, shown);
    assert.is(versions[0].spec.source?.trainingRun, name);
    assert.is(versions[0].status?.phase, 'Ready', `${versions[0].metadata.name} validated: ${shown}`);
    assert.is(await jobsOf(env.client, run.metadata.uid!), 1, `${name}: one training Job`);
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
      Array.from({ length: TRIALS / MODELS.length }, (_, i) => i + 1),
      `${model}: versions 1..N, none twice: ${shown}`,
    );
  }
  const all = await env.client.list(Kinds.ModelVersion, { namespace: 'default' });
  assert.is(all.items.length, TRIALS, 'no stray ModelVersions');
  process.stderr.write(
    `operator-kill: ${env.operator.kills.length} kills after ${env.operator.kills.map((k) => k.aliveMs).join(',')} ms alive\n`,
  );
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test.run();
