// agreement — how often the shadow predicts what stable predicts for the same input, per head,
// against `min`, on a confidence sequence like accuracy's: pass when the lower bound ≥ min,
// fail when the upper bound < min (Bonferroni-corrected over the heads, as accuracy fails).
// Unchecked without `min`: a better model is supposed to disagree where stable is wrong, so
// agreement is a guard against a broken candidate (a shuffled label map agrees on about
// 1/classes), not a measure of quality.
import type { MeasurementProblem } from '../measurements.js';
import { MIXING_SCALE, proportionSequence } from '../sequential.js';
import { fmt, result, type CheckResult } from './result.js';

/** Joined predictions of one head: how many, and on how many both versions agreed. */
export interface PairCounts {
  agree: number;
  total: number;
}

export interface AgreementPolicy {
  min?: number;
  /** Joined predictions per head below which the check is inconclusive. */
  minSamples: number;
  confidence: number;
}

export function agreementChecks(
  pairs: Record<string, PairCounts> | undefined,
  problem: MeasurementProblem | undefined,
  policy: AgreementPolicy,
): CheckResult[] {
  const min = policy.min;
  if (min === undefined) return [];
  const base = { check: 'agreement' as const, role: 'canary' as const, threshold: min };
  const heads = Object.keys(pairs ?? {}).sort();
  if (!pairs || heads.length === 0)
    return [
      result({
        ...base,
        verdict: 'Inconclusive',
        message: `no joined shadow predictions yet: ${problem ? `${problem.reason}: ${problem.message}` : 'no data'}`,
      }),
    ];
  const failConfidence = 1 - (1 - policy.confidence) / heads.length;
  return heads.map((head) => {
    const { agree, total } = pairs[head];
    const trials = Math.round(total);
    const counts = { successes: Math.min(trials, Math.round(agree)), trials };
    const ci = proportionSequence(counts, policy.confidence, MIXING_SCALE);
    const failUpper = proportionSequence(counts, failConfidence, MIXING_SCALE).upper;
    const where = `head ${head}: the shadow agrees with stable on ${fmt(ci.estimate)} of ${trials} predictions (${fmt(policy.confidence * 100)}% sequence [${fmt(ci.lower)}, ${fmt(ci.upper)}])`;
    const measured = { ...base, head, value: ci.estimate, lower: ci.lower, upper: ci.upper, samples: trials };
    if (trials < policy.minSamples)
      return result({
        ...measured,
        samplesNeeded: policy.minSamples - trials,
        verdict: 'Inconclusive',
        message: `${where}; fewer than ${policy.minSamples} samples`,
      });
    if (failUpper < min)
      return result({ ...measured, verdict: 'Fail', message: `${where}; upper bound < minAgreement ${fmt(min)}` });
    if (ci.lower >= min)
      return result({ ...measured, verdict: 'Pass', message: `${where}; lower bound ≥ minAgreement ${fmt(min)}` });
    return result({
      ...measured,
      verdict: 'Inconclusive',
      message: `${where}; the sequence contains minAgreement ${fmt(min)}`,
    });
  });
}
