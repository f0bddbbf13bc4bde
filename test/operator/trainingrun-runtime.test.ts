// The TrainingRun and ModelVersion controllers under the real runtime against the dev cluster
// (API server + node agent running the "modelship/test-job" image as a stand-in trainer):
// convergence through 500 bursts, 409s on status updates, a forced 410 and dropped watch
// streams; one ModelVersion per run with distinct versions; no writes at steady state (also
// across a re-list and an operator restart); failures, gates and SpecChangedAfterStart.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type ModelVersion, type TrainingRun } from '../../operator/api/index.js';
import type { Job } from '../../operator/controllers/common/k8s.js';
import { modelVersionController } from '../../operator/controllers/modelversion/controller.js';
import { trainingRunController } from '../../operator/controllers/trainingrun/controller.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import { sleepMs, waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { REPO_ROOT } from '../support/models.js';

const NS = 'default';
const DIGEST = `sha256:${'ef'.repeat(32)}`;
let cluster: TestCluster;
let client: KubeClient;
let manager: Manager;

function newManager(): Manager {
  const m = new Manager({
    client,
    log: createLogger({ silent: true }),
    leaderElection: false,
    resyncPeriodMs: 500,
    informer: { backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 }, healthyAfterMs: 500 },
    queueBackoff: { initialMs: 50, maxMs: 1000, factor: 2, jitter: 0.2 },
  });
  m.add(trainingRunController());
  // The stand-in image writes no validation report: versions converge to Rejected.
  m.add(modelVersionController({ servingImage: 'modelship/test-job:1' }));
  return m;
}

const summary = (accuracy: number) =>
  JSON.stringify({ artifact: { uri: 'pvc://rt-models/runs/x', digest: DIGEST }, metrics: { accuracy } });

function run(name: string, model: string, args: string[], spec: Partial<TrainingRun['spec']> = {}): TrainingRun {
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: { name, namespace: NS },
    spec: {
      model,
      image: 'modelship/test-job:1',
      args,
      // A node path: passed to the trainer as written, so the fake trainer needs nothing fetched.
      dataset: { uri: 'file:///var/tmp/rt-data' },
      output: { uri: 'pvc://rt-models/runs' },
      resources: { gpus: 0 },
      backoffLimit: 0,
      registration: { enabled: true, validation: { skewTolerance: 0.05, activeDeadlineSeconds: 60 } },
      ...spec,
    },
  };
}

const getRun = (name: string) => client.get<TrainingRun>(Kinds.TrainingRun, NS, name);
const cond = (r: TrainingRun | ModelVersion, type: string) => r.status?.conditions?.find((c) => c.type === type);
const writes = () => cluster.api.counters().writes;

async function settled(names: string[]): Promise<boolean> {
  for (const name of names) {
    const r = await getRun(name);
    const registered = cond(r, 'Registered');
    if (r.status?.phase === 'Failed') continue;
    if (r.status?.phase !== 'Succeeded' || !registered || registered.status === 'Unknown') return false;
    if (registered.status === 'True') {
      const mv = await client.get<ModelVersion>(Kinds.ModelVersion, NS, r.status.modelVersion!);
      if (mv.status?.phase !== 'Ready' && mv.status?.phase !== 'Rejected') return false;
    }
  }
  return true;
}

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
  const r = await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')]);
  if (r.code !== 0) throw new Error(r.stderr);
  client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
  await waitFor(
    async () => {
      await client.list(Kinds.TrainingRun, { namespace: NS });
      return true;
    },
    10_000,
    'CRDs served',
  );
  manager = newManager();
  await manager.start();
});

test.after(async () => {
  await manager?.stop();
  await cluster?.stop();
});

const NAMES = Array.from({ length: 8 }, (_, i) => `rt-${i}`);

test('converges through 500 bursts, 409s on status, a forced 410 and dropped streams; one ModelVersion per run', async () => {
  const faults = cluster.api.faults;
  faults.failNext({ verb: 'create', resource: 'jobs.batch', code: 500, count: 3 });
  faults.failNext({
    verb: 'update',
    resource: 'trainingruns.modelship.dev',
    subresource: 'status',
    code: 409,
    count: 4,
  });
  faults.failNext({ verb: 'create', resource: 'modelversions.modelship.dev', code: 500, count: 2 });
  faults.failNext({
    verb: 'update',
    resource: 'modelversions.modelship.dev',
    subresource: 'status',
    code: 409,
    count: 2,
  });
  for (const [i, name] of NAMES.entries())
    await client.create(run(name, 'rt', ['--message', summary(0.8 + i / 100), '--sleep-ms', '300']));
  await sleepMs(400);
  faults.dropWatches();
  await sleepMs(400);
  faults.compact();
  faults.dropWatches({ abrupt: true });
  faults.failNext({ verb: 'list', code: 500, count: 2 });
  await waitFor(() => settled(NAMES), 45_000, 'runs settled', 200);
  const errors =
    (await manager.metrics.registry.getSingleMetric('modelship_operator_reconcile_errors_total')?.get())?.values ?? [];
  assert.ok(errors.reduce((a, v) => a + v.value, 0) > 0, 'the injected faults did fail reconciles');

  const mvs = (
    await client.list<ModelVersion>(Kinds.ModelVersion, { namespace: NS, labelSelector: 'modelship.dev/model=rt' })
  ).items;
  const runs = await Promise.all(NAMES.map(getRun));
  const picture = JSON.stringify({
    runs: runs.map((r) => [
      r.metadata.name,
      r.status?.phase,
      r.status?.modelVersion,
      r.status?.conditions?.map((c) => c.reason),
    ]),
    mvs: mvs.map((m) => [m.metadata.name, m.spec.source?.trainingRun]),
  });
  assert.equal(
    mvs.map((m) => m.spec.version).sort((a, b) => a - b),
    [1, 2, 3, 4, 5, 6, 7, 8],
    `versions 1..8, none twice: ${picture}`,
  );
  for (const name of NAMES) {
    const r = await getRun(name);
    assert.is(cond(r, 'Registered')?.status, 'True', name);
    const mine = mvs.filter((m) => m.spec.source?.trainingRun === name);
    assert.is(mine.length, 1, `${name} registered exactly once`);
    assert.is(mine[0].metadata.name, r.status?.modelVersion);
    assert.equal(mine[0].spec.metrics, r.status?.metrics);
    assert.is(mine[0].metadata.labels?.['modelship.dev/training-run-uid'], r.metadata.uid);
    assert.is(mine[0].status?.phase, 'Rejected');
    assert.is(cond(mine[0], 'Validated')?.reason, 'InvalidValidationReport', 'the stand-in validator wrote no report');
  }
});

test('no writes at steady state: across resyncs and a forced re-list', async () => {
  await manager.recorder.flush();
  await sleepMs(600);
  const w0 = writes();
  await sleepMs(1500);
  assert.is(writes() - w0, 0, `writes at steady state: ${JSON.stringify(cluster.api.counters().byKey)}`);
  cluster.api.faults.compact();
  cluster.api.faults.dropWatches();
  await sleepMs(1500);
  assert.is(writes() - w0, 0, 'a re-list causes no writes');
});

test('a restarted operator (new process state) registers nothing again and writes nothing', async () => {
  await manager.stop();
  const before = (await client.list(Kinds.ModelVersion, { namespace: NS })).items.length;
  const w0 = writes();
  manager = newManager();
  await manager.start();
  await sleepMs(1500);
  await manager.recorder.flush();
  assert.is(writes() - w0, 0, `writes after restart: ${JSON.stringify(cluster.api.counters().byKey)}`);
  assert.is((await client.list(Kinds.ModelVersion, { namespace: NS })).items.length, before);
});

test('a trainer that fails and a run below its gate: Failed with the reason, GatesFailed with the numbers', async () => {
  await client.create(run('rt-fail', 'rt-bad', ['--message', '{"error":"CUDA out of memory"}', '--exit-code', '1']));
  await client.create(
    run('rt-gate', 'rt-bad', ['--message', summary(0.61)], {
      registration: {
        enabled: true,
        gates: { minMetrics: { accuracy: 0.9 } },
        validation: { skewTolerance: 0.05, activeDeadlineSeconds: 60 },
      },
    }),
  );
  await client.create(run('rt-nomsg', 'rt-bad', []));
  await waitFor(() => settled(['rt-fail', 'rt-gate', 'rt-nomsg']), 20_000, 'settled', 200);
  const fail = await getRun('rt-fail');
  assert.is(fail.status?.phase, 'Failed');
  assert.is(cond(fail, 'Succeeded')?.reason, 'BackoffLimitExceeded');
  assert.match(cond(fail, 'Succeeded')?.message ?? '', /the trainer failed: CUDA out of memory/);
  const gate = await getRun('rt-gate');
  assert.is(gate.status?.phase, 'Succeeded');
  assert.is(cond(gate, 'Registered')?.reason, 'GatesFailed');
  assert.match(cond(gate, 'Registered')?.message ?? '', /accuracy 0\.61 is below the minimum 0\.9/);
  assert.equal(gate.status?.registration?.gates, [
    { metric: 'accuracy', bound: 'min', threshold: 0.9, value: 0.61, passed: false },
  ]);
  const nomsg = await getRun('rt-nomsg');
  assert.is(nomsg.status?.phase, 'Failed');
  assert.is(cond(nomsg, 'Succeeded')?.reason, 'MissingTerminationMessage');
  assert.is(
    (await client.list(Kinds.ModelVersion, { namespace: NS, labelSelector: 'modelship.dev/model=rt-bad' })).items
      .length,
    0,
  );
});

test('image pull problems show while pending; a Job past its deadline fails with DeadlineExceeded', async () => {
  await client.create(run('rt-pull', 'rt-pull', [], { image: 'nosuch/trainer:1' }));
  await client.create(
    run('rt-slow', 'rt-slow', ['--message', summary(0.9), '--sleep-ms', '20000'], { activeDeadlineSeconds: 2 }),
  );
  const pull = await waitFor(
    async () => {
      const r = await getRun('rt-pull');
      return /ImagePull/.test(cond(r, 'Succeeded')?.reason ?? '') ? r : undefined;
    },
    10_000,
    'image pull condition',
  );
  assert.is(pull.status?.phase, 'Pending');
  assert.is(cond(pull, 'Succeeded')?.status, 'Unknown');
  assert.match(cond(pull, 'Succeeded')?.message ?? '', /nosuch\/trainer/);
  const slow = await waitFor(
    async () => {
      const r = await getRun('rt-slow');
      return r.status?.phase === 'Failed' ? r : undefined;
    },
    15_000,
    'deadline',
  );
  assert.is(cond(slow, 'Succeeded')?.reason, 'DeadlineExceeded');
  await client.delete(Kinds.TrainingRun, NS, 'rt-pull');
});

test('spec edits after the Job started: SpecChangedAfterStart, the Job and the registered lineage keep the original spec', async () => {
  await client.create(
    run('rt-edit', 'rt-edit', ['--message', summary(0.9), '--sleep-ms', '2500'], { hyperparameters: { lr: '0.1' } }),
  );
  await waitFor(async () => (await getRun('rt-edit')).status?.phase === 'Running', 10_000, 'running');
  await client.patchMerge(Kinds.TrainingRun, NS, 'rt-edit', {
    spec: { hyperparameters: { lr: '0.5' }, image: 'modelship/test-job:2' },
  });
  const changed = await waitFor(
    async () => {
      const r = await getRun('rt-edit');
      return cond(r, 'SpecChangedAfterStart') ? r : undefined;
    },
    5_000,
    'condition',
  );
  assert.is(cond(changed, 'SpecChangedAfterStart')?.status, 'True');
  const job = await client.get<Job>(Kinds.Job, NS, 'rt-edit');
  assert.ok(job.spec?.template?.spec?.containers[0].args?.includes('--lr=0.1'), 'the running Job is unchanged');
  await waitFor(() => settled(['rt-edit']), 15_000, 'settled', 200);
  const mv = await client.get<ModelVersion>(Kinds.ModelVersion, NS, 'rt-edit-v1');
  assert.equal(mv.spec.source?.hyperparameters, { lr: '0.1' });
  assert.is(mv.spec.source?.image, 'modelship/test-job:1');
});

test('ModelVersion spec is immutable at the API server (CEL)', async () => {
  const err = await client
    .patchMerge(Kinds.ModelVersion, NS, 'rt-edit-v1', { spec: { metrics: { accuracy: 0.99 } } })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err, 'the patch was refused');
  assert.match(String((err as Error).message), /immutable/);
});

test('a run naming a service account, priority class or Secret the operator does not allow fails NotAllowed, no Job created', async () => {
  await client.create(
    run('rt-reach', 'rt-reach', [], {
      serviceAccountName: 'cluster-admin-sa',
      priorityClassName: 'system-cluster-critical',
      env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'other-team-token', key: 'token' } } }],
    }),
  );
  const failed = await waitFor(
    async () => {
      const r = await getRun('rt-reach');
      return r.status?.phase === 'Failed' ? r : undefined;
    },
    10_000,
    'Failed',
  );
  const ready = failed.status?.conditions?.find((c) => c.reason === 'NotAllowed');
  assert.ok(ready, JSON.stringify(failed.status?.conditions));
  for (const named of ['cluster-admin-sa', 'system-cluster-critical', 'other-team-token'])
    assert.match(ready?.message ?? '', named);
  assert.match(ready?.message ?? '', /trainingRunAllowlist\.secrets/);
  const jobs = await client.list<Job>(Kinds.Job, { namespace: NS });
  assert.not.ok(
    jobs.items.some((j) => j.metadata?.name === 'rt-reach'),
    'no Job ever ran with them',
  );
});

test.run();
