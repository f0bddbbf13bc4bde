// latencyP95Ms — 95th percentile latency of prediction requests (from the request-duration
// histogram) ≤ max. Inconclusive below `minRequests` requests in the window (a p95 of a handful
// of requests is noise) and when the histogram has no data.
import { problemOf, type RoleMeasurements } from '../measurements.js';
import { fmt, result, type CheckResult } from './result.js';

export interface LatencyPolicy {
  /** Highest acceptable p95 in milliseconds. */
  max: number;
  minRequests: number;
}

export function latencyCheck(subject: RoleMeasurements, policy: LatencyPolicy): CheckResult {
  const base = { check: 'latencyP95Ms' as const, role: subject.role, threshold: policy.max };
  const samples = subject.requests === undefined ? undefined : Math.round(subject.requests);
  if (subject.latencyP95Ms === undefined) {
    return result({
      ...base,
      samples,
      verdict: 'Inconclusive',
      message: `no latency data for version ${subject.version}: ${problemOf(subject, 'latencyP95Ms')}`,
    });
  }
  const measured = { ...base, value: subject.latencyP95Ms, samples };
  const where = `p95 latency ${fmt(subject.latencyP95Ms)} ms`;
  if (samples === undefined || samples < policy.minRequests) {
    return result({
      ...measured,
      verdict: 'Inconclusive',
      message: `${where} over ${samples ?? 'an unknown number of'} requests, fewer than minRequests=${policy.minRequests}`,
    });
  }
  if (subject.latencyP95Ms > policy.max)
    return result({
      ...measured,
      verdict: 'Fail',
      message: `${where} > max ${fmt(policy.max)} ms (${samples} requests)`,
    });
  return result({
    ...measured,
    verdict: 'Pass',
    message: `${where} ≤ max ${fmt(policy.max)} ms (${samples} requests)`,
  });
}
