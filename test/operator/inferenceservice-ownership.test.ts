// The operator never takes over an object it did not create, through the real controller
// against the dev API server: an InferenceService named like a user's Service leaves that
// Service as it was (selector, owners, resourceVersion), reports the conflict in its
// conditions, and deleting the InferenceService does not delete the Service; a user's
// ServiceAccount named like the router's is not adopted either. Once the object in the way is
// gone, the service builds its children.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type InferenceService, type ModelVersion } from '../../operator/api/index.js';
import { inferenceServiceController } from '../../operator/controllers/inferenceservice/index.js';
import type { KubeClient } from '../../operator/runtime/client.js';
import { ignoreNotFound } from '../../operator/runtime/errors.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
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
  const mv = await client.create<ModelVersion>({
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: 'faces-v1', namespace: NS },
    spec: { model: 'faces', version: 1, artifact: { uri: 'pvc://models/faces/v1' } },
  } as ModelVersion);
  await client.updateStatus({ ...mv, status: { phase: 'Ready' } });
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

const service = (name: string) =>
  ({
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name, namespace: NS },
    spec: { model: 'faces' },
  }) as InferenceService;
const getIsvc = (name: string) => client.get<InferenceService>(Kinds.InferenceService, NS, name);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("an InferenceService named like a user's Service leaves it untouched and says so; deleting it keeps the Service", async () => {
  type Svc = KubeObject & { spec: { selector: Record<string, string> } };
  const victim = await client.create<Svc>({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'victim', namespace: NS, labels: { app: 'shop' } },
    spec: { selector: { app: 'shop' }, ports: [{ port: 80, targetPort: 8080 }] },
  } as Svc);
  await client.create(service('victim'));
  const failed = await waitFor(
    async () => {
      const s = await getIsvc('victim');
      return s.status?.phase === 'Failed' ? s : undefined;
    },
    10_000,
    'phase Failed',
    50,
  );
  const ready = failed.status?.conditions?.find((c) => c.type === 'Ready');
  assert.equal([ready?.status, ready?.reason], ['False', 'ChildConflict']);
  assert.match(
    ready?.message ?? '',
    /^Service default\/victim already exists and was not created by this InferenceService/,
  );
  await sleep(1500);
  const after = await client.get<Svc>(Kinds.Service, NS, 'victim');
  assert.equal(after.spec.selector, { app: 'shop' }, 'the selector is the user’s');
  assert.equal(after.metadata?.ownerReferences ?? [], [], 'no ownerReference added');
  assert.is(after.metadata?.resourceVersion, victim.metadata?.resourceVersion, 'not written at all');
  for (const name of ['victim-stable', 'victim-router'])
    assert.is(await ignoreNotFound(client.get(Kinds.Deployment, NS, name)), undefined, `${name} not built`);

  await client.delete(Kinds.InferenceService, NS, 'victim');
  await waitFor(
    async () => ((await ignoreNotFound(getIsvc('victim'))) ? undefined : true),
    10_000,
    'InferenceService gone',
    50,
  );
  await sleep(1000);
  assert.ok(await ignoreNotFound(client.get(Kinds.Service, NS, 'victim')), 'the user’s Service survives');
});

test("a user's ServiceAccount named like the router's is not adopted; once it is gone the service is built", async () => {
  const account = await client.create<KubeObject>({
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'faces-router', namespace: NS },
  } as KubeObject);
  await client.create(service('faces'));
  // The role Services and Deployments are built; the router's RBAC stops at the foreign account.
  await waitFor(
    async () => ((await ignoreNotFound(client.get(Kinds.Deployment, NS, 'faces-stable'))) ? true : undefined),
    10_000,
    'stable Deployment',
    50,
  );
  await sleep(1500);
  const untouched = await client.get<KubeObject>(Kinds.ServiceAccount, NS, 'faces-router');
  assert.equal(untouched.metadata?.ownerReferences ?? [], [], 'no ownerReference added');
  assert.is(untouched.metadata?.resourceVersion, account.metadata?.resourceVersion, 'not written at all');
  assert.is(await ignoreNotFound(client.get(Kinds.Deployment, NS, 'faces-router')), undefined, 'no router yet');

  await client.delete(Kinds.ServiceAccount, NS, 'faces-router');
  const built = await waitFor(
    async () => {
      const sa = await ignoreNotFound(client.get<KubeObject>(Kinds.ServiceAccount, NS, 'faces-router'));
      return sa?.metadata?.ownerReferences?.some((r) => r.kind === 'InferenceService') ? sa : undefined;
    },
    15_000,
    'the router ServiceAccount built by the service',
    100,
  );
  assert.ok(built);
});

test("a user's Role named like the router's is not adopted either", async () => {
  const role = await client.create<KubeObject>({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'pets-router', namespace: NS },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
  } as KubeObject);
  await client.create(service('pets'));
  await waitFor(
    async () => ((await ignoreNotFound(client.get(Kinds.ServiceAccount, NS, 'pets-router'))) ? true : undefined),
    10_000,
    'the router ServiceAccount (before the Role)',
    50,
  );
  await sleep(1500);
  const untouched = await client.get<KubeObject & { rules: unknown }>(Kinds.Role, NS, 'pets-router');
  assert.equal(untouched.metadata?.ownerReferences ?? [], []);
  assert.is(untouched.metadata?.resourceVersion, role.metadata?.resourceVersion, 'not written at all');
  assert.equal(untouched.rules, [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }]);
});

test.run();
