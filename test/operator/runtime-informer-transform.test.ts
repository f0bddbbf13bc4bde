// The informer caches objects without metadata.managedFields (memory: no controller reads
// them), on list and on watch events alike; a write built from such a cached copy leaves the
// stored managedFields in place; a custom transform replaces the default.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Informer, stripManagedFields } from '../../operator/runtime/informer.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { startRuntimeCluster, waitFor, type RuntimeTestCluster } from '../../operator/runtime/testing/cluster.js';

let t: RuntimeTestCluster;
const informers: Informer[] = [];

const cm = (name: string, data: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'default', name },
  data,
});

function start(opts: Partial<ConstructorParameters<typeof Informer>[1]> = {}): Informer {
  const inf = new Informer(t.client, { kind: Kinds.ConfigMap, namespaces: ['default'], ...opts });
  informers.push(inf);
  inf.start();
  return inf;
}

test.before(async () => {
  t = await startRuntimeCluster();
});

test.after(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  await t?.stop();
});

test('stripManagedFields drops only managedFields', () => {
  const obj = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'x', labels: { a: 'b' }, managedFields: [{ manager: 'm' }] },
  };
  assert.equal(stripManagedFields(obj), {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'x', labels: { a: 'b' } },
  });
  assert.equal(stripManagedFields({ kind: 'X' }), { kind: 'X' });
});

test('listed and watched objects are cached without managedFields; the server keeps them across a write from the cache', async () => {
  await t.client.apply(cm('listed', { k: '1' }));
  const inf = start();
  await inf.waitForSync();
  const stored = await t.client.get(Kinds.ConfigMap, 'default', 'listed');
  assert.ok(stored.metadata?.managedFields?.length, 'the server records managedFields for the apply');
  assert.is(inf.store.get('default', 'listed')?.metadata?.managedFields, undefined);
  assert.is(inf.store.get('default', 'listed')?.metadata?.resourceVersion, stored.metadata?.resourceVersion);

  await t.client.apply(cm('watched', { k: '1' }));
  const watched = await waitFor(() => inf.store.get('default', 'watched'), 5000, 'watched object cached');
  assert.is(watched.metadata?.managedFields, undefined);
  assert.is((watched as { data?: Record<string, string> }).data?.k, '1');

  // An update built from the cached copy (as status writes are) omits managedFields; the
  // applier's ownership of the fields the update leaves alone survives.
  const cached = inf.store.get('default', 'listed')!;
  await t.client.replace({ ...cached, metadata: { ...cached.metadata, labels: { touched: 'yes' } } });
  const after = await t.client.get(Kinds.ConfigMap, 'default', 'listed');
  assert.is(after.metadata?.labels?.touched, 'yes');
  const applied = after.metadata?.managedFields?.find((e) => (e as { operation?: string }).operation === 'Apply') as
    { fieldsV1?: { 'f:data'?: unknown } } | undefined;
  assert.ok(applied?.fieldsV1?.['f:data'], 'the apply entry still owns data');
});

test('a custom transform replaces the default', async () => {
  await t.client.apply(cm('custom', { k: '1' }));
  const inf = start({ transform: (o) => ({ ...o, metadata: { ...o.metadata, labels: { transformed: 'yes' } } }) });
  await inf.waitForSync();
  const obj = inf.store.get('default', 'custom');
  assert.is(obj?.metadata?.labels?.transformed, 'yes');
  assert.ok(obj?.metadata?.managedFields?.length, 'the default strip is not applied on top of a custom transform');
});

test.run();
