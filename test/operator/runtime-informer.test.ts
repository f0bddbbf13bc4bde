// Supervised informer against the dev-cluster API server with fault injection: cache sync,
// 410 mid-watch (history compacted while the stream was down) and 410 answers, dropped
// streams, 500 bursts on list, and reconnects spaced by backoff when watches are refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Informer } from '../../operator/runtime/informer.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import {
  startRuntimeCluster,
  waitFor,
  sleepMs,
  type RuntimeTestCluster,
} from '../../operator/runtime/testing/cluster.js';

let t: RuntimeTestCluster;
const informers: Informer[] = [];
const backoff = { initialMs: 200, maxMs: 1000, factor: 2, jitter: 0.2 };

const cm = (namespace: string, name: string, data: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace, name },
  data,
});

function startInformer(namespaces: string[], opts: Partial<ConstructorParameters<typeof Informer>[1]> = {}): Informer {
  const inf = new Informer(t.client, { kind: Kinds.ConfigMap, namespaces, backoff, healthyAfterMs: 500, ...opts });
  informers.push(inf);
  inf.start();
  return inf;
}

/** The informer's cache equals the server's list (names and resourceVersions). */
async function cacheMatchesServer(inf: Informer, namespace: string): Promise<boolean> {
  const server = await t.client.list(Kinds.ConfigMap, { namespace });
  const want = server.items
    .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
    .sort()
    .join(',');
  const have = inf.store
    .list(namespace)
    .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
    .sort()
    .join(',');
  return want === have;
}

const counter = (key: string) => t.cluster.api.counters().byKey[key] ?? 0;

test.before(async () => {
  t = await startRuntimeCluster(['inf-a', 'inf-b', 'inf-c', 'inf-d', 'inf-quiet'], { bookmarkIntervalMs: 150 });
});

test.after(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  await t?.stop();
});

test('lists, watches and keeps the cache in sync across namespaces, with handlers called', async () => {
  await t.client.create(cm('inf-a', 'one', { k: '1' }));
  await t.client.create(cm('inf-b', 'two'));
  await t.client.create(cm('inf-c', 'not-watched'));
  const seen: string[] = [];
  const inf = new Informer(t.client, { kind: Kinds.ConfigMap, namespaces: ['inf-a', 'inf-b'], backoff });
  informers.push(inf);
  inf.addHandler({
    onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
    onUpdate: (_old, o) => seen.push(`update ${o.metadata?.name}`),
    onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
  });
  assert.not.ok(inf.hasSynced());
  inf.start();
  await inf.waitForSync();
  assert.ok(inf.hasSynced());
  // Every namespace also holds kube-root-ca.crt (the root-CA publisher), as on a real cluster.
  assert.equal(
    inf.store
      .keys()
      .filter((k) => !k.endsWith('/kube-root-ca.crt'))
      .sort(),
    ['inf-a/one', 'inf-b/two'],
  );
  await t.client.patchMerge(Kinds.ConfigMap, 'inf-a', 'one', { data: { k: '2' } });
  await t.client.create(cm('inf-b', 'three'));
  await t.client.delete(Kinds.ConfigMap, 'inf-b', 'two');
  await waitFor(() => seen.includes('delete two'), 3000, 'watch events');
  assert.equal(
    seen.filter((s) => s !== 'add kube-root-ca.crt').sort(),
    ['add one', 'add three', 'add two', 'delete two', 'update one'].sort(),
  );
  assert.is((inf.store.get('inf-a', 'one')?.data as Record<string, string>).k, '2');
  assert.is(inf.store.get('inf-a', 'one')?.kind, 'ConfigMap', 'cached objects carry their kind');
  assert.is(inf.store.get('inf-c', 'not-watched'), undefined);
});

test('re-lists through a 410 mid-watch and converges on changes made while it was disconnected', async () => {
  const inf = startInformer(['inf-c']);
  await waitFor(() => inf.openWatches === 1, 3000, 'watching');
  const restartsBefore = inf.restarts;
  // Drop the stream, change things and compact history while it is down: the informer resumes
  // from a resourceVersion the server no longer has and must get 410 and re-list.
  assert.ok(t.cluster.api.faults.dropWatches({ resource: 'configmaps', namespace: 'inf-c' }) >= 1);
  await t.client.create(cm('inf-c', 'made-while-down'));
  await t.client.delete(Kinds.ConfigMap, 'inf-c', 'not-watched');
  t.cluster.api.faults.compact();
  await waitFor(() => cacheMatchesServer(inf, 'inf-c'), 5000, 'cache converged after 410');
  assert.is(inf.lists, 2, 're-listed once');
  assert.ok(
    inf.restarts >= restartsBefore + 2,
    `restarted for the drop and the 410 (${inf.restarts - restartsBefore})`,
  );
  assert.ok(inf.store.get('inf-c', 'made-while-down'));
  assert.is(inf.store.get('inf-c', 'not-watched'), undefined, 'a delete missed during the outage is seen');
  // And it keeps watching afterwards.
  await t.client.create(cm('inf-c', 'after'));
  await waitFor(() => inf.store.get('inf-c', 'after'), 3000, 'watch resumed after re-list');
});

test('a 410 answer to the watch request also leads to a re-list', async () => {
  const inf = startInformer(['inf-d']);
  await waitFor(() => inf.openWatches === 1, 3000, 'watching');
  t.cluster.api.faults.failNext({ verb: 'watch', resource: 'configmaps', namespace: 'inf-d', code: 410, count: 1 });
  t.cluster.api.faults.dropWatches({ resource: 'configmaps', namespace: 'inf-d' });
  await t.client.create(cm('inf-d', 'x'));
  await waitFor(() => inf.store.get('inf-d', 'x'), 5000, 'converged after 410 answer');
  assert.is(inf.lists, 2, 're-listed after the 410 answer');
});

test('dropped streams resume from the last resourceVersion without re-listing', async () => {
  const inf = startInformer(['inf-d']);
  await waitFor(() => inf.openWatches === 1, 3000, 'watching');
  for (let i = 0; i < 3; i++) {
    await waitFor(() => inf.openWatches === 1, 3000, 'watching');
    t.cluster.api.faults.dropWatches({ resource: 'configmaps', namespace: 'inf-d' });
    await t.client.create(cm('inf-d', `drop-${i}`));
    await waitFor(() => inf.store.get('inf-d', `drop-${i}`), 5000, `event after drop ${i}`);
  }
  assert.is(inf.lists, 1, 'history was still there: no re-list needed');
  assert.ok(await cacheMatchesServer(inf, 'inf-d'));
});

test('a burst of 500s on list is retried with backoff until the cache syncs', async () => {
  t.cluster.api.faults.failNext({ verb: 'list', resource: 'configmaps', namespace: 'inf-a', code: 500, count: 3 });
  const inf = startInformer(['inf-a'], { backoff: { initialMs: 50, maxMs: 400, factor: 2, jitter: 0.2 } });
  await waitFor(() => inf.hasSynced(), 5000, 'sync after 500s');
  assert.is(inf.restarts, 3);
  assert.ok(await cacheMatchesServer(inf, 'inf-a'));
});

test('with the server refusing watches, reconnects are spaced by backoff (no busy loop) and recover', async () => {
  const fault = t.cluster.api.faults.failNext({
    verb: 'watch',
    resource: 'configmaps',
    namespace: 'inf-b',
    code: 500,
    always: true,
  });
  const watchesBefore = counter('watch configmaps');
  const policy = { initialMs: 50, maxMs: 400, factor: 2, jitter: 0.2 };
  const inf = startInformer(['inf-b'], { backoff: policy });
  await inf.waitForSync();
  await sleepMs(1500);
  // The server counts an attempt when it arrives, the informer when its refusal does: compare
  // them between attempts, not while one is in flight (seen once under load: 6 vs 7).
  await waitFor(
    () => inf.restarts === counter('watch configmaps') - watchesBefore,
    2000,
    'every refused watch counted as a restart',
  );
  const attempts = counter('watch configmaps') - watchesBefore;
  // Delays 50,100,200,400,400,… (±20%): about 6 attempts in 1.5 s; a busy loop would make hundreds.
  assert.ok(attempts >= 3 && attempts <= 10, `${attempts} watch attempts in about 1.5 s`);
  assert.is(inf.restarts, attempts);
  t.cluster.api.faults.remove(fault);
  await t.client.create(cm('inf-b', 'after-outage'));
  await waitFor(() => inf.store.get('inf-b', 'after-outage'), 3000, 'recovered after the outage');
});

test('a working watch dropped again and again is resumed at once each time (a refused one still backs off: above)', async () => {
  // healthyAfterMs 60 s: only the "made progress" rule can reset the backoff here.
  const inf = startInformer(['inf-d'], {
    backoff: { initialMs: 100, maxMs: 5000, factor: 2, jitter: 0.2 },
    healthyAfterMs: 60_000,
  });
  await waitFor(() => inf.openWatches === 1, 3000, 'watching');
  const reopenMs: number[] = [];
  for (let i = 0; i < 6; i++) {
    await sleepMs(300); // bookmarks arrive every 150 ms: the stream is working
    t.cluster.api.faults.dropWatches({ resource: 'configmaps', namespace: 'inf-d' });
    const dropped = Date.now();
    await waitFor(() => inf.restarts >= i + 1 && inf.openWatches === 1, 8000, `watch ${i + 1} resumed`, 10);
    reopenMs.push(Date.now() - dropped);
  }
  // Without the reset the sixth resume waits ~3.2 s (100 ms doubled five times).
  assert.ok(Math.max(...reopenMs) < 1000, `resumed after ${reopenMs.join(', ')} ms`);
  await t.client.create(cm('inf-d', 'after-drops'));
  await waitFor(() => inf.store.get('inf-d', 'after-drops'), 3000, 'events flow after the drops');
});

test("bookmarks keep a quiet watch's resourceVersion fresh, so a compaction needs no re-list", async () => {
  const inf = startInformer(['inf-quiet']);
  await waitFor(() => inf.openWatches === 1, 3000, 'watching');
  // Writes elsewhere move the cluster's resourceVersion on; bookmarks carry it to this watch.
  for (let i = 0; i < 3; i++) await t.client.create(cm('inf-a', `elsewhere-${i}`));
  await sleepMs(400);
  t.cluster.api.faults.compact();
  t.cluster.api.faults.dropWatches({ resource: 'configmaps', namespace: 'inf-quiet' });
  await waitFor(() => inf.restarts >= 1 && inf.openWatches === 1, 3000, 'watch resumed');
  await t.client.create(cm('inf-quiet', 'q'));
  await waitFor(() => inf.store.get('inf-quiet', 'q'), 3000, 'event after resuming');
  assert.is(inf.lists, 1, 'resumed from the bookmarked resourceVersion without a 410');
});

test.run();
