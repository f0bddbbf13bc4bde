// The result of one check: exactly the shape of an entry of InferenceService
// status.analysis.checks (AnalysisCheck), with the role always set.
import type { AnalysisCheck, Verdict, VersionRole } from '../../api/index.js';

export type { Verdict };

export const CHECK_NAMES = [
  'accuracy',
  'accuracyVsStable',
  'drift',
  'predictionDrift',
  'latencyP95Ms',
  'errorRate',
  'agreement',
  'estimatedAccuracy',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface CheckResult extends AnalysisCheck {
  check: CheckName;
  role: VersionRole;
}

/** Drops undefined fields so results compare and serialise cleanly. */
export function result(r: CheckResult): CheckResult {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as CheckResult;
}

/** Numbers in messages: 4 significant digits, no exponent noise. */
export function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}
