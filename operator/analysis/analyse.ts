// analyse(): every configured check of one analysis, as data. Pure: measurements in, check
// results out; the controller decides what to do with them (verdict.ts).
import type { InferenceServiceCanary } from '../api/index.js';
import { accuracyChecks } from './checks/accuracy.js';
import { driftCheck, predictionDriftCheck } from './checks/drift.js';
import { errorRateCheck } from './checks/errors.js';
import { latencyCheck } from './checks/latency.js';
import type { CheckResult } from './checks/result.js';
import type { RoleMeasurements } from './measurements.js';
import type { ReferenceProfile } from './reference.js';

/** The parts of spec.canary analysis reads (defaults already applied by the API server). */
export type AnalysisPolicy = Pick<InferenceServiceCanary, 'minRequests' | 'minFeedback' | 'checks'>;

export interface AnalysisInput {
  /** The version judged: the canary, or the new stable during the guard window. */
  subject: RoleMeasurements;
  /** The version it is compared with (stable during a canary); omit for absolute checks only. */
  baseline?: RoleMeasurements;
  /** The subject version's reference profile (ModelVersion.status.profile). */
  reference?: ReferenceProfile;
  policy: AnalysisPolicy;
  /** Heads that must have feedback (from the signature); default: heads seen in feedback. */
  heads?: readonly string[];
  /** Which look at accumulating evidence this is (1, the default, for a single window). */
  looks?: number;
}

/**
 * The drift checks spend a fifth of the error rate (1 % at the default confidence 0.95): a
 * false drift alarm rolls back a model as good as stable whatever its accuracy, and the
 * accuracy checks already spend theirs on the same canary.
 */
export const DRIFT_ERROR_SHARE = 5;

export function driftConfidence(confidence: number): number {
  return 1 - (1 - confidence) / DRIFT_ERROR_SHARE;
}

/**
 * Checks, in a stable order: accuracy (per head, when checks.accuracy.min is set),
 * accuracyVsStable (per head, when there is a baseline), drift, predictionDrift, latencyP95Ms,
 * errorRate. Missing data or provider errors make a check inconclusive, never a pass.
 */
export function analyse(input: AnalysisInput): CheckResult[] {
  const { subject, baseline, reference, policy } = input;
  const { accuracy, drift, latencyP95Ms, errorRate } = policy.checks;
  const minRequests = policy.minRequests;
  const driftPolicy = {
    max: drift.max,
    minRequests,
    confidence: driftConfidence(accuracy.confidence),
    look: input.looks,
  };
  return [
    ...accuracyChecks(subject, baseline, { ...accuracy, minFeedback: policy.minFeedback }, input.heads),
    driftCheck(subject, reference, driftPolicy),
    // Against the subject's own reference profile, never against stable: a canary better than
    // stable is supposed to predict differently from it (a retrained one for drifted traffic
    // all the more); what must hold is that it predicts on production traffic as it did at
    // validation. Accuracy is what compares it with stable.
    predictionDriftCheck(subject, undefined, reference, driftPolicy),
    latencyCheck(subject, { max: latencyP95Ms.max, minRequests }),
    errorRateCheck(subject, { max: errorRate.max, minRequests, confidence: accuracy.confidence }),
  ];
}
