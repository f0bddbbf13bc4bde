// Accuracy checks from ground-truth feedback, per head (multi-head models are first-class).
//
// accuracy — the canary's accuracy against `min`, with a Wilson interval at `confidence`:
//   pass when the lower bound ≥ min (confidently good enough), fail when the upper bound < min
//   (confidently too low), otherwise inconclusive (the data cannot tell yet).
// accuracyVsStable — non-inferiority against stable with margin `maxDropVsStable`: Newcombe's
//   hybrid score interval for d = acc(canary) − acc(stable) at `confidence`:
//   fail when the whole interval lies below −margin (upper < −margin), pass when the lower
//   bound > −margin, otherwise inconclusive.
// Either check is inconclusive for a head with fewer than `minFeedback` samples on a side
// (values and bounds are still reported), and for a head without feedback at all.
// Several heads: the version passes only when EVERY head passes (an intersection–union test,
// no correction needed), but fails when ANY head fails, so a failing bound is taken at the
// Bonferroni-corrected level 1 − (1 − confidence)/heads: five heads at 95 % would otherwise
// roll back one equally good canary in five analyses by chance alone.
import { newcombeInterval, wilsonInterval } from '../stats.js';
import { problemOf, type RoleMeasurements } from '../measurements.js';
import { fmt, result, type CheckResult } from './result.js';

export interface AccuracyPolicy {
  /** Lowest acceptable accuracy; the absolute check is skipped when unset. */
  min?: number;
  /** Non-inferiority margin vs stable. */
  maxDropVsStable: number;
  /** Two-sided confidence level of the intervals. */
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

/** The upper bound that decides a failure, and how it differs from the reported one. */
function failBound(policy: AccuracyPolicy, upperAt: (confidence: number) => number): { upper: number; note: string } {
  const c = policy.failConfidence ?? policy.confidence;
  const upper = upperAt(c);
  return { upper, note: c === policy.confidence ? '' : ` ${fmt(upper)} at ${fmt(c * 100)}% (corrected for the heads)` };
}

/** Wilson check of one head against `min`. */
export function accuracyCheck(
  subject: RoleMeasurements,
  head: string | undefined,
  policy: AccuracyPolicy & { min: number },
): CheckResult {
  const base = { check: 'accuracy' as const, role: subject.role, head, threshold: policy.min };
  const fb = head === undefined ? undefined : subject.feedback?.[head];
  if (!subject.feedback)
    return result({
      ...base,
      verdict: 'Inconclusive',
      message: `no feedback for version ${subject.version}: ${problemOf(subject, 'feedback')}`,
    });
  if (!fb || fb.total === 0)
    return result({
      ...base,
      samples: 0,
      verdict: 'Inconclusive',
      message: `no feedback for ${head === undefined ? 'any head' : `head ${head}`} of version ${subject.version} in the window`,
    });
  const ci = wilsonInterval(fb.correct, fb.total, policy.confidence);
  const measured = { ...base, value: ci.estimate, lower: ci.lower, upper: ci.upper, samples: Math.round(fb.total) };
  const pct = `${fmt(policy.confidence * 100)}%`;
  const where = `accuracy of head ${head} is ${fmt(ci.estimate)} (${pct} interval [${fmt(ci.lower)}, ${fmt(ci.upper)}], ${fmt(fb.total)} samples)`;
  if (fb.total < policy.minFeedback)
    return result({
      ...measured,
      verdict: 'Inconclusive',
      message: `${where}; fewer than minFeedback=${policy.minFeedback} samples`,
    });
  if (ci.lower >= policy.min)
    return result({ ...measured, verdict: 'Pass', message: `${where}; lower bound ≥ min ${fmt(policy.min)}` });
  const failing = failBound(policy, (c) => wilsonInterval(fb.correct, fb.total, c).upper);
  if (failing.upper < policy.min)
    return result({
      ...measured,
      verdict: 'Fail',
      message: `${where}; upper bound${failing.note} < min ${fmt(policy.min)}`,
    });
  return result({
    ...measured,
    verdict: 'Inconclusive',
    message: `${where}; interval contains min ${fmt(policy.min)}`,
  });
}

/** Newcombe non-inferiority check of one head against the baseline (stable). */
export function accuracyVsStableCheck(
  subject: RoleMeasurements,
  baseline: RoleMeasurements,
  head: string | undefined,
  policy: AccuracyPolicy,
): CheckResult {
  const margin = policy.maxDropVsStable;
  const base = { check: 'accuracyVsStable' as const, role: subject.role, head, threshold: -margin };
  for (const side of [subject, baseline]) {
    if (!side.feedback)
      return result({
        ...base,
        verdict: 'Inconclusive',
        message: `no feedback for ${side.role} version ${side.version}: ${problemOf(side, 'feedback')}`,
      });
    const fb = head === undefined ? undefined : side.feedback[head];
    if (!fb || fb.total === 0)
      return result({
        ...base,
        samples: 0,
        verdict: 'Inconclusive',
        message: `no feedback for ${head === undefined ? 'any head' : `head ${head}`} of ${side.role} version ${side.version} in the window`,
      });
  }
  const a = subject.feedback![head!];
  const b = baseline.feedback![head!];
  const ci = newcombeInterval(
    { successes: a.correct, trials: a.total },
    { successes: b.correct, trials: b.total },
    policy.confidence,
  );
  const measured = { ...base, value: ci.estimate, lower: ci.lower, upper: ci.upper, samples: Math.round(a.total) };
  const where = `head ${head}: ${subject.role} ${fmt(a.correct / a.total)} (${fmt(a.total)} samples) − ${baseline.role} ${fmt(b.correct / b.total)} (${fmt(b.total)} samples) = ${fmt(ci.estimate)}, ${fmt(policy.confidence * 100)}% interval [${fmt(ci.lower)}, ${fmt(ci.upper)}]`;
  if (a.total < policy.minFeedback || b.total < policy.minFeedback) {
    return result({
      ...measured,
      verdict: 'Inconclusive',
      message: `${where}; fewer than minFeedback=${policy.minFeedback} samples on a side`,
    });
  }
  const failing = failBound(
    policy,
    (c) =>
      newcombeInterval({ successes: a.correct, trials: a.total }, { successes: b.correct, trials: b.total }, c).upper,
  );
  if (failing.upper < -margin)
    return result({
      ...measured,
      verdict: 'Fail',
      message: `${where}; worse than ${baseline.role} by more than the margin ${fmt(margin)}${failing.note ? ` (upper bound${failing.note})` : ''}`,
    });
  if (ci.lower > -margin)
    return result({
      ...measured,
      verdict: 'Pass',
      message: `${where}; not worse than ${baseline.role} by the margin ${fmt(margin)}`,
    });
  return result({ ...measured, verdict: 'Inconclusive', message: `${where}; interval contains −${fmt(margin)}` });
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
