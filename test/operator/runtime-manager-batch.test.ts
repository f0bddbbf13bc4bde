// childEventBatchMs against the dev-cluster API server: a burst of changes to a watched child
// is one reconcile, run after the batch period; a change of the reconciled object itself is
// not delayed.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import {
  startRuntimeCluster,
  sleepMs,
  waitFor,
  type RuntimeTestCluster,
} from '../../operator/runtime/testing/cluster.js';
import { WidgetKind, type Widget } from '../../operator/runtime/testing/widget.js';

const NS = 'batch';
const BATCH_MS = 400;
let t: RuntimeTestCluster;
let manager: Manager;
const reconciles: number[] = [];

const secret = (n: number): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 's1', namespace: NS, labels: { widget: 'w1' } },
  stringData: { n: String(n) },
});

test.before(async () => {
  t = await startRuntimeCluster([NS]);
  manager = new Manager({ client: t.client, log: createLogger({ silent: true }), namespaces: [NS] });
  manager.add({
    name: 'batched',
    forKind: WidgetKind,
    watches: [
      {
        kind: Kinds.Secret,
        mapToKeys: (s) => (s.metadata?.labels?.widget ? [{ namespace: NS, name: s.metadata.labels.widget }] : []),
      },
    ],
    childEventBatchMs: BATCH_MS,
    reconcile: async () => {
      reconciles.push(Date.now());
    },
  });
  void manager.start();
  await t.client.create<Widget>({
    apiVersion: 'test.modelship.dev/v1',
    kind: 'Widget',
    metadata: { name: 'w1', namespace: NS },
    spec: { data: { a: '1' } },
  });
  await waitFor(() => reconciles.length >= 1, 5000, 'first reconcile');
  await sleepMs(300);
});

test.after(async () => {
  await manager?.stop();
  await t?.stop();
});

test('a burst of child changes is one reconcile, after the batch period', async () => {
  const before = reconciles.length;
  const started = Date.now();
  await t.client.apply(secret(0));
  for (let i = 1; i <= 3; i++) await t.client.apply(secret(i));
  await sleepMs(BATCH_MS + 600);
  const mine = reconciles.slice(before);
  assert.is(mine.length, 1, `reconciles after the burst: ${mine.length}`);
  assert.ok(mine[0] - started >= BATCH_MS - 50, `ran ${mine[0] - started} ms after the first change`);
});

test('a change of the reconciled object itself is not delayed', async () => {
  const before = reconciles.length;
  const started = Date.now();
  const w = await t.client.get<Widget>(WidgetKind, NS, 'w1');
  await t.client.replace({ ...w, spec: { data: { a: '2' } } });
  await waitFor(() => reconciles.length > before, 2000, 'reconcile of the edit');
  assert.ok(reconciles[before] - started < BATCH_MS, `ran ${reconciles[before] - started} ms after the edit`);
});

test.run();
