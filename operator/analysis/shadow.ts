// The shadow phase's analysis: the candidate gets a copy of every request and no client sees
// its answers, so it has no feedback of its own. The router joins its predictions to stable's
// for the same input (serving/router/shadow-join.ts) and scores both with the feedback users
// send for stable's predictions; here both versions' feedback is replaced by those joined
// counts, so the same accuracy checks compare them on the same items. Agreement with stable
// per head comes from the same join. Latency, errors and prediction drift are the shadow's own.
import { parseDuration } from '../api/index.js';
import { MetricProviderError, type MetricProvider, type Sample } from '../metrics-providers/index.js';
import { analyse, type AnalysisPolicy } from './analyse.js';
import { agreementChecks, type PairCounts } from './checks/agreement.js';
import type { CheckResult } from './checks/result.js';
import { looksIn, withEtas } from './evidence.js';
import { feedbackFromSamples, measure } from './measure.js';
import { wholeCounts, type FeedbackCounts, type MeasurementProblem, type RoleMeasurements } from './measurements.js';
import { range, selector, type SeriesTarget } from './promql.js';
import type { InferenceServiceStatusCanaryShadowHead, Verdict } from '../api/index.js';
import { aggregateVerdict } from './verdict.js';
import type { CanaryAnalysisInput } from './run.js';

export interface ShadowPolicy {
  /** Joined, labelled predictions per head below which the accuracy checks are inconclusive. */
  minSamples: number;
  /** Lowest acceptable agreement with stable per head; unchecked when unset. */
  minAgreement?: number;
}

/** The router's join series for one shadow version (its `version` label), over `evidenceWindow`. */
export function shadowQueries(shadow: SeriesTarget, evidenceWindow: string): { feedback: string; pairs: string } {
  const e = range(evidenceWindow);
  return {
    feedback: `sum by (head, judged, outcome) (increase(modelship_router_shadow_feedback_total${selector(shadow)}${e}))`,
    pairs: `sum by (head, stable_class, shadow_class) (increase(modelship_router_shadow_pairs_total${selector(shadow)}${e}))`,
  };
}

export interface JoinedCounts {
  /** Feedback on joined predictions, per head, as each version was judged. */
  shadow?: Record<string, FeedbackCounts>;
  stable?: Record<string, FeedbackCounts>;
  /** Joined predictions per head: how many, and on how many both agreed. */
  pairs?: Record<string, PairCounts>;
  problem?: MeasurementProblem;
}

/** Joined counts from the router's samples (pure). */
export function joinedFromSamples(feedback: Sample[], pairs: Sample[]): JoinedCounts {
  const judged = (role: string) =>
    feedbackFromSamples(feedback.filter((s) => s.labels.judged === role && !Number.isNaN(s.value)));
  const byHead: Record<string, PairCounts> = {};
  for (const s of pairs) {
    const head = s.labels.head;
    if (head === undefined || Number.isNaN(s.value)) continue;
    const n = Math.max(0, s.value);
    const c = (byHead[head] ??= { agree: 0, total: 0 });
    c.total += n;
    if (s.labels.stable_class === s.labels.shadow_class) c.agree += n;
  }
  return { shadow: judged('shadow'), stable: judged('stable'), pairs: byHead };
}

async function measureJoin(
  provider: MetricProvider,
  shadow: SeriesTarget,
  evidenceWindow: string,
  at: Date,
): Promise<JoinedCounts> {
  const q = shadowQueries(shadow, evidenceWindow);
  try {
    const [feedback, pairs] = await Promise.all([provider.query(q.feedback, at), provider.query(q.pairs, at)]);
    return joinedFromSamples(feedback, pairs);
  } catch (err) {
    if (err instanceof MetricProviderError) return { problem: { reason: err.reason, message: err.message } };
    throw err;
  }
}

/** A version's measurements with the joined feedback in place of its own. */
function withJoinedFeedback(
  m: RoleMeasurements,
  feedback: Record<string, FeedbackCounts> | undefined,
  problem: MeasurementProblem | undefined,
): RoleMeasurements {
  const { feedback: _own, ...rest } = m;
  if (feedback && Object.keys(feedback).length) return { ...rest, feedback, problems: withoutFeedback(m.problems) };
  return {
    ...rest,
    problems: {
      ...m.problems,
      feedback: problem ?? { reason: 'NoData', message: 'no feedback for joined shadow predictions yet' },
    },
  };
}

function withoutFeedback(problems: RoleMeasurements['problems']): RoleMeasurements['problems'] {
  const { feedback: _f, ...rest } = problems;
  return rest;
}

/** One head of the shadow's last analysis, for status.canary.shadow.heads. */
export type ShadowHead = InferenceServiceStatusCanaryShadowHead;

export interface ShadowAnalysis {
  checks: CheckResult[];
  verdict: Verdict;
  heads: ShadowHead[];
}

export type ShadowAnalysisInput = Omit<CanaryAnalysisInput, 'stable'> & {
  stable: NonNullable<CanaryAnalysisInput['stable']>;
  shadow: ShadowPolicy;
};

export async function analyseShadow(input: ShadowAnalysisInput): Promise<ShadowAnalysis> {
  const at = input.at ?? new Date();
  const evidence = input.evidenceWindow ?? input.window;
  const windows = { window: input.window, evidenceWindow: input.evidenceWindow, at };
  const [canary, stable, joined] = await Promise.all([
    measure(input.provider, { ...input.canary, role: 'canary' }, windows),
    measure(input.provider, { ...input.stable, role: 'stable' }, windows),
    measureJoin(input.provider, input.canary, evidence, at),
  ]);
  const subject = wholeCounts(withJoinedFeedback(canary, joined.shadow, joined.problem));
  const baseline = wholeCounts(withJoinedFeedback(stable, joined.stable, joined.problem));
  const policy: AnalysisPolicy = { ...input.policy, minFeedback: input.shadow.minSamples };
  const checks = [
    ...analyse({
      subject,
      baseline,
      reference: input.reference,
      policy,
      heads: input.heads,
      looks: looksIn(evidence, input.window),
    }),
    ...agreementChecks(joined.pairs, joined.problem, {
      min: input.shadow.minAgreement,
      minSamples: input.policy.minRequests,
      confidence: input.policy.checks.accuracy.confidence,
    }),
  ];
  return {
    checks: withEtas(checks, parseDuration(evidence), at),
    verdict: aggregateVerdict(checks),
    heads: shadowHeads(joined, subject, baseline),
  };
}

function shadowHeads(joined: JoinedCounts, subject: RoleMeasurements, baseline: RoleMeasurements): ShadowHead[] {
  const heads = new Set([...Object.keys(joined.pairs ?? {}), ...Object.keys(subject.feedback ?? {})]);
  const rate = (fb: FeedbackCounts | undefined) => (fb && fb.total > 0 ? fb.correct / fb.total : undefined);
  return [...heads].sort().map((head) => {
    const p = joined.pairs?.[head];
    const mine = subject.feedback?.[head];
    const entry: ShadowHead = {
      head,
      pairs: p ? Math.round(p.total) : 0,
      agreement: p && p.total > 0 ? round4(p.agree / p.total) : undefined,
      samples: mine ? mine.total : 0,
      accuracy: rate(mine),
      stableAccuracy: rate(baseline.feedback?.[head]),
    };
    return Object.fromEntries(
      Object.entries(entry)
        .map(([k, v]) => [k, typeof v === 'number' && k !== 'pairs' && k !== 'samples' ? round4(v) : v])
        .filter(([, v]) => v !== undefined),
    ) as unknown as ShadowHead;
  });
}

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;
