// Prometheus becomes unreachable in the middle of a canary: every analysis from then on is
// inconclusive (never a pass), the canary is not promoted, and at progressDeadline it is
// rolled back (fail safe), with the reason in status.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { InferenceService } from '../../operator/api/index.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import {
  brief,
  createReadyVersion,
  CuttableProxy,
  MODEL,
  NS,
  serveV1WithLoad,
  startFixture,
  installOperatorChart,
  stopScenario,
  type Fixture,
  type RunningLoad,
} from './canary-support.js';

let fx: Fixture;
let proxy: CuttableProxy;
let load: RunningLoad | undefined;
let last: InferenceService | undefined;
const getIsvc = async () => (last = await fx.client.get<InferenceService>(Kinds.InferenceService, NS, MODEL));

test.before(async () => {
  fx = await startFixture(2);
  proxy = new CuttableProxy(new URL(fx.cluster.prometheusUrl!));
  await proxy.start();
  await installOperatorChart(fx, proxy.url);
});

test.after(() => stopScenario(fx, load, proxy && (() => proxy.cut())));

test('Prometheus cut mid-canary → inconclusive analyses, no promotion, rollback at the progress deadline', async () => {
  // The deadline is what this scenario is about: 45 s instead of an hour.
  ({ load } = await serveV1WithLoad(fx, { progressDeadline: '45s' }));
  await createReadyVersion(fx.client, 2, 'good-2');
  await waitFor(
    async () => ((await getIsvc()).status?.canary?.stepStartedAt ? true : undefined),
    60_000,
    'canary taking traffic',
    200,
  );
  await proxy.cut();
  const cutAt = Date.now();
  const verdicts = new Set<string>();
  const s = await waitFor(
    async () => {
      const cur = await getIsvc();
      if (cur.status?.analysis?.time && Date.parse(cur.status.analysis.time) > cutAt + 500)
        verdicts.add(cur.status.analysis.verdict ?? '');
      return cur.status?.history?.some((h) => h.version === 2) ? cur : undefined;
    },
    120_000,
    'v2 ended',
    250,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; ${JSON.stringify(brief(last))}`);
  });
  const entry = s.status!.history!.find((h) => h.version === 2)!;
  assert.is(entry.outcome, 'RolledBack', JSON.stringify(brief(s)));
  assert.is(entry.reason, 'ProgressDeadlineExceeded', JSON.stringify(brief(s)));
  assert.is(s.status?.stable?.version, 1, 'never promoted');
  assert.ok(!s.status?.history?.some((h) => h.outcome === 'Promoted'));
  assert.ok(!verdicts.has('Pass'), `verdicts after the cut: ${[...verdicts]}`);
  const unreachable =
    s.status?.analysis?.checks?.filter((c) => /ProviderUnreachable|ProviderTimeout/.test(c.message ?? '')) ?? [];
  assert.ok(
    unreachable.length > 0 && unreachable.every((c) => c.verdict === 'Inconclusive'),
    JSON.stringify(s.status?.analysis?.checks?.slice(0, 3)),
  );
});

test.run();
