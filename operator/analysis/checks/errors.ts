// errorRate — failed prediction requests / prediction requests ≤ max.
// - At least `minRequests` requests: pass when the observed rate ≤ max, else fail.
// - Fewer requests: inconclusive, except that a canary whose error rate is *confidently* above
//   max (the lower Wilson bound at `confidence` exceeds it) fails at once — a crashing canary
//   at a 10 % step may never collect minRequests, and waiting for the progress deadline would
//   keep sending users to it. Failing early only ever moves towards rollback (fail safe).
import { wilsonInterval } from '../stats.js';
import { problemOf, type RoleMeasurements } from '../measurements.js';
import { fmt, result, type CheckResult } from './result.js';

export interface ErrorRatePolicy {
  max: number;
  minRequests: number;
  /** Confidence of the early-fail bound. */
  confidence: number;
}

export function errorRateCheck(subject: RoleMeasurements, policy: ErrorRatePolicy): CheckResult {
  const base = { check: 'errorRate' as const, role: subject.role, threshold: policy.max };
  const { requests, errors } = subject;
  if (requests === undefined || errors === undefined) {
    return result({
      ...base,
      verdict: 'Inconclusive',
      message: `no request data for version ${subject.version}: ${problemOf(subject, 'requests')}`,
    });
  }
  const samples = Math.round(requests);
  if (requests === 0)
    return result({
      ...base,
      samples: 0,
      verdict: 'Inconclusive',
      message: `no prediction requests reached version ${subject.version} in the window`,
    });
  const failed = Math.min(errors, requests);
  const ci = wilsonInterval(failed, requests, policy.confidence);
  const measured = { ...base, value: ci.estimate, lower: ci.lower, upper: ci.upper, samples };
  const where = `error rate ${fmt(ci.estimate)} (${fmt(failed)} of ${fmt(requests)} requests)`;
  if (requests < policy.minRequests) {
    if (ci.lower > policy.max)
      return result({
        ...measured,
        verdict: 'Fail',
        message: `${where}: even its lower ${fmt(policy.confidence * 100)}% bound ${fmt(ci.lower)} > max ${fmt(policy.max)}, before minRequests=${policy.minRequests}`,
      });
    return result({
      ...measured,
      verdict: 'Inconclusive',
      message: `${where}; fewer than minRequests=${policy.minRequests}`,
    });
  }
  if (ci.estimate > policy.max)
    return result({ ...measured, verdict: 'Fail', message: `${where} > max ${fmt(policy.max)}` });
  return result({ ...measured, verdict: 'Pass', message: `${where} ≤ max ${fmt(policy.max)}` });
}
