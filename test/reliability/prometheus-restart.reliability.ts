// Prometheus dies in the middle of a canary's analysis (SIGKILL, the dev cluster's real
// Prometheus) and comes back on the same address with its data. While it is gone every
// analysis is Inconclusive — missing data is never a pass and never a decision — and once it
// is back analyses are measured again and the rollout ends with exactly one decision: the
// canary is the same model as stable, so it is promoted. (The small windows right after the
// restart once rolled it back: PSI of ~40 requests is mostly noise; drift now also has to be
// significant, see operator/analysis/chisquare.ts.)
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startPrometheus, type RunningPrometheus } from '../../hack/devcluster/prometheus/index.js';
import { killPids, pidsWithArg } from '../../hack/chaos/pids.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import {
  brief,
  getIsvc,
  inferenceService,
  readyVersion,
  rolloutEnded,
  serveAndLoad,
  startCanaryEnv,
  type CanaryEnv,
} from './canary-support.js';

let env: CanaryEnv;
let restarted: RunningPrometheus | undefined;

test.before(async () => {
  env = await startCanaryEnv();
  await readyVersion(env, 1, 'v1');
  await env.client.create(inferenceService());
  await serveAndLoad(env);
});

test.after(async () => {
  await restarted?.stop();
  await env?.stop();
});

test('Prometheus killed mid-analysis: Inconclusive while gone, no decision; the equal canary promoted once after it is back', async () => {
  await readyVersion(env, 2, 'v2');
  const firstAnalysis = await waitFor(
    async () => {
      const s = await getIsvc(env);
      return s.status?.canary?.version === 2 && s.status.analysis?.time ? s.status.analysis.time : undefined;
    },
    120_000,
    'the first canary analysis',
    300,
  );
  const promPids = pidsWithArg(`--storage.tsdb.path=${join(env.cluster.dir, 'prometheus', 'data')}`);
  assert.ok(promPids.length >= 1, 'found the Prometheus process');
  await killPids(promPids, 'SIGKILL');
  const killedAt = Date.now();
  // Analyses run while Prometheus is gone: each Inconclusive, and the canary stays.
  const gone = await waitFor(
    async () => {
      const s = await getIsvc(env);
      const a = s.status?.analysis;
      if (s.status?.history?.some((h) => h.version === 2)) throw new Error(`decided without Prometheus: ${brief(s)}`);
      return a?.time && a.time !== firstAnalysis && Date.parse(a.time) > killedAt + 1000 ? s : undefined;
    },
    60_000,
    'an analysis while Prometheus is down',
    300,
  );
  assert.is(gone.status?.analysis?.verdict, 'Inconclusive', brief(gone));
  assert.is(gone.status?.canary?.version, 2, brief(gone));
  await sleep(5000);
  const still = await getIsvc(env);
  assert.ok(
    !still.status?.history?.some((h) => h.version === 2),
    `no decision while Prometheus is down: ${brief(still)}`,
  );

  restarted = await startPrometheus({ dataDir: env.cluster.dir, apiServerUrl: env.cluster.url });
  assert.is(restarted.url, env.cluster.prometheusUrl, 'back on the same address');
  const measured: string[] = [];
  const s = await rolloutEnded(env, 2, 420_000, (st) => {
    const a = st.status?.analysis;
    if (
      a?.time &&
      Date.parse(a.time) > Date.now() - 60_000 &&
      a.checks?.some((c) => (c.samples ?? 0) > 0 && c.verdict !== 'Inconclusive')
    )
      measured.push(a.time);
  });
  const entries = s.status?.history?.filter((h) => h.version === 2) ?? [];
  assert.is(entries.length, 1, `one decision: ${brief(s)}`);
  assert.is(entries[0].outcome, 'Promoted', `the same model as stable is promoted: ${brief(s)}`);
  assert.is(s.status?.stable?.version, 2, `stable consistent with the outcome: ${brief(s)}`);
  assert.ok(measured.length > 0, `analyses measured again after the restart: ${brief(s)}`);
  process.stderr.write(
    `prometheus-restart: v2 ${entries[0].outcome} (${entries[0].reason}): ${entries[0].message?.slice(0, 300)}\n`,
  );
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test.run();
