// estimatedAccuracy — the optional early failure on the label-free estimate (estimate.ts): with
// checks.accuracy.failOnEstimate and min set, a head whose estimate's upper bound is below min
// fails the analysis before labels arrive. It only ever fails: a pass stays the labels' to
// give, and a refused estimate (drift, confidences outside the reference's support) says
// nothing, so no result is added for those.
import type { AccuracyEstimate } from '../estimate.js';
import { fmt, result, type CheckResult } from './result.js';

export function estimatedAccuracyChecks(
  estimates: readonly AccuracyEstimate[],
  policy: { min?: number; failOnEstimate?: boolean },
): CheckResult[] {
  const min = policy.min;
  if (!policy.failOnEstimate || min === undefined) return [];
  return estimates.flatMap((e) =>
    'value' in e && e.upper < min
      ? [
          result({
            check: 'estimatedAccuracy',
            role: 'canary',
            head: e.head,
            value: e.value,
            lower: e.lower,
            upper: e.upper,
            samples: e.samples,
            threshold: min,
            verdict: 'Fail',
            message: `head ${e.head}: estimated accuracy ${fmt(e.value)} without labels ([${fmt(e.lower)}, ${fmt(e.upper)}] from ${e.samples} predictions' calibrated confidence); upper bound < min ${fmt(min)}`,
          }),
        ]
      : [],
  );
}
