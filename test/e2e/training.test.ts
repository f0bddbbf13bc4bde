// End to end on the dev cluster: the real kubectl applies the example TrainingRun, the node
// agent runs the real PyTorch trainer on CPU, the operator's controllers (in this process)
// register the ModelVersion and validate it with the real serving code in a Job.
// Also the unhappy paths: a trainer that exits 1, a GPU run no node can take, an artifact whose
// signature names a tensor the ONNX graph lacks, and a skewed pre-processing in training.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type ModelVersion, type TrainingRun } from '../../operator/api/index.js';
import type { Job } from '../../operator/controllers/common/k8s.js';
import { buildControllers } from '../../operator/controllers/registry.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { REPO_ROOT } from '../support/models.js';

const NS = 'default';
let cluster: TestCluster;
let client: KubeClient;
let manager: Manager;

const getRun = (name: string) => client.get<TrainingRun>(Kinds.TrainingRun, NS, name);
const getMv = (name: string) => client.get<ModelVersion>(Kinds.ModelVersion, NS, name);
const cond = (
  obj: { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } },
  type: string,
) => obj.status?.conditions?.find((c) => c.type === type);

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, { input, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function runFinished(name: string, timeoutMs: number): Promise<TrainingRun> {
  return waitFor(
    async () => {
      const run = await getRun(name);
      return run.status?.phase === 'Succeeded' || run.status?.phase === 'Failed' ? run : undefined;
    },
    timeoutMs,
    `TrainingRun ${name} finished`,
    250,
  );
}

async function versionSettled(name: string, timeoutMs: number): Promise<ModelVersion> {
  return waitFor(
    async () => {
      const mv = await getMv(name);
      return mv.status?.phase === 'Ready' || mv.status?.phase === 'Rejected' ? mv : undefined;
    },
    timeoutMs,
    `ModelVersion ${name} validated`,
    250,
  );
}

/** A small CPU run of the real image trainer; `hp` and `env` add to the defaults. */
function run(
  name: string,
  model: string,
  hp: Record<string, string>,
  env: Record<string, string>,
  dataset = `pvc://e2e-data/${name}`,
): TrainingRun {
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: { name, namespace: NS },
    spec: {
      model,
      image: 'modelship/trainer-image-classifier:e2e',
      hyperparameters: { width: '8', seed: '42', threads: '1', ...hp },
      env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
      dataset: { uri: dataset },
      output: { uri: 'pvc://e2e-models/runs' },
      resources: { gpus: 0 },
      backoffLimit: 0,
      registration: { enabled: true, validation: { skewTolerance: 0.05, activeDeadlineSeconds: 120 } },
    },
  };
}

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
  await kubectl(['apply', '-f', join(REPO_ROOT, 'crds')]);
  client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
  await waitFor(
    async () => {
      await client.list(Kinds.TrainingRun, { namespace: NS });
      await client.list(Kinds.ModelVersion, { namespace: NS });
      return true;
    },
    10_000,
    'CRDs served',
  );
  manager = new Manager({
    client,
    log: createLogger({ silent: true }),
    leaderElection: false,
    informer: { backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 } },
    queueBackoff: { initialMs: 100, maxMs: 2000, factor: 2, jitter: 0.2 },
  });
  for (const c of buildControllers({ namespaces: [] })) manager.add(c);
  await manager.start();
});

test.after(async () => {
  await manager?.stop();
  await cluster?.stop();
});

test('kubectl apply of the example → real PyTorch Job → ModelVersion with lineage → validated Ready with a profile', async () => {
  await kubectl(['apply', '-f', join(REPO_ROOT, 'examples/face-attributes/trainingrun-cpu.yaml')]);
  const tr = await runFinished('face-attributes-cpu', 150_000);
  assert.is(tr.status?.phase, 'Succeeded', JSON.stringify(tr.status?.conditions));
  assert.is(tr.status?.artifact?.uri, 'pvc://modelship-models/face-attributes/face-attributes-cpu');
  assert.match(tr.status?.artifact?.digest ?? '', /^sha256:[a-f0-9]{64}$/);
  const accuracy = tr.status?.metrics?.accuracy ?? 0;
  assert.ok(accuracy >= 0.5, `trained accuracy ${accuracy}`);
  assert.ok(tr.status?.metrics?.['beard.accuracy'] !== undefined, 'per-head metrics');
  assert.is(tr.status?.startTime !== undefined && tr.status?.completionTime !== undefined, true);
  const job = await client.get<Job>(Kinds.Job, NS, tr.status!.jobName!);
  assert.ok(job.spec?.template?.spec?.containers[0].args?.includes('--epochs=4'), 'hyperparameters as args');
  assert.is(job.metadata?.ownerReferences?.[0].name, 'face-attributes-cpu');

  const registered = await waitFor(
    async () =>
      (await getRun('face-attributes-cpu')).status?.modelVersion &&
      cond(await getRun('face-attributes-cpu'), 'Registered')?.status === 'True',
    20_000,
    'registered',
  );
  assert.ok(registered);
  const mv = await getMv('face-attributes-v1');
  assert.is(mv.spec.version, 1);
  assert.equal(mv.spec.metrics, tr.status?.metrics);
  assert.is(mv.spec.artifact.uri, tr.status?.artifact?.uri);
  assert.is(mv.spec.source?.trainingRun, 'face-attributes-cpu');
  assert.is(mv.spec.source?.image, 'modelship/trainer-image-classifier:0.1.0');
  assert.is(mv.spec.source?.hyperparameters?.epochs, '4');
  assert.equal(mv.spec.source?.dataset, { uri: 'pvc://modelship-data/face-attributes', version: 'synthetic-seed-1' });
  assert.is(mv.metadata.labels?.['modelship.dev/model'], 'face-attributes');
  assert.is(mv.metadata.ownerReferences, undefined, 'registry entries outlive runs: no ownerReference');

  const ready = await versionSettled('face-attributes-v1', 90_000);
  assert.is(ready.status?.phase, 'Ready', JSON.stringify(ready.status?.conditions));
  assert.ok((ready.status?.profile?.samples ?? 0) > 0, 'profile summary');
  assert.is(ready.status?.profile?.uri, 'pvc://modelship-models/face-attributes/face-attributes-cpu/profile.json');
  // the reference distributions live in status, so drift analysis needs no artifact-store access
  const brightness = ready.status?.profile?.features?.find((f) => f.name === 'brightness');
  assert.ok(brightness?.proportions?.length, 'brightness reference histogram in status.profile');
  assert.ok(Math.abs(brightness!.proportions!.reduce((a, b) => a + b, 0) - 1) < 0.01, 'shares sum to 1');
  assert.equal(ready.status?.profile?.predictions?.find((p) => p.head === 'hair_color')?.labels, [
    'black',
    'brown',
    'blond',
    'red',
    'gray',
  ]);
  assert.equal(ready.status?.signature?.heads?.find((h) => h.name === 'beard')?.labels, ['no', 'yes']);
  assert.ok(ready.status?.servingAccuracy !== undefined);
  assert.is(ready.status?.skew?.passed, true);
  assert.ok((ready.status?.signature?.heads ?? []).some((h) => h.name === 'hair_color'));
  assert.is(cond(ready, 'Ready')?.status, 'True');
  const table = await kubectl(['get', 'mv', 'face-attributes-v1']);
  assert.match(table, /face-attributes-v1\s+face-attributes\s+1\s+Ready/);
});

test("a trainer that exits 1 → TrainingRun Failed with the trainer's reason, nothing registered", async () => {
  await client.create(run('no-data', 'faces-broken', { epochs: '1' }, {}, 'pvc://e2e-data/missing'));
  const tr = await runFinished('no-data', 60_000);
  assert.is(tr.status?.phase, 'Failed');
  const c = cond(tr, 'Succeeded');
  assert.is(c?.status, 'False');
  assert.is(c?.reason, 'BackoffLimitExceeded');
  assert.match(c?.message ?? '', /the trainer failed: DataError: .*has no dataset\.json/);
  assert.is(tr.status?.modelVersion, undefined);
  const events = await client.list<{ reason?: string; involvedObject?: { name?: string } }>(Kinds.Event, {
    namespace: NS,
  });
  assert.ok(
    events.items.some((e) => e.involvedObject?.name === 'no-data' && e.reason === 'BackoffLimitExceeded'),
    'a Warning Event says why',
  );
});

// The dev cluster's nodes have no GPU (no device plugin), like a cluster without a GPU pool: the
// run's pod stays Pending, and the run says why, in the scheduler's words.
test('a GPU run on a cluster without GPUs waits with the reason: Unschedulable, Insufficient nvidia.com/gpu', async () => {
  const gpu = run('wants-gpu', 'faces-gpu', { epochs: '1' }, {});
  gpu.spec.resources = { gpus: 1 };
  await client.create(gpu);
  const tr = await waitFor(
    async () => {
      const r = await getRun('wants-gpu');
      return cond(r, 'Succeeded')?.reason === 'Unschedulable' ? r : undefined;
    },
    30_000,
    'TrainingRun wants-gpu Unschedulable',
    250,
  );
  assert.is(tr.status?.phase, 'Pending');
  assert.match(
    cond(tr, 'Succeeded')?.message ?? '',
    /^pod wants-gpu-\w+ cannot be scheduled: 0\/2 nodes are available: 2 Insufficient nvidia\.com\/gpu\. preemption: /,
  );
  const events = await client.list<{ reason?: string; involvedObject?: { name?: string } }>(Kinds.Event, {
    namespace: NS,
  });
  assert.ok(
    events.items.some((e) => e.involvedObject?.name === 'wants-gpu' && e.reason === 'Unschedulable'),
    'a Warning Event says why',
  );
  await client.delete(Kinds.TrainingRun, NS, 'wants-gpu');
});

test('an ONNX/signature mismatch and a skewed pre-processing are registered but Rejected with the reason', async () => {
  await client.create(
    run(
      'bad-signature',
      'faces-signature',
      { epochs: '1', corrupt: 'signature' },
      { GENERATE_DATA: '1', GENERATE_COUNT: '300' },
    ),
  );
  await client.create(
    run(
      'skewed',
      'faces-skew',
      { epochs: '6', skew: 'normalization', reference_size: '80' },
      { GENERATE_DATA: '1', GENERATE_COUNT: '1000' },
    ),
  );
  const [sig, skew] = await Promise.all([runFinished('bad-signature', 150_000), runFinished('skewed', 150_000)]);
  assert.is(sig.status?.phase, 'Succeeded', JSON.stringify(sig.status?.conditions));
  assert.is(skew.status?.phase, 'Succeeded', JSON.stringify(skew.status?.conditions));
  await waitFor(
    async () => (await getRun('bad-signature')).status?.modelVersion === 'faces-signature-v1',
    20_000,
    'signature run registered',
  );
  await waitFor(
    async () => (await getRun('skewed')).status?.modelVersion === 'faces-skew-v1',
    20_000,
    'skewed run registered',
  );
  const [sigMv, skewMv] = await Promise.all([
    versionSettled('faces-signature-v1', 90_000),
    versionSettled('faces-skew-v1', 90_000),
  ]);

  assert.is(sigMv.status?.phase, 'Rejected');
  assert.is(cond(sigMv, 'Validated')?.reason, 'SignatureMismatch');
  assert.match(cond(sigMv, 'Validated')?.message ?? '', /hair_color_missing/);
  assert.is(cond(sigMv, 'Ready')?.status, 'False');

  assert.is(skewMv.status?.phase, 'Rejected', JSON.stringify(skewMv.status));
  assert.is(cond(skewMv, 'Validated')?.reason, 'TrainingServingSkew');
  const s = skewMv.status?.skew;
  assert.ok(s && s.passed === false && (s.gap ?? 0) > 0.05, `skew numbers in status: ${JSON.stringify(s)}`);
  assert.is(s?.offline, skewMv.spec.metrics?.accuracy);
  assert.is(s?.serving, skewMv.status?.servingAccuracy);
});

test.run();
