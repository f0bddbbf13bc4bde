// End to end on the dev cluster, at the CRD defaults: real serving pods (the serving image on
// real ONNX models), the router following the InferenceService status, real Prometheus scraping
// the pods, the operator installed by its Helm chart, and the load generator sending about 20
// labelled faces per second, drawn from 3,000 freshly generated images, and posting ground truth.
//   1. a better model is promoted through every step: stable v1 is the sample model stopped
//      after 2 epochs, canary v2 the fully trained sample model (same data, same trainer); each
//      step's measurements are in history, and v2's live accuracy measured above v1's;
//   2. an equally good model (same recipe, another training seed) is promoted, and no analysis
//      on the way failed input drift;
//   3. a model trained on shuffled labels is rolled back for accuracy within failureLimit
//      analyses of having enough feedback, and the router drops it in under a second.
// The one setting that differs from the CRD defaults is the analysis interval (20 s, not 1 m),
// so that the file takes minutes: accuracy and drift evidence accumulates since the canary began
// whatever the interval, and 20 s still gives latency and error rate their minRequests (50) at
// 20 requests per second and a 20 % step.
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type InferenceService, type ModelVersion } from '../../operator/api/index.js';
import type { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { generateImages, ensureImageModelVariant } from '../support/models.js';
import { readFeedbackCredential } from '../../hack/loadgen/credential.js';
import { routerUpstreams } from '../../hack/loadgen/router-admin.js';
import { runLoad, emptyStats } from '../../hack/loadgen/loadgen.js';
import {
  accuracyGain,
  createReadyVersion,
  ensureUndertrainedModel,
  MODEL,
  NS,
  routerUrl,
  startFixture,
  installOperatorChart,
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

let freshImages: string;

/** About 20 labelled requests per second, each a random one of 3,000 generated faces. */
function startFreshLoad(url: string): RunningLoad {
  const stop = new AbortController();
  const stats = emptyStats();
  return {
    stop,
    stats,
    done: readFeedbackCredential(client, NS, MODEL).then((feedbackCredential) =>
      runLoad(
        { url, imagesDir: freshImages, rps: 20, signal: stop.signal, concurrency: 32, feedbackCredential },
        stats,
      ),
    ),
  };
}

/** Seconds from a history entry's start to its end. */
const minutesOf = (h: { startedAt?: string; finishedAt?: string }) =>
  ((Date.parse(h.finishedAt ?? '') - Date.parse(h.startedAt ?? '')) / 60_000).toFixed(1);

test.before(async () => {
  // Cluster, sample and corrupt models: the shared fixture; v1 and the other seed build meanwhile.
  const [fixture, weak, otherSeed] = await Promise.all([
    startFixture(1),
    ensureUndertrainedModel(),
    ensureImageModelVariant('seed-11', '--seed=11'),
  ]);
  fx = fixture;
  client = fx.client;
  cpSync(weak, join(fx.pvcRoot, NS, 'models', 'undertrained'), { recursive: true });
  cpSync(otherSeed, join(fx.pvcRoot, NS, 'models', 'other-seed'), { recursive: true });
  freshImages = (await generateImages({ count: 3000, seed: 5151, out: join(fx.cluster.dir, 'fresh-images') })).dir;
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
      // The defaults but the interval (see the top of the file), and no guard window: a new
      // canary follows each promotion here, and the guard has scenarios of its own.
      canary: { interval: '20s' },
      monitoring: { guardWindow: '0s' },
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
  load = startFreshLoad(url);
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
    600_000,
    'v2 promoted',
    500,
  );
  const entry = promoted.status!.history![0];
  assert.is(promoted.status?.stable?.version, 2);
  assert.is(promoted.status?.canary, undefined);
  assert.equal(
    entry.steps?.map((s) => [s.weight, s.verdict]),
    [
      [20, 'Pass'],
      [50, 'Pass'],
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
    // step; every head passed non-inferiority (its lower bound above −0.05).
    const gain = accuracyGain(step.checks);
    gains.push(`step ${step.weight}%: ${describeGain(gain)}`);
    assert.ok(gain.mean > 0, `v2 not measured better than v1 at step ${step.weight}%: ${describeGain(gain)}`);
    assert.ok(
      gain.heads.every((h) => h.lower > -0.05),
      `a head not shown non-inferior at step ${step.weight}%: ${describeGain(gain)}`,
    );
  }
  process.stderr.write(
    `canary e2e: v2 (better) promoted in ${minutesOf(entry)} min; v2 − v1 live accuracy (95% sequences) ${gains.join(' | ')}\n`,
  );
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

test('an equally good version (another training seed) is promoted at the defaults; no analysis fails input drift', async () => {
  await ready(3, 'other-seed');
  const drift = new Map<string, string>();
  // What an inconclusive analysis said it was waiting for (kubectl describe shows the same).
  const waiting: string[] = [];
  const promoted = await waitStatus(
    async () => {
      const s = await getIsvc();
      const a = s.status?.analysis;
      if (s.status?.canary?.version === 3 && a?.time) {
        const d = a.checks?.find((c) => c.check === 'drift');
        drift.set(a.time, `${d?.verdict}: ${d?.message}`);
        assert.is(a.since, s.status.canary.startedAt, 'the evidence runs from the canary start');
        for (const c of a.checks ?? [])
          if (c.verdict === 'Inconclusive' && c.check === 'accuracyVsStable' && c.samplesNeeded && c.eta)
            waiting.push(`${c.head}: ${c.samples} samples, ~${c.samplesNeeded} more, ETA ${c.eta}`);
      }
      const last = s.status?.history?.[0];
      if (last?.version === 3 && last.outcome !== 'Promoted')
        throw new Error(`v3 ended ${last.outcome}: ${last.message}`);
      return last?.version === 3 && s.status?.phase === 'Serving' ? s : undefined;
    },
    900_000,
    'v3 promoted',
    500,
  );
  const entry = promoted.status!.history![0];
  assert.is(entry.reason, 'AnalysisPassed');
  assert.equal(
    entry.steps?.map((s) => [s.weight, s.verdict]),
    [
      [20, 'Pass'],
      [50, 'Pass'],
    ],
  );
  assert.ok(waiting.length > 0, 'an inconclusive accuracy check said how many more samples it needed, and when');
  const alarms = [...drift.values()].filter((d) => d.startsWith('Fail'));
  assert.equal(alarms, [], 'an equal model on fresh traffic raised a drift alarm');
  assert.ok(drift.size >= 2, `analyses seen: ${drift.size}`);
  const gain = accuracyGain(entry.steps!.at(-1)!.checks);
  process.stderr.write(
    `canary e2e: v3 (equal, another seed) promoted in ${minutesOf(entry)} min over ${drift.size} analyses, no drift alarm; v3 − v2 ${describeGain(gain)}; waiting said e.g. ${waiting[0]}\n`,
  );
});

test('a version trained on shuffled labels is rolled back for accuracy within failureLimit analyses of enough feedback; the router drops it in < 1 s', async () => {
  await ready(4, 'bad');
  const analyses = new Map<string, { enough: boolean; verdict: string }>();
  let statusSawRollback = 0;
  let routerSawRollback = 0;
  await waitStatus(
    async () => {
      const [s, table] = await Promise.all([
        getIsvc(),
        routerUpstreams(client, NS, MODEL).then((upstreams) => upstreams && { upstreams }),
      ]);
      const t = performance.now();
      const a = s.status?.analysis;
      if (s.status?.canary?.version === 4 && a?.time) {
        const acc = a.checks?.filter((c) => c.check === 'accuracyVsStable') ?? [];
        analyses.set(a.time, {
          enough: acc.length > 0 && acc.every((c) => (c.samples ?? 0) >= 50),
          verdict: a.verdict ?? '',
        });
      }
      const last = s.status?.history?.[0];
      if (!statusSawRollback && last?.version === 4) statusSawRollback = t;
      const canaryInRouter = table?.upstreams.some((u) => u.version === '4' && u.weight > 0);
      if (statusSawRollback && !routerSawRollback && table && !canaryInRouter) routerSawRollback = t;
      return statusSawRollback && routerSawRollback ? true : undefined;
    },
    300_000,
    'v4 rolled back',
    20,
  );
  const s = await getIsvc();
  const entry = s.status!.history![0];
  assert.is(entry.outcome, 'RolledBack', entry.message);
  assert.is(entry.reason, 'FailureLimitReached', entry.message);
  assert.match(entry.message ?? '', /accuracyVsStable/);
  assert.is(s.status?.stable?.version, 3);
  assert.is(s.status?.phase, 'RolledBack');
  assert.ok(s.status?.failedVersions?.some((f) => f.version === 4));
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
    `canary e2e: v4 (shuffled labels) rolled back in ${minutesOf(entry)} min (${entry.message}); router dropped it ${delay.toFixed(0)} ms after the status; load ${JSON.stringify(load?.stats.byVersion)}\n`,
  );
});

test.run();
