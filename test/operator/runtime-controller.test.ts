// Manager + demo Widget controller against the dev-cluster API server: convergence, through
// dropped streams, a forced 410, 500 bursts and injected 409s on status; children's events
// enqueue their owner; no writes at steady state (also across a forced re-list and resyncs);
// Events aggregated; /healthz, /readyz, /metrics; graceful stop that finishes in-flight work.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHealthServer, type HealthServer } from '../../operator/runtime/health.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import {
  startRuntimeCluster,
  waitFor,
  sleepMs,
  type RuntimeTestCluster,
} from '../../operator/runtime/testing/cluster.js';
import { widgetController, WidgetKind, type Widget } from '../../operator/runtime/testing/widget.js';

const NS = 'ctl';
let t: RuntimeTestCluster;
let manager: Manager;
let health: HealthServer;
const reconciles: string[] = [];
const mapped: string[] = [];
const fastInformers = { backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 }, healthyAfterMs: 500 };
const fastQueue = { initialMs: 50, maxMs: 1000, factor: 2, jitter: 0.2 };

const widget = (name: string, data: Record<string, string>): Widget => ({
  apiVersion: 'test.modelship.dev/v1',
  kind: 'Widget',
  metadata: { name, namespace: NS },
  spec: { data },
});

/** Every widget has its ConfigMap with its data and a Ready status for its generation. */
async function converged(names: string[]): Promise<boolean> {
  for (const name of names) {
    const w = await t.client.get<Widget>(WidgetKind, NS, name);
    const cm = await t.client.get<KubeObject>(Kinds.ConfigMap, NS, `${name}-data`).catch(() => undefined);
    if (!cm || JSON.stringify(cm.data ?? {}) !== JSON.stringify(w.spec?.data ?? {})) return false;
    const ready = w.status?.conditions?.find((c) => c.type === 'Ready');
    if (w.status?.observedGeneration !== w.metadata?.generation || ready?.status !== 'True') return false;
  }
  return true;
}

const writes = () => t.cluster.api.counters().writes;
const metric = async (name: string) => (await manager.metrics.registry.getSingleMetric(name)?.get())?.values ?? [];
const sum = async (name: string) => (await metric(name)).reduce((a, v) => a + v.value, 0);

test.before(async () => {
  t = await startRuntimeCluster([NS]);
  manager = new Manager({
    client: t.client,
    log: createLogger({ silent: true }),
    namespaces: [NS],
    informer: fastInformers,
    queueBackoff: fastQueue,
    resyncPeriodMs: 400,
  });
  manager.add(widgetController({ onReconcile: (k) => reconciles.push(k.name) }));
  // A second controller of the same kind that also watches Secrets, mapped to keys by a label.
  manager.add({
    name: 'secret-watcher',
    forKind: WidgetKind,
    watches: [
      {
        kind: Kinds.Secret,
        mapToKeys: (s) =>
          s.metadata?.labels?.widget ? [{ namespace: s.metadata.namespace ?? '', name: s.metadata.labels.widget }] : [],
      },
    ],
    reconcile: async (key) => {
      mapped.push(key.name);
    },
  });
  health = await startHealthServer({
    port: 0,
    host: '127.0.0.1',
    registry: manager.metrics.registry,
    isReady: () => manager.isReady(),
  });
});

test.after(async () => {
  await manager?.stop();
  await health?.close();
  await t?.stop();
});

test('readyz is 503 until caches sync, then the controller converges a batch of objects', async () => {
  const readyz = () => fetch(`http://127.0.0.1:${health.port}/readyz`).then((r) => r.status);
  assert.is(await readyz(), 503);
  const names = Array.from({ length: 8 }, (_, i) => `w${i}`);
  for (const n of names) await t.client.create(widget(n, { n, x: 'y' }));
  await manager.start();
  assert.is(await readyz(), 200);
  assert.is(await fetch(`http://127.0.0.1:${health.port}/healthz`).then((r) => r.status), 200);
  await waitFor(() => converged(names), 10_000, 'widgets converged');
  const cm = manager.cache.get(Kinds.ConfigMap, NS, 'w0-data');
  assert.ok(cm?.metadata?.ownerReferences?.[0].controller, 'children are owned by their widget');
});

test('deleting or editing a child enqueues its owner, which repairs it', async () => {
  await t.client.delete(Kinds.ConfigMap, NS, 'w1-data');
  await t.client.patchMerge(Kinds.ConfigMap, NS, 'w2-data', { data: { n: 'tampered' } });
  await waitFor(
    async () => {
      const a = await t.client.get<KubeObject>(Kinds.ConfigMap, NS, 'w1-data').catch(() => undefined);
      const b = await t.client.get<KubeObject>(Kinds.ConfigMap, NS, 'w2-data');
      return a && (b.data as Record<string, string>).n === 'w2';
    },
    5000,
    'children repaired',
  );
});

test('watched kinds enqueue the keys their mapping returns, for that controller only', async () => {
  await t.client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's1', namespace: NS, labels: { widget: 'only-via-secret' } },
  });
  await t.client.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's2', namespace: NS } });
  await waitFor(() => mapped.includes('only-via-secret'), 3000, 'mapped key reconciled');
  assert.not.ok(reconciles.includes('only-via-secret'), 'the widget controller does not watch Secrets');
  assert.ok(mapped.includes('w0'), 'the second controller also reconciles its own kind');
  // The cache tells a kind nobody informs from an object that is missing.
  assert.ok(
    manager.cache.informs(Kinds.Secret) && manager.cache.informs(WidgetKind) && manager.cache.informs(Kinds.ConfigMap),
  );
  assert.not.ok(manager.cache.informs(Kinds.ServiceAccount));
});

test('converges through dropped streams, a forced 410 and 500 bursts', async () => {
  const errorsBefore = await sum('modelship_operator_reconcile_errors_total');
  const faults = t.cluster.api.faults;
  faults.failNext({ verb: 'patch', resource: 'configmaps', code: 500, count: 4 });
  faults.failNext({
    verb: 'update',
    resource: 'widgets.test.modelship.dev',
    subresource: 'status',
    code: 500,
    count: 3,
  });
  faults.failNext({ verb: 'list', code: 500, count: 2 });
  // Spec edits while streams drop; then compaction so that resuming watches get 410 and re-list.
  await t.client.patchMerge(WidgetKind, NS, 'w3', { spec: { data: { n: 'w3', more: '1' } } });
  faults.dropWatches();
  await t.client.create(widget('w8', { n: 'w8' }));
  await t.client.patchMerge(WidgetKind, NS, 'w4', { spec: { data: { only: 'this' } } });
  faults.compact();
  faults.dropWatches();
  await t.client.create(widget('w9', { n: 'w9' }));
  const names = Array.from({ length: 10 }, (_, i) => `w${i}`);
  await waitFor(() => converged(names), 15_000, 'converged through faults');
  assert.ok(
    (await sum('modelship_operator_reconcile_errors_total')) > errorsBefore,
    'the injected errors did hit reconciles',
  );
  assert.ok((await sum('modelship_operator_informer_restarts_total')) >= 2, 'informers restarted');
});

test('an injected 409 on the status update is retried (re-read, re-computed) and the status lands', async () => {
  const before = t.cluster.api.counters().byKey['update widgets.test.modelship.dev/status'] ?? 0;
  t.cluster.api.faults.failNext({
    verb: 'update',
    resource: 'widgets.test.modelship.dev',
    subresource: 'status',
    name: 'w5',
    code: 409,
    count: 2,
  });
  await t.client.patchMerge(WidgetKind, NS, 'w5', { spec: { data: { fresh: 'data' } } });
  await waitFor(() => converged(['w5']), 5000, 'w5 converged');
  const after = t.cluster.api.counters().byKey['update widgets.test.modelship.dev/status'] ?? 0;
  assert.ok(after - before >= 3, `two conflicts then success (${after - before} status updates)`);
});

test('updateStatus with recompute gets the fresh object after a conflict', async () => {
  const w = await t.client.get<Widget>(WidgetKind, NS, 'w6');
  await t.client.patchMerge(WidgetKind, NS, 'w6', { metadata: { labels: { bump: '1' } } }); // w is now stale
  const seen: Array<string | undefined> = [];
  const stored = await t.client.updateStatus(
    { ...w, status: { ...w.status, keys: 99 } },
    {
      recompute: (fresh: Widget) => {
        seen.push(fresh.metadata?.labels?.bump);
        return { ...fresh.status, keys: 42 };
      },
    },
  );
  assert.equal(seen, ['1']);
  assert.is(stored.status?.keys, 42);
  // Put it back the way the controller wants it.
  await t.client.patchMerge(WidgetKind, NS, 'w6', { spec: { data: { n: 'w6', x: 'z' } } });
  await waitFor(() => converged(['w6']), 5000, 'w6 converged');
});

test('no writes at steady state: across resyncs and a forced re-list', async () => {
  const names = Array.from({ length: 10 }, (_, i) => `w${i}`);
  await waitFor(() => converged(names), 5000, 'converged');
  await manager.recorder.flush();
  await sleepMs(500); // let the last status write's own events come back
  const w0 = writes();
  const reconcilesBefore = reconciles.length;
  await sleepMs(1000);
  assert.is(writes() - w0, 0, `writes at steady state: ${JSON.stringify(t.cluster.api.counters().byKey)}`);
  assert.ok(reconciles.length - reconcilesBefore >= 10, 'resyncs did reconcile every widget');
  const restarts = await sum('modelship_operator_informer_restarts_total');
  t.cluster.api.faults.compact();
  await t.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'unrelated', namespace: 'default' } }); // moves the RV on
  t.cluster.api.faults.compact();
  const w1 = writes();
  const lists = manager.informer(WidgetKind).lists + manager.informer(Kinds.ConfigMap).lists;
  t.cluster.api.faults.dropWatches();
  await waitFor(
    async () => (await sum('modelship_operator_informer_restarts_total')) >= restarts + 2,
    5000,
    'restarts',
  );
  await waitFor(
    () => manager.informer(WidgetKind).lists + manager.informer(Kinds.ConfigMap).lists === lists + 2,
    5000,
    'both informers re-listed',
  );
  await sleepMs(800);
  assert.is(writes() - w1, 0, 'a re-list causes no writes');
});

test('repeated Events are aggregated into one Event with a count', async () => {
  const w = manager.cache.get<Widget>(WidgetKind, NS, 'w7')!;
  for (let i = 0; i < 3; i++) await manager.recorder.event(w, 'Warning', 'TestRepeat', 'the same thing happened again');
  const events = await t.client.list<KubeObject>(Kinds.Event, { namespace: NS });
  const mine = events.items.filter((e) => e.reason === 'TestRepeat');
  assert.is(mine.length, 1);
  assert.is(mine[0].count, 3);
  assert.is((mine[0].involvedObject as { name: string }).name, 'w7');
  assert.ok(
    events.items.some((e) => e.reason === 'Copied'),
    'the controller recorded Events too',
  );
});

test('metrics expose reconciles, errors, durations, queue depth, informer restarts and leadership', async () => {
  const text = await fetch(`http://127.0.0.1:${health.port}/metrics`).then((r) => r.text());
  for (const name of [
    'modelship_operator_reconcile_total{controller="widget",result="success"}',
    'modelship_operator_reconcile_errors_total{controller="widget"}',
    'modelship_operator_reconcile_duration_seconds_bucket{le="0.005",controller="widget"}',
    'modelship_operator_queue_depth{controller="widget"}',
    'modelship_operator_informer_restarts_total{kind="ConfigMap"}',
    'modelship_operator_leader 1',
  ])
    assert.ok(text.includes(name), `missing ${name}`);
});

test('graceful stop finishes the in-flight reconcile and starts no new one', async () => {
  const log: string[] = [];
  const slow = new Manager({
    client: t.client,
    log: createLogger({ silent: true }),
    namespaces: [NS],
    informer: fastInformers,
  });
  slow.add({
    ...widgetController({ name: 'slow' }),
    concurrency: 1,
    reconcile: async (key) => {
      log.push(`start ${key.name}`);
      await sleepMs(300);
      log.push(`end ${key.name}`);
    },
  });
  await slow.start();
  await waitFor(() => log.length > 0, 3000, 'first reconcile started');
  await slow.stop();
  assert.is(log.length, 2, `one reconcile, finished: ${log.join(', ')}`);
  assert.ok(log[1].startsWith('end'));
  assert.not.ok(slow.isReady());
});

test.run();
