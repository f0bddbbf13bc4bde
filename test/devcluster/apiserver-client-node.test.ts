// Conformance of the dev cluster API server with @kubernetes/client-node 1.4.0: informers
// through a forced 410 and dropped streams, patches of each type with an explicit
// Content-Type, status subresource, conflicts, garbage collection, finalizers, invalid objects.
import {
  ApiException,
  AppsV1Api,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  PatchStrategy,
  makeInformer,
  setHeaderOptions,
  type KubeConfig,
  type V1ConfigMap,
  type Informer,
  type ObjectCache,
} from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';

let c: TestCluster;
let kc: KubeConfig;
let core: CoreV1Api;
const NS = 'default';

test.before(async () => {
  c = await startTestCluster();
  kc = c.kubeConfig();
  core = kc.makeApiClient(CoreV1Api);
});
test.after(async () => {
  await c?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
async function apiError(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiException)
      return { code: err.code, body: typeof err.body === 'string' ? JSON.parse(err.body) : err.body };
    throw err;
  }
  throw new Error('expected the call to fail');
}
const cm = (name: string, labels: Record<string, string> = {}): V1ConfigMap => ({
  metadata: { name, labels },
  data: { v: '0' },
});

test('informer: list+watch, a forced 410 relists, dropped streams resume (restart on error as the operator does)', async () => {
  const listFn = () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'inf=yes' });
  const informer: Informer<V1ConfigMap> & ObjectCache<V1ConfigMap> = makeInformer(
    kc,
    `/api/v1/namespaces/${NS}/configmaps`,
    listFn,
    'inf=yes',
  );
  const seen: string[] = [];
  let errors = 0;
  let stopped = false;
  informer.on('add', (o) => seen.push(`add ${o.metadata!.name}`));
  informer.on('update', (o) => seen.push(`update ${o.metadata!.name} ${o.data?.v}`));
  informer.on('delete', (o) => seen.push(`delete ${o.metadata!.name}`));
  informer.on('error', () => {
    errors++;
    setTimeout(() => {
      if (!stopped) informer.start().catch(() => undefined);
    }, 100);
  });
  await core.createNamespacedConfigMap({ namespace: NS, body: cm('i1', { inf: 'yes' }) });
  await informer.start();
  try {
    await until('initial add', () => seen.includes('add i1'));
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('i2', { inf: 'yes' }) });
    await until('watch add', () => seen.includes('add i2'));

    // 1. forced 410 on the next watch: the informer relists and carries on.
    c.api.resetCounters();
    c.api.faults.failNext({ verb: 'watch', resource: 'configmaps', code: 410 });
    assert.is(c.api.faults.dropWatches({ resource: 'configmaps' }), 1);
    await until('relist after 410', () => (c.api.counters().byKey['list configmaps'] ?? 0) >= 1);
    await core.patchNamespacedConfigMap(
      { namespace: NS, name: 'i2', body: { data: { v: '1' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await until('update after 410', () => seen.includes('update i2 1'));

    // 2. abrupt drop: the informer reports an error and is restarted; changes made meanwhile arrive.
    assert.is(c.api.faults.dropWatches({ resource: 'configmaps', abrupt: true }), 1);
    await core.deleteNamespacedConfigMap({ namespace: NS, name: 'i1' });
    await until('restart after error', () => errors >= 1);
    await until('delete seen after restart', () => seen.includes('delete i1'));

    // 3. history compacted while connected: resuming from an old RV answers 410, the informer relists.
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('i3', { inf: 'yes' }) });
    await until('add i3', () => seen.includes('add i3'));
    c.api.faults.compact();
    c.api.resetCounters();
    c.api.faults.dropWatches({ resource: 'configmaps' });
    await core.createNamespacedConfigMap({ namespace: NS, body: cm('i4', { inf: 'yes' }) });
    await until('add i4 after compaction', () => seen.includes('add i4'));
    assert.equal(
      informer
        .list(NS)
        .map((o) => o.metadata!.name)
        .sort(),
      ['i2', 'i3', 'i4'],
    );
  } finally {
    stopped = true;
    await informer.stop();
  }
});

test('patches of each type with an explicit Content-Type, and server-side apply', async () => {
  await core.createNamespacedConfigMap({ namespace: NS, body: cm('p', { a: '1' }) });
  const patch = (body: object, type: string, extra: Record<string, unknown> = {}) =>
    core.patchNamespacedConfigMap({ namespace: NS, name: 'p', body, ...extra }, setHeaderOptions('Content-Type', type));
  let r = await patch({ metadata: { labels: { b: '2' } } }, PatchStrategy.MergePatch);
  assert.equal(r.metadata!.labels, { a: '1', b: '2' });
  r = await patch([{ op: 'remove', path: '/metadata/labels/a' }], PatchStrategy.JsonPatch);
  assert.equal(r.metadata!.labels, { b: '2' });
  r = await patch({ metadata: { finalizers: ['x/y'] }, data: { w: '1' } }, PatchStrategy.StrategicMergePatch);
  assert.equal(r.data, { v: '0', w: '1' });
  r = await patch(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p' }, data: { v: '9' } },
    PatchStrategy.ServerSideApply,
    { fieldManager: 'client-node-test', force: true },
  );
  assert.is(r.data!.v, '9');
  assert.ok(r.metadata!.managedFields!.some((m) => m.manager === 'client-node-test' && m.operation === 'Apply'));
  await patch({ metadata: { finalizers: null } }, PatchStrategy.MergePatch);
  // The generic object API takes the strategy as a parameter.
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const o = await objects.patch(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p', namespace: NS }, data: { z: '1' } },
    undefined,
    undefined,
    undefined,
    undefined,
    PatchStrategy.MergePatch,
  );
  assert.is((o as V1ConfigMap).data!.z, '1');
});

test('409 conflicts on stale resourceVersions and AlreadyExists', async () => {
  const first = await core.createNamespacedConfigMap({ namespace: NS, body: cm('conf') });
  await core.replaceNamespacedConfigMap({ namespace: NS, name: 'conf', body: { ...first, data: { v: '1' } } });
  const stale = await apiError(
    core.replaceNamespacedConfigMap({ namespace: NS, name: 'conf', body: { ...first, data: { v: '2' } } }),
  );
  assert.is(stale.code, 409);
  assert.is(stale.body.reason, 'Conflict');
  const dup = await apiError(core.createNamespacedConfigMap({ namespace: NS, body: cm('conf') }));
  assert.is(dup.code, 409);
  assert.is(dup.body.reason, 'AlreadyExists');
});

test('custom resources: CRD served at once, status subresource, invalid objects with their messages', async () => {
  // client-node's typed serializer drops schema keys it models under other names (`enum` is
  // `_enum`), so the CRD goes in through kubectl; the client reads it back.
  const r = await c.kubectl(['apply', '-f', new URL('./fixtures/widgets-crd.yaml', import.meta.url).pathname]);
  assert.is(r.code, 0, r.stderr);
  const crd = await kc
    .makeApiClient(ApiextensionsV1Api)
    .readCustomResourceDefinition({ name: 'widgets.test.modelship.dev' });
  assert.ok(crd.status!.conditions!.some((cond) => cond.type === 'Established' && cond.status === 'True'));
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ref = { group: 'test.modelship.dev', version: 'v1alpha1', namespace: NS, plural: 'widgets' };
  const w: any = await custom.createNamespacedCustomObject({
    ...ref,
    body: { apiVersion: 'test.modelship.dev/v1alpha1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 } },
  });
  assert.is(w.metadata.generation, 1);
  const withStatus: any = await custom.replaceNamespacedCustomObjectStatus({
    ...ref,
    name: 'w',
    body: { ...w, spec: { size: 50 }, status: { phase: 'Ready', replicas: 1 } },
  });
  assert.is(withStatus.status.phase, 'Ready');
  assert.is(withStatus.spec.size, 1);
  const bad = await apiError(
    custom.createNamespacedCustomObject({
      ...ref,
      body: {
        apiVersion: 'test.modelship.dev/v1alpha1',
        kind: 'Widget',
        metadata: { name: 'bad' },
        spec: { size: -1, color: 'pink' },
      },
    }),
  );
  assert.is(bad.code, 422);
  assert.is(bad.body.reason, 'Invalid');
  assert.match(bad.body.message, /^Widget\.test\.modelship\.dev "bad" is invalid: \[/, bad.body.message);
  assert.ok(
    bad.body.details.causes.some((cause: any) => cause.field === 'spec.size' && cause.reason === 'FieldValueInvalid'),
    JSON.stringify(bad.body.details.causes),
  );
  assert.ok(
    bad.body.details.causes.some(
      (cause: any) => cause.field === 'spec.color' && cause.reason === 'FieldValueNotSupported',
    ),
    JSON.stringify(bad.body.details.causes),
  );
  const smp = await apiError(
    custom.patchNamespacedCustomObject(
      { ...ref, name: 'w', body: { spec: { size: 2 } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    ),
  );
  assert.is(smp.code, 415);
  const badField = await apiError(custom.listNamespacedCustomObject({ ...ref, fieldSelector: 'spec.size=1' }));
  assert.is(badField.code, 400);
});

test('garbage collection of a ReplicaSet owned by a Deployment; finalizers hold deletion', async () => {
  const apps = kc.makeApiClient(AppsV1Api);
  const template = { metadata: { labels: { app: 'gc' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  const d = await apps.createNamespacedDeployment({
    namespace: NS,
    body: { metadata: { name: 'gc' }, spec: { selector: { matchLabels: { app: 'gc' } }, template } },
  });
  await apps.createNamespacedReplicaSet({
    namespace: NS,
    body: {
      metadata: {
        name: 'gc-1',
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: 'gc',
            uid: d.metadata!.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { selector: { matchLabels: { app: 'gc' } }, template },
    },
  });
  await apps.deleteNamespacedDeployment({ namespace: NS, name: 'gc', propagationPolicy: 'Background' });
  await until(
    'replicaset collected',
    async () =>
      (await apiError(apps.readNamespacedReplicaSet({ namespace: NS, name: 'gc-1' })).catch(() => ({ code: 0 })))
        .code === 404,
  );

  await core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } },
  });
  await core.deleteNamespacedConfigMap({ namespace: NS, name: 'held' });
  const held = await core.readNamespacedConfigMap({ namespace: NS, name: 'held' });
  assert.ok(held.metadata!.deletionTimestamp, 'deletionTimestamp set');
  await core.patchNamespacedConfigMap(
    { namespace: NS, name: 'held', body: [{ op: 'remove', path: '/metadata/finalizers' }] },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  assert.is((await apiError(core.readNamespacedConfigMap({ namespace: NS, name: 'held' }))).code, 404);
});

test.run();
