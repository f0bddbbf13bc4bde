// Runtime scale check (not part of the suite): N widgets created at once against the dev
// cluster; prints time to converge, API requests and writes per object, steady-state writes
// and RSS. Usage: npx tsx operator/runtime/testing/widget-bench.ts [N]
import { createLogger } from '../logger.js';
import { Manager } from '../manager.js';
import { startRuntimeCluster, sleepMs, waitFor } from './cluster.js';
import { widgetController, WidgetKind, type Widget } from './widget.js';

const n = Number(process.argv[2] ?? 500);
const ns = 'bench';
const t = await startRuntimeCluster([ns]);
const manager = new Manager({
  client: t.client,
  log: createLogger({ silent: true }),
  namespaces: [ns],
  defaultConcurrency: 8,
});
manager.add(widgetController());
await manager.start();
t.cluster.api.resetCounters();
const started = Date.now();
await Promise.all(
  Array.from({ length: n }, (_, i) =>
    t.client.create<Widget>({
      apiVersion: 'test.modelship.dev/v1',
      kind: 'Widget',
      metadata: { name: `w${i}`, namespace: ns },
      spec: { data: { i: String(i) } },
    }),
  ),
);
await waitFor(
  () =>
    manager.cache.list<Widget>(WidgetKind, ns).filter((w) => w.status?.conditions?.[0]?.status === 'True').length === n,
  120_000,
  'all ready',
  100,
);
const convergeMs = Date.now() - started;
const c = t.cluster.api.counters();
await sleepMs(1000);
const before = t.cluster.api.counters().writes;
await sleepMs(3000);
const steady = t.cluster.api.counters().writes - before;
console.log(
  JSON.stringify({
    objects: n,
    convergeMs,
    requests: c.total,
    requestsPerObject: +(c.total / n).toFixed(2),
    writesPerObject: +((c.writes - n) / n).toFixed(2),
    steadyStateWrites: steady,
    rssMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    byKey: c.byKey,
  }),
);
await manager.stop();
await t.stop();
