// Accuracy checks from ground-truth feedback, per head (multi-head models are first-class), on
// the evidence accumulated since the canary began (a version's accuracy does not depend on its
// traffic weight), judged with confidence sequences (sequential.ts) so that a verdict stays
// valid however many analyses look at the growing counts.
//
// accuracy — the canary's accuracy against `min`: pass when the sequence's lower bound ≥ min
//   (confidently good enough), fail when its upper bound < min (confidently too low).
// accuracyVsStable — non-inferiority against stable with margin `maxDropVsStable`, on
//   d = acc(canary) − acc(stable): fail when the upper bound < −margin, pass when the lower
//   bound > −margin.
// Otherwise inconclusive, with the samples still needed at the current estimate (the counts
// grown at their current ratio until the bound clears the threshold; none when the estimate
// sits exactly on it). Inconclusive also below `minFeedback` samples on a side (the normal
// approximation needs some), and for a head without feedback.
// Several heads: the version passes only when EVERY head passes (an intersection–union test,
// no correction needed), but fails when ANY head fails, so a failing bound is taken at the
// Bonferroni-corrected level 1 − (1 − confidence)/heads.
import { differenceSequence, growthToDecide, MIXING_SCALE, proportionSequence, scaled } from '../sequential.js';
import type { Interval, Proportion } from '../stats.js';
import { problemOf, type FeedbackCounts, type RoleMeasurements } from '../measurements.js';
import { fmt, result, type CheckResult } from './result.js';

export interface AccuracyPolicy {
  /** Lowest acceptable accuracy; the absolute check is skipped when unset. */
  min?: number;
  /** Non-inferiority margin vs stable. */
  maxDropVsStable: number;
  /** Confidence level of the sequences (two-sided, valid at every look). */
  confidence: number;
  /** Feedback samples per head and role below which the verdict is inconclusive. */
  minFeedback: number;
  /** Confidence of the bound that fails a head (several heads: corrected); default `confidence`. */
  failConfidence?: number;
}

/** Heads to evaluate: the given ones, else every head with feedback on either side. */
function headsOf(
  subject: RoleMeasurements,
  baseline: RoleMeasurements | undefined,
  heads: readonly string[] | undefined,
): string[] {
  if (heads?.length) return [...heads];
  return [...new Set([...Object.keys(subject.feedback ?? {}), ...Object.keys(baseline?.feedback ?? {})])].sort();
}

const asProportion = (fb: FeedbackCounts): Proportion => ({ successes: fb.correct, trials: fb.total });

/** How one comparison is computed at a given growth of its evidence. */
interface Comparison {
  /** The interval at `confidence`, with every count multiplied by `factor`. */
  at: (factor: number, confidence: number) => Interval;
  /** The value the bound must clear and on which side passing lies. */
  threshold: number;
  /** Pass when lower ≥ threshold (accuracy) or lower > threshold (non-inferiority). */
  strict: boolean;
  /** Samples of the subject now. */
  samples: number;
}

interface Judgement {
  ci: Interval;
  verdict: 'Pass' | 'Fail' | 'Inconclusive';
  /** The upper bound at the failing confidence, when that differs from `confidence`. */
  failUpper: number;
  /** Subject samples still needed at the current estimate (Inconclusive only). */
  samplesNeeded?: number;
}

function judge(cmp: Comparison, policy: AccuracyPolicy): Judgement {
  const failConfidence = policy.failConfidence ?? policy.confidence;
  const passes = (f: number) => {
    const lower = cmp.at(f, policy.confidence).lower;
    return cmp.strict ? lower > cmp.threshold : lower >= cmp.threshold;
  };
  const fails = (f: number) => cmp.at(f, failConfidence).upper < cmp.threshold;
  const ci = cmp.at(1, policy.confidence);
  const failUpper = cmp.at(1, failConfidence).upper;
  if (failUpper < cmp.threshold) return { ci, failUpper, verdict: 'Fail' };
  if (passes(1)) return { ci, failUpper, verdict: 'Pass' };
  const growth = growthToDecide(ci.estimate > cmp.threshold ? passes : fails);
  const samplesNeeded = growth === undefined ? undefined : Math.max(1, Math.ceil(cmp.samples * (growth - 1)));
  return { ci, failUpper, verdict: 'Inconclusive', samplesNeeded };
}

/** "; N more samples needed at the current estimate" or why none will do. */
function neededText(j: Judgement): string {
  if (j.verdict !== 'Inconclusive') return '';
  return j.samplesNeeded === undefined
    ? '; the estimate sits on the threshold: more samples alone will not decide'
    : `; about ${j.samplesNeeded} more samples needed at the current estimate`;
}

function noFeedback(base: Omit<CheckResult, 'verdict'>, side: RoleMeasurements, head: string | undefined) {
  if (!side.feedback)
    return result({
      ...base,
      verdict: 'Inconclusive',
      message: `no feedback for ${side.role} version ${side.version}: ${problemOf(side, 'feedback')}`,
    });
  const fb = head === undefined ? undefined : side.feedback[head];
  if (fb && fb.total > 0) return undefined;
  return result({
    ...base,
    samples: 0,
    samplesNeeded: undefined,
    verdict: 'Inconclusive',
    message: `no feedback for ${head === undefined ? 'any head' : `head ${head}`} of ${side.role} version ${side.version} yet`,
  });
}

/** Confidence-sequence check of one head against `min`. */
export function accuracyCheck(
  subject: RoleMeasurements,
  head: string | undefined,
  policy: AccuracyPolicy & { min: number },
): CheckResult {
  const base = { check: 'accuracy' as const, role: subject.role, head, threshold: policy.min };
  const missing = noFeedback(base, subject, head);
  if (missing) return missing;
  const fb = asProportion(subject.feedback![head!]);
  const j = judge(
    {
      at: (f, c) => proportionSequence(scaled(fb, f), c, MIXING_SCALE),
      threshold: policy.min,
      strict: false,
      samples: fb.trials,
    },
    policy,
  );
  const samples = Math.round(fb.trials);
  const where = `accuracy of head ${head} is ${fmt(j.ci.estimate)} (${fmt(policy.confidence * 100)}% sequence [${fmt(j.ci.lower)}, ${fmt(j.ci.upper)}], ${samples} samples)`;
  const measured = { ...base, value: j.ci.estimate, lower: j.ci.lower, upper: j.ci.upper, samples };
  if (samples < policy.minFeedback)
    return result({
      ...measured,
      samplesNeeded: Math.max(policy.minFeedback - samples, j.samplesNeeded ?? 0),
      verdict: 'Inconclusive',
      message: `${where}; fewer than minFeedback=${policy.minFeedback} samples`,
    });
  const message = {
    Pass: `${where}; lower bound ≥ min ${fmt(policy.min)}`,
    Fail: `${where}; upper bound${failNote(j, policy)} < min ${fmt(policy.min)}`,
    Inconclusive: `${where}; the sequence contains min ${fmt(policy.min)}${neededText(j)}`,
  }[j.verdict];
  return result({ ...measured, samplesNeeded: j.samplesNeeded, verdict: j.verdict, message });
}

function failNote(j: Judgement, policy: AccuracyPolicy): string {
  const c = policy.failConfidence ?? policy.confidence;
  return c === policy.confidence ? '' : ` ${fmt(j.failUpper)} at ${fmt(c * 100)}% (corrected for the heads)`;
}

/** Non-inferiority of one head against the baseline (stable), on a confidence sequence for the difference. */
export function accuracyVsStableCheck(
  subject: RoleMeasurements,
  baseline: RoleMeasurements,
  head: string | undefined,
  policy: AccuracyPolicy,
): CheckResult {
  const margin = policy.maxDropVsStable;
  const base = { check: 'accuracyVsStable' as const, role: subject.role, head, threshold: -margin };
  const missing = noFeedback(base, subject, head) ?? noFeedback(base, baseline, head);
  if (missing) return missing;
  const a = asProportion(subject.feedback![head!]);
  const b = asProportion(baseline.feedback![head!]);
  const j = judge(
    {
      at: (f, c) => differenceSequence(scaled(a, f), scaled(b, f), c, MIXING_SCALE),
      threshold: -margin,
      strict: true,
      samples: a.trials,
    },
    policy,
  );
  const measured = {
    ...base,
    value: j.ci.estimate,
    lower: j.ci.lower,
    upper: j.ci.upper,
    samples: Math.round(a.trials),
  };
  const rate = (p: Proportion) => fmt(p.successes / p.trials);
  const where = `head ${head}: ${subject.role} ${rate(a)} (${fmt(a.trials)} samples) − ${baseline.role} ${rate(b)} (${fmt(b.trials)} samples) = ${fmt(j.ci.estimate)}, ${fmt(policy.confidence * 100)}% sequence [${fmt(j.ci.lower)}, ${fmt(j.ci.upper)}]`;
  if (a.trials < policy.minFeedback || b.trials < policy.minFeedback)
    return result({
      ...measured,
      samplesNeeded: Math.max(policy.minFeedback - Math.round(a.trials), j.samplesNeeded ?? 0, 1),
      verdict: 'Inconclusive',
      message: `${where}; fewer than minFeedback=${policy.minFeedback} samples on a side`,
    });
  const note = failNote(j, policy);
  const message = {
    Fail: `${where}; worse than ${baseline.role} by more than the margin ${fmt(margin)}${note ? ` (upper bound${note})` : ''}`,
    Pass: `${where}; not worse than ${baseline.role} by the margin ${fmt(margin)}`,
    Inconclusive: `${where}; the sequence contains −${fmt(margin)}${neededText(j)}`,
  }[j.verdict];
  return result({ ...measured, samplesNeeded: j.samplesNeeded, verdict: j.verdict, message });
}

/**
 * Both accuracy checks for every head: `accuracy` when policy.min is set, `accuracyVsStable`
 * when a baseline is given. With no head known at all, one inconclusive entry per check.
 */
export function accuracyChecks(
  subject: RoleMeasurements,
  baseline: RoleMeasurements | undefined,
  policy: AccuracyPolicy,
  heads?: readonly string[],
): CheckResult[] {
  const names = headsOf(subject, baseline, heads);
  const list: Array<string | undefined> = names.length ? names : [undefined];
  const corrected = { ...policy, failConfidence: 1 - (1 - policy.confidence) / list.length };
  const out: CheckResult[] = [];
  if (policy.min !== undefined)
    for (const h of list) out.push(accuracyCheck(subject, h, { ...corrected, min: policy.min }));
  if (baseline) for (const h of list) out.push(accuracyVsStableCheck(subject, baseline, h, corrected));
  return out;
}
