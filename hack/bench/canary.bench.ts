// Canary decision figures on the dev cluster (real serving pods, router, Prometheus scraping
// every 2 s, the operator's controllers in this process, labelled load at 40 requests/s):
//   time-to-rollback  a bad canary (shuffled-label model) starts taking traffic → status says
//                     RolledBack; target ≤ failureLimit × interval + one scrape interval
//   decision latency  analysis due (one interval after the step or the previous analysis) →
//                     the decision in status; target ≤ one scrape interval
//   router latency    the RolledBack status → the router's table without the canary; target < 1 s
// Usage: npx tsx hack/bench/canary.bench.ts   (about 2 minutes; interval 10 s, failureLimit 2)
import type { InferenceService } from '../../operator/api/index.js';
import { buildControllers } from '../../operator/controllers/registry.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import {
  createReadyVersion,
  inferenceService,
  MODEL,
  NS,
  routerUrl,
  startFixture,
} from '../../test/e2e/canary-support.js';
import { readFeedbackCredential } from '../loadgen/credential.js';
import { emptyStats, runLoad } from '../loadgen/loadgen.js';
import { routerUpstreams } from '../loadgen/router-admin.js';

const INTERVAL_MS = 10_000;
const fx = await startFixture(1);
const manager = new Manager({ client: fx.client, log: createLogger({ silent: true }), leaderElection: false });
for (const c of buildControllers({
  namespaces: [],
  prometheusUrl: fx.cluster.prometheusUrl,
  servingImage: 'modelship/serving:bench',
}))
  manager.add(c);
await manager.start();
const stop = new AbortController();
let load: Promise<unknown> | undefined;
try {
  const get = () => fx.client.get<InferenceService>(Kinds.InferenceService, NS, MODEL);
  await createReadyVersion(fx.client, 1, 'good-1');
  // The CRD defaults but a 10 s interval (the e2e scenarios' setting; see inferenceService()).
  await fx.client.create(inferenceService());
  await waitFor(async () => ((await get()).status?.phase === 'Serving' ? true : undefined), 90_000, 'Serving', 250);
  const url = await routerUrl(fx.client);
  const feedbackCredential = await readFeedbackCredential(fx.client, NS, MODEL);
  load = runLoad(
    { url, imagesDir: fx.imagesDir, rps: 40, signal: stop.signal, concurrency: 32, feedbackCredential },
    emptyStats(),
  );
  await createReadyVersion(fx.client, 2, 'bad');
  const decisions: number[] = [];
  let trafficAt = 0;
  let rolledAt = 0;
  let routerAt = 0;
  let lastAnalysis = '';
  let dueAt = 0;
  await waitFor(
    async () => {
      const [s, table] = await Promise.all([
        get(),
        routerUpstreams(fx.client, NS, MODEL).then((upstreams) => upstreams && { upstreams }),
      ]);
      const now = Date.now();
      const c = s.status?.canary;
      if (!trafficAt && c?.stepStartedAt) {
        trafficAt = Date.parse(c.stepStartedAt);
        dueAt = trafficAt + INTERVAL_MS;
      }
      const a = s.status?.analysis;
      if (a?.time && a.time !== lastAnalysis && dueAt) {
        decisions.push(Date.parse(a.time) - dueAt);
        lastAnalysis = a.time;
        dueAt = Date.parse(a.time) + INTERVAL_MS;
      }
      if (!rolledAt && s.status?.history?.some((h) => h.version === 2)) rolledAt = now;
      if (rolledAt && !routerAt && table && !table.upstreams.some((u) => u.version === '2' && u.weight > 0))
        routerAt = now;
      return rolledAt && routerAt ? true : undefined;
    },
    180_000,
    'bad canary rolled back',
    20,
  );
  const figures = {
    timeToRollbackS: +((rolledAt - trafficAt) / 1000).toFixed(1),
    targetS: (2 * INTERVAL_MS + 2000) / 1000,
    decisionLatencyMs: decisions,
    routerLatencyMs: routerAt - rolledAt,
  };
  console.log(JSON.stringify(figures));
  console.log(
    `time-to-rollback ${figures.timeToRollbackS} s (target ≤ ${figures.targetS} s after the canary takes traffic); decision latency ${decisions.map((d) => `${d} ms`).join(', ')} after the analysis was due; router ${figures.routerLatencyMs} ms after the status (polled every 20 ms)`,
  );
} finally {
  stop.abort();
  await load?.catch(() => undefined);
  await manager.stop();
  await fx.cluster.stop();
}
