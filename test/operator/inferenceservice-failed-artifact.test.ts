// A spec that cannot be served, through the real controller against the dev API server: a
// Ready ModelVersion whose artifact no pod can mount. The service goes to phase Failed with one
// status write, conditions that say why (Ready and Degraded, not "serving as expected"), no
// serving children, and stays there: no reconcile loop on its own writes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type InferenceService, type ModelVersion } from '../../operator/api/index.js';
import { inferenceServiceController } from '../../operator/controllers/inferenceservice/index.js';
import type { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { startClusterWithCrds } from '../support/crd-cluster.js';
import type { TestCluster } from '../support/devcluster.js';

const NS = 'default';
let cluster: TestCluster;
let client: KubeClient;
let manager: Manager;

test.before(async () => {
  ({ cluster, client } = await startClusterWithCrds());
  manager = new Manager({
    client,
    log: createLogger({ silent: true }),
    leaderElection: false,
    queueBackoff: { initialMs: 50, maxMs: 500, factor: 2, jitter: 0.1 },
  });
  manager.add(inferenceServiceController({ servingImage: 'modelship/serving:test' }));
  await manager.start();
});

test.after(async () => {
  await manager?.stop();
  await cluster?.stop();
});

test('an unmountable artifact: Failed once, truthful conditions, no children, no loop', async () => {
  // A claim name that is no DNS name passes the schema's URI checks, but no pod can mount it.
  const mv = await client.create<ModelVersion>({
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: 'faces-v1', namespace: NS },
    spec: { model: 'faces', version: 1, artifact: { uri: 'pvc://Models_Old/faces/v1' } },
  } as ModelVersion);
  await client.updateStatus({ ...mv, status: { phase: 'Ready' } });
  const statusWrites = () => cluster.api.counters().byKey['update inferenceservices.modelship.dev/status'] ?? 0;
  await client.create({
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: 'faces', namespace: NS },
    spec: { model: 'faces' },
  } as InferenceService);
  const failed = await waitFor(
    async () => {
      const s = await client.get<InferenceService>(Kinds.InferenceService, NS, 'faces');
      return s.status?.phase === 'Failed' ? s : undefined;
    },
    10_000,
    'phase Failed',
    50,
  );
  const condition = (type: string) => failed.status?.conditions?.find((c) => c.type === type);
  assert.equal([condition('Ready')?.status, condition('Ready')?.reason], ['False', 'ArtifactNotMountable']);
  assert.equal([condition('Degraded')?.status, condition('Degraded')?.reason], ['True', 'ArtifactNotMountable']);
  assert.match(condition('Degraded')?.message ?? '', /"Models_Old" is not a PersistentVolumeClaim name/);
  assert.is(failed.status?.stable?.version, 1, 'the version it tried to serve is kept');

  // Steady state: each further reconcile (its own write's watch event, a re-queue) decides the same.
  const writes = statusWrites();
  const version = failed.metadata.resourceVersion;
  await new Promise((r) => setTimeout(r, 2_000));
  const later = await client.get<InferenceService>(Kinds.InferenceService, NS, 'faces');
  assert.is(later.metadata.resourceVersion, version, 'no write after Failed');
  assert.is(statusWrites(), writes);
  assert.is(writes, 1, 'one status write from creation to Failed');
  for (const kind of [Kinds.Deployment, Kinds.Service])
    assert.is(
      (await client.list(kind, { namespace: NS })).items.filter((o) => o.metadata?.name?.startsWith('faces')).length,
      0,
      `no ${kind.kind}`,
    );
});

test.run();
