// The runtime's Kubernetes client against the dev-cluster API server: typed errors with causes,
// server-side apply with our field manager (and no fight with another writer's fields), merge
// patch, optimistic concurrency, status through the subresource only when changed, discovery
// of kinds it does not know.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AlreadyExistsError,
  ConflictError,
  InvalidError,
  NotFoundError,
  UnavailableError,
  ignoreNotFound,
} from '../../operator/runtime/errors.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { startRuntimeCluster, type RuntimeTestCluster } from '../../operator/runtime/testing/cluster.js';
import type { Widget } from '../../operator/runtime/testing/widget.js';

const NS = 'cl';
let t: RuntimeTestCluster;

const cm = (name: string, data: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: NS, ...extra },
  data,
});

async function rejects(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

test.before(async () => {
  t = await startRuntimeCluster([NS]);
});

test.after(async () => {
  await t?.stop();
});

test('errors are typed: NotFound, AlreadyExists, Conflict, Invalid with causes, Unavailable', async () => {
  assert.instance(await rejects(t.client.get(Kinds.ConfigMap, NS, 'missing')), NotFoundError);
  assert.is(await ignoreNotFound(t.client.get(Kinds.ConfigMap, NS, 'missing')), undefined);
  const created = await t.client.create(cm('dup', { a: '1' }));
  assert.instance(await rejects(t.client.create(cm('dup', { a: '1' }))), AlreadyExistsError);
  await t.client.replace({ ...created, data: { a: '2' } });
  const stale = await rejects(t.client.replace({ ...created, data: { a: '3' } }));
  assert.instance(stale, ConflictError, 'a stale resourceVersion is a conflict');
  const invalid = await rejects(
    t.client.create({
      apiVersion: 'test.modelship.dev/v1',
      kind: 'Widget',
      metadata: { name: 'bad', namespace: NS },
      spec: { data: { a: 1 } },
    }),
  );
  assert.instance(invalid, InvalidError);
  assert.equal(
    (invalid as InvalidError).causes.map((c) => c.field),
    ['spec.data.a'],
  );
  t.cluster.api.faults.failNext({ verb: 'get', resource: 'configmaps', code: 503, count: 1 });
  assert.instance(await rejects(t.client.get(Kinds.ConfigMap, NS, 'dup')), UnavailableError);
});

test('server-side apply owns only the fields it sends and leaves other writers alone', async () => {
  await t.client.apply(cm('applied', { ours: '1' }, { labels: { app: 'x' } }));
  // Another writer adds its own key with a merge patch.
  await t.client.patchMerge(Kinds.ConfigMap, NS, 'applied', { data: { theirs: 'keep' } });
  const again = await t.client.apply(cm('applied', { ours: '2' }, { labels: { app: 'x' } }));
  assert.equal(again.data, { ours: '2', theirs: 'keep' });
  const managers = (again.metadata?.managedFields as Array<{ manager: string; operation: string }>).map(
    (m) => `${m.manager}/${m.operation}`,
  );
  assert.ok(managers.includes('modelship/Apply'), managers.join(','));
  const rvBefore = again.metadata?.resourceVersion;
  const same = await t.client.apply(cm('applied', { ours: '2' }, { labels: { app: 'x' } }));
  assert.is(same.metadata?.resourceVersion, rvBefore, 'an unchanged apply is a no-op on the server');
});

test('setStatus writes through /status only when the status changed', async () => {
  const w = await t.client.create<Widget>({
    apiVersion: 'test.modelship.dev/v1',
    kind: 'Widget',
    metadata: { name: 's', namespace: NS },
    spec: { data: {} },
  });
  const first = await t.client.setStatus(w, { keys: 1 });
  assert.ok(first.written);
  const before = t.cluster.api.counters().writes;
  const second = await t.client.setStatus(first.obj, { keys: 1 });
  assert.not.ok(second.written);
  assert.is(t.cluster.api.counters().writes, before);
  // A status write never changes spec, even when the object sent carries another spec.
  const third = await t.client.setStatus({ ...first.obj, spec: { data: { sneaky: 'x' } } }, { keys: 2 });
  assert.equal(third.obj.spec, { data: {} });
  assert.is(third.obj.status?.keys, 2);
});

test('kinds unknown to the client are found through discovery, once for concurrent callers', async () => {
  const kinds = await Promise.all(
    Array.from({ length: 5 }, () => t.client.resolveKind('rbac.authorization.k8s.io/v1', 'ClusterRole')),
  );
  assert.ok(kinds.every((k) => k.plural === 'clusterroles' && k.namespaced === false));
  assert.is(t.cluster.api.counters().byKey['get /apis/rbac.authorization.k8s.io/v1'], 1);
  const obj = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'r', namespace: NS },
    rules: [],
  };
  const created = await t.client.create(obj);
  assert.is(created.metadata?.name, 'r');
  const kind = await t.client.resolveKind('rbac.authorization.k8s.io/v1', 'Role');
  assert.is(kind.plural, 'roles');
  assert.instance(await rejects(t.client.resolveKind('v1', 'NoSuchKind')), InvalidError);
});

test('list pages through large collections and returns a resourceVersion to watch from', async () => {
  for (let i = 0; i < 7; i++) await t.client.create(cm(`page-${i}`, {}));
  const listsBefore = t.cluster.api.counters().byKey['list configmaps'] ?? 0;
  const all = await t.client.list(Kinds.ConfigMap, { namespace: NS, limit: 3 });
  const pages = (t.cluster.api.counters().byKey['list configmaps'] ?? 0) - listsBefore;
  assert.ok(pages >= 3, `${pages} pages`);
  assert.ok(all.items.filter((o) => o.metadata?.name?.startsWith('page-')).length === 7);
  assert.ok(Number(all.resourceVersion) > 0);
  assert.ok(all.items.every((o) => o.kind === 'ConfigMap' && o.apiVersion === 'v1'));
});

test.run();
