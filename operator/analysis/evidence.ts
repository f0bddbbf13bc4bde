// Accumulated evidence over time, pure: how many looks it has had, and when an inconclusive
// check's missing samples will have arrived at the rate seen so far.
import type { CheckResult } from './checks/result.js';
import { parseDuration } from '../api/index.js';

/** Checks whose samples accumulate since the canary began (the others use the last interval). */
const ACCUMULATING = new Set<string>(['accuracy', 'accuracyVsStable', 'drift', 'predictionDrift']);

/** Which look at evidence spanning `evidenceWindow` an analysis every `interval` is (≥ 1). */
export function looksIn(evidenceWindow: string, interval: string): number {
  return Math.max(1, Math.round(parseDuration(evidenceWindow) / Math.max(1, parseDuration(interval))));
}

/**
 * Each inconclusive accumulating check with samplesNeeded gets an `eta`: now plus the missing
 * samples at the rate its samples arrived over the evidence so far (`evidenceMs`).
 */
export function withEtas(checks: readonly CheckResult[], evidenceMs: number, at: Date): CheckResult[] {
  return checks.map((c) => {
    if (c.verdict !== 'Inconclusive' || !ACCUMULATING.has(c.check) || !(c.samplesNeeded! > 0)) return c;
    if (!(c.samples! > 0) || !(evidenceMs > 0)) return c;
    const perMs = c.samples! / evidenceMs;
    return { ...c, eta: new Date(at.getTime() + Math.ceil(c.samplesNeeded! / perMs)).toISOString() };
  });
}
