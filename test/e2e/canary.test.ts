// End to end on the dev cluster: real serving pods (the serving image on real ONNX models), the
// router following the InferenceService status, real Prometheus scraping the pods, the
// operator's controllers in this process, and the load generator sending labelled faces and
// posting ground truth.
//   1. a better model is promoted through every step: stable v1 is the sample model stopped
//      after 2 epochs, canary v2 the fully trained sample model (same data, same trainer); each
//      step's measurements are in history, and at every step the analysis measured v2's live
//      accuracy above v1's (the accuracyVsStable differences, with their intervals);
//   2. a model trained on shuffled labels is rolled back within failureLimit analyses of having
//      enough feedback, and the router drops it in under a second after the status says so.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type InferenceService, type ModelVersion } from '../../operator/api/index.js';
import type { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import {
  accuracyGain,
  createReadyVersion,
  ensureUndertrainedModel,
  MODEL,
  NS,
  routerUrl,
  startFixture,
  installOperatorChart,
  startLoad,
  stopScenario,
  type AccuracyGain,
  type Fixture,
  type RunningLoad,
} from './canary-support.js';

let fx: Fixture;
let client: KubeClient;
let load: RunningLoad | undefined;

let lastSeen: InferenceService | undefined;
const getIsvc = async () => (lastSeen = await client.get<InferenceService>(Kinds.InferenceService, NS, MODEL));

/** waitFor, with the last InferenceService status in the error (what the rollout was doing). */
async function waitStatus<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  pollMs: number,
): Promise<T> {
  try {
    return await waitFor(fn, timeoutMs, what, pollMs);
  } catch (e) {
    const st = lastSeen?.status;
    const brief = {
      phase: st?.phase,
      stable: st?.stable,
      canary: { ...st?.canary, steps: undefined },
      analysis: {
        ...st?.analysis,
        checks: st?.analysis?.checks
          ?.filter((c) => c.verdict !== 'Pass')
          .sort((a, b) => (a.verdict === 'Fail' ? -1 : 0) - (b.verdict === 'Fail' ? -1 : 0))
          .slice(0, 6),
      },
      history: st?.history?.map((h) => [h.version, h.outcome, h.message]),
      conditions: st?.conditions,
    };
    throw new Error(
      `${(e as Error).message}; last status: ${JSON.stringify(brief)}; load: ${JSON.stringify({ ...load?.stats, latenciesMs: undefined })}`,
      { cause: e },
    );
  }
}

const ready = (version: number, dir: string): Promise<ModelVersion> => createReadyVersion(client, version, dir);

/** One line per head: v2 − v1 live accuracy with its interval and samples. */
const describeGain = (g: AccuracyGain): string =>
  `mean ${g.mean.toFixed(3)} (mean lower bound ${g.meanLower.toFixed(3)}); ${g.heads.map((h) => `${h.head} ${h.value.toFixed(3)} [${h.lower.toFixed(3)}, ${h.upper.toFixed(3)}] n=${h.samples}`).join('; ')}`;

test.before(async () => {
  // Cluster, sample and corrupt models, images: the shared fixture; the undertrained v1 builds meanwhile.
  const [fixture, weak] = await Promise.all([startFixture(1), ensureUndertrainedModel()]);
  fx = fixture;
  client = fx.client;
  cpSync(weak, join(fx.pvcRoot, NS, 'models', 'undertrained'), { recursive: true });
  await installOperatorChart(fx);
});

test.after(() => stopScenario(fx, load));

test("a better version is promoted through every step; each step measured its live accuracy above stable's", async () => {
  await ready(1, 'undertrained');
  await client.create({
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: MODEL, namespace: NS },
    spec: {
      model: MODEL,
      // Windows of 10 s at 40 requests/s give the canary 160+ samples per analysis. At that size
      // a non-inferiority margin of 0.02 cannot be shown (the Newcombe interval is ±0.07 wide),
      // and PSI over ten bins is biased upwards: the bounds here are what the sample can decide.
      // v2's gain over v1 (about +0.19 mean accuracy offline) is several interval widths.
      canary: {
        steps: [40, 70],
        interval: '10s',
        failureLimit: 2,
        progressDeadline: '150s',
        minRequests: 50,
        minFeedback: 50,
        checks: { accuracy: { maxDropVsStable: 0.15 }, drift: { max: 0.8 }, latencyP95Ms: { max: 2000 } },
      },
      monitoring: { interval: '10s', guardWindow: '0s', drift: { warn: 0.5, critical: 1 } },
    },
  } as InferenceService);
  const serving = await waitStatus(
    async () => {
      const s = await getIsvc();
      return s.status?.phase === 'Serving' ? s : undefined;
    },
    60_000,
    'Serving',
    250,
  );
  assert.is(serving.status?.stable?.version, 1);
  assert.is(serving.status?.url, `http://${MODEL}.${NS}.svc.cluster.local`);
  const url = await routerUrl(client);
  load = startLoad(fx, url);
  const stats = load.stats;

  await ready(2, 'good-1');
  const promoted = await waitStatus(
    async () => {
      const s = await getIsvc();
      const last = s.status?.history?.[0];
      if (last?.version === 2 && last.outcome !== 'Promoted')
        throw new Error(`v2 ended ${last.outcome}: ${last.message}`);
      return last?.version === 2 && s.status?.phase === 'Serving' ? s : undefined;
    },
    150_000,
    'v2 promoted',
    500,
  );
  const entry = promoted.status!.history![0];
  assert.is(promoted.status?.stable?.version, 2);
  assert.is(promoted.status?.canary, undefined);
  assert.equal(
    entry.steps?.map((s) => [s.weight, s.verdict]),
    [
      [40, 'Pass'],
      [70, 'Pass'],
    ],
  );
  const gains: string[] = [];
  for (const step of entry.steps ?? []) {
    assert.ok(step.time, `step ${step.weight}% has the time of its analysis`);
    const acc = step.checks?.filter((c) => c.check === 'accuracyVsStable') ?? [];
    assert.ok(acc.length >= 5, 'one non-inferiority check per head');
    assert.ok(
      acc.every((c) => (c.samples ?? 0) >= 50 && c.lower !== undefined),
      JSON.stringify(acc[0]),
    );
    assert.ok(step.checks?.some((c) => c.check === 'errorRate' && c.verdict === 'Pass'));
    assert.ok(step.checks?.some((c) => c.check === 'latencyP95Ms' && c.verdict === 'Pass' && c.value !== undefined));
    assert.ok(step.checks?.some((c) => c.check === 'drift' && c.value !== undefined));
    // The better model measured better: v2 − v1 live accuracy, over all heads, above 0 at every
    // step, and so is the (conservative) mean of the heads' lower bounds.
    const gain = accuracyGain(step.checks);
    gains.push(`step ${step.weight}%: ${describeGain(gain)}`);
    assert.ok(gain.mean > 0, `v2 not measured better than v1 at step ${step.weight}%: ${describeGain(gain)}`);
    assert.ok(
      gain.meanLower > 0,
      `v2's gain over v1 not shown with confidence at step ${step.weight}%: ${describeGain(gain)}`,
    );
  }
  process.stderr.write(`canary e2e: v2 − v1 live accuracy (95% intervals) ${gains.join(' | ')}\n`);
  assert.ok((stats.byVersion['2'] ?? 0) > 0 && (stats.byVersion['1'] ?? 0) > 0, JSON.stringify(stats.byVersion));
  assert.ok(stats.feedbackSent > 100, `feedback ${stats.feedbackSent}`);
  // servedBy follows the InferenceService status (written right after it).
  await waitFor(
    async () => {
      const mv2 = await client.get<ModelVersion>(Kinds.ModelVersion, NS, `${MODEL}-v2`);
      return mv2.status?.servedBy?.length === 1 && mv2.status.servedBy[0].role === 'stable' ? true : undefined;
    },
    10_000,
    'v2 servedBy stable',
    200,
  );
  const mv1 = await client.get<ModelVersion>(Kinds.ModelVersion, NS, `${MODEL}-v1`);
  assert.equal(mv1.status?.servedBy ?? [], [], 'the retired version serves no more');
});

test('a worse version is rolled back within failureLimit analyses of enough feedback; the router drops it in < 1 s', async () => {
  const url = await routerUrl(client);
  await ready(3, 'bad');
  const analyses = new Map<string, { enough: boolean; verdict: string }>();
  let statusSawRollback = 0;
  let routerSawRollback = 0;
  await waitStatus(
    async () => {
      const [s, table] = await Promise.all([
        getIsvc(),
        fetch(`${url}/-/router/config`).then(
          (r) => r.json() as Promise<{ upstreams: Array<{ role: string; version: string; weight: number }> }>,
          () => undefined,
        ),
      ]);
      const t = performance.now();
      const a = s.status?.analysis;
      if (s.status?.canary?.version === 3 && a?.time) {
        const acc = a.checks?.filter((c) => c.check === 'accuracyVsStable') ?? [];
        analyses.set(a.time, {
          enough: acc.length > 0 && acc.every((c) => (c.samples ?? 0) >= 50),
          verdict: a.verdict ?? '',
        });
      }
      const last = s.status?.history?.[0];
      if (!statusSawRollback && last?.version === 3) statusSawRollback = t;
      const canaryInRouter = table?.upstreams.some((u) => u.version === '3' && u.weight > 0);
      if (statusSawRollback && !routerSawRollback && table && !canaryInRouter) routerSawRollback = t;
      return statusSawRollback && routerSawRollback ? true : undefined;
    },
    150_000,
    'v3 rolled back',
    20,
  );
  const s = await getIsvc();
  const entry = s.status!.history![0];
  assert.is(entry.outcome, 'RolledBack', entry.message);
  assert.is(entry.reason, 'FailureLimitReached', entry.message);
  assert.match(entry.message ?? '', /accuracyVsStable/);
  assert.is(s.status?.stable?.version, 2);
  assert.is(s.status?.phase, 'RolledBack');
  assert.ok(s.status?.failedVersions?.some((f) => f.version === 3));
  const afterEnough = [...analyses.values()].filter((a) => a.enough);
  assert.ok(
    afterEnough.length >= 1 && afterEnough.length <= 2,
    `analyses with enough feedback before rollback: ${JSON.stringify([...analyses.values()])}`,
  );
  const delay = routerSawRollback - statusSawRollback;
  assert.ok(delay < 1000, `router followed the rollback after ${delay.toFixed(0)} ms`);
  // The version stays rolled back (not retried at this generation).
  await new Promise((r) => setTimeout(r, 3000));
  assert.is((await getIsvc()).status?.canary, undefined);
  process.stderr.write(
    `canary e2e: router dropped the canary ${delay.toFixed(0)} ms after the status; load ${JSON.stringify(load?.stats.byVersion)}\n`,
  );
});

test.run();
