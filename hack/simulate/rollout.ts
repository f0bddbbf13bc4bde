// Rollout simulation: one canary driven through the production decision code — the CRD
// defaults (withInferenceServiceDefaults), analyse() with every check, and the rollout state
// machine's transition() (steps, failureLimit, progress deadline) — on simulated Prometheus
// counts: traffic split by the step's weight, labelled feedback per head, input features of
// fresh traffic counted into the reference profile's bins. Analyses run every interval on the
// counts accumulated since the canary began, as the controller's do.
import type {
  InferenceService,
  InferenceServiceCanary,
  InferenceServiceSpec,
  InferenceServiceStatus,
} from '../../operator/api/index.js';
import { API_VERSION, withInferenceServiceDefaults } from '../../operator/api/index.js';
import {
  aggregateVerdict,
  analyse,
  checkSummaries,
  looksIn,
  type RoleMeasurements,
} from '../../operator/analysis/index.js';
import { transition, nextAnalysisAt, type RolloutEvent } from '../../operator/controllers/inferenceservice/phases.js';
import { rolloutPolicy } from '../../operator/controllers/inferenceservice/policy.js';
import { windowOf } from '../../operator/controllers/inferenceservice/measure.js';
import { binomial, multinomial, poisson, type Random, type World } from './world.js';

/** spec.canary fields a setting overrides (deep-merged onto the CRD defaults). */
export type CanaryOverrides = Partial<Omit<InferenceServiceCanary, 'checks'>> & {
  checks?: { accuracy?: Partial<InferenceServiceCanary['checks']['accuracy']> };
};

export interface Scenario {
  /** Canary accuracy minus stable's, on the heads it applies to. */
  effect: number;
  /** Which heads differ: every head, or only the first. */
  heads: 'all' | 'one';
  /** Labelled prediction requests per second, all versions together. */
  rps: number;
  canary?: CanaryOverrides;
}

export interface Outcome {
  outcome: 'Promoted' | 'RolledBack';
  /** AnalysisPassed, FailureLimitReached, ProgressDeadlineExceeded. */
  reason: string;
  /** Seconds from the canary's start to the decision. */
  seconds: number;
  /** Checks that failed in the last analysis, for a rollback. */
  failed: string[];
  /** Checks still inconclusive in the last analysis. */
  pending: string[];
  /** The first failed input-drift check's message (a false alarm when the traffic is unchanged). */
  driftAlarm?: string;
}

interface Counts {
  feedback: Record<string, { correct: number; total: number }>;
  featureBins: Record<string, number[]>;
  predictions: Record<string, Record<string, number>>;
}

const START = Date.parse('2026-01-01T00:00:00Z');

export function serviceWith(canary: CanaryOverrides = {}): InferenceService {
  const spec = withInferenceServiceDefaults({ model: 'face-attributes', canary } as unknown as InferenceServiceSpec);
  return { apiVersion: API_VERSION, kind: 'InferenceService', metadata: { name: 'sim' }, spec };
}

function emptyCounts(world: World): Counts {
  return {
    feedback: Object.fromEntries(Object.keys(world.heads).map((h) => [h, { correct: 0, total: 0 }])),
    featureBins: Object.fromEntries(Object.entries(world.features).map(([f, d]) => [f, d.live.map(() => 0)])),
    predictions: Object.fromEntries(
      Object.entries(world.classes).map(([h, c]) => [h, Object.fromEntries(Object.keys(c).map((k) => [k, 0]))]),
    ),
  };
}

/** Adds `n` labelled requests answered by a version with these per-head accuracies. */
function serve(random: Random, world: World, counts: Counts, n: number, accuracy: Record<string, number>): void {
  for (const [head, fb] of Object.entries(counts.feedback)) {
    fb.total += n;
    fb.correct += binomial(random, n, accuracy[head]);
  }
  for (const [name, f] of Object.entries(world.features)) {
    const drawn = multinomial(random, n, f.live);
    counts.featureBins[name] = counts.featureBins[name].map((v, i) => v + drawn[i]);
  }
  for (const [head, shares] of Object.entries(world.classes)) {
    const drawn = multinomial(random, n, Object.values(shares));
    Object.keys(shares).forEach((k, i) => (counts.predictions[head][k] += drawn[i]));
  }
}

function measurements(role: 'canary' | 'stable', counts: Counts, windowRequests: number): RoleMeasurements {
  return {
    role,
    version: role === 'canary' ? '2' : '1',
    window: '1m',
    problems: {},
    requests: windowRequests,
    errors: 0,
    latencyP95Ms: 40,
    feedback: structuredClone(counts.feedback),
    featureBins: structuredClone(counts.featureBins),
    predictions: structuredClone(counts.predictions),
  };
}

function canaryAccuracy(world: World, scenario: Scenario): Record<string, number> {
  const names = Object.keys(world.heads);
  return Object.fromEntries(
    names.map((h, i) => {
      const differs = scenario.heads === 'all' || i === 0;
      return [h, Math.min(1, Math.max(0, world.heads[h] + (differs ? scenario.effect : 0)))];
    }),
  );
}

/** One canary from start to decision. */
export function simulateCanary(random: Random, world: World, scenario: Scenario): Outcome {
  const isvc = serviceWith(scenario.canary);
  const policy = rolloutPolicy(isvc);
  const reference = {
    features: Object.fromEntries(Object.entries(world.features).map(([f, d]) => [f, d.reference])),
    predictions: world.referencePredictions,
    samples: world.referenceSamples,
  };
  const accuracy = canaryAccuracy(world, scenario);
  const canary = emptyCounts(world);
  const stable = emptyCounts(world);
  let now = START;
  let status: InferenceServiceStatus = { phase: 'Serving', stable: { version: 1, modelVersion: 'm-v1', weight: 100 } };
  const step = (event: RolloutEvent) => (status = transition(status, event, policy, new Date(now)));
  step({ type: 'Target', target: { version: 2, modelVersion: 'm-v2' } });
  step({ type: 'CanaryReady', readyReplicas: 1 });
  let last = now;
  let driftAlarm: string | undefined;
  while (status.phase === 'Progressing') {
    now = nextAnalysisAt(status, policy)!.getTime();
    const seconds = (now - last) / 1000;
    last = now;
    const weight = (status.canary?.weight ?? 0) / 100;
    const requests = poisson(random, scenario.rps * seconds);
    const toCanary = binomial(random, requests, weight);
    serve(random, world, canary, toCanary, accuracy);
    serve(random, world, stable, requests - toCanary, world.heads);
    step({ type: 'Clock' });
    if (status.phase !== 'Progressing') break;
    const evidence = windowOf(`${Math.ceil((now - START) / 1000)}s`);
    const checks = analyse({
      subject: measurements('canary', canary, toCanary),
      baseline: measurements('stable', stable, requests - toCanary),
      reference,
      policy: isvc.spec.canary,
      heads: Object.keys(world.heads),
      looks: looksIn(evidence, isvc.spec.canary.interval),
    });
    driftAlarm ??= checks.find((c) => c.check === 'drift' && c.verdict === 'Fail')?.message;
    step({ type: 'Analysis', verdict: aggregateVerdict(checks), checks, details: checkSummaries(checks, ['Fail']) });
  }
  const h = status.history?.[0];
  const promoted = status.phase === 'Promoting';
  const failed = (status.analysis?.checks ?? [])
    .filter((c) => c.verdict === 'Fail')
    .map((c) => (c.check === 'drift' ? `drift: ${c.message}` : `${c.check}${c.head ? `/${c.head}` : ''}`));
  const pending = (status.analysis?.checks ?? [])
    .filter((c) => c.verdict === 'Inconclusive')
    .map((c) => `${c.check}${c.head ? `/${c.head}` : ''}: ${c.message}`);
  return {
    outcome: promoted ? 'Promoted' : 'RolledBack',
    reason: promoted ? 'AnalysisPassed' : (h?.reason ?? 'Unknown'),
    seconds: (now - START) / 1000,
    failed,
    pending,
    driftAlarm,
  };
}
