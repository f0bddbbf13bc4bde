// Production monitoring of the stable version, pure: drift and accuracy levels (Ok, Warn,
// Critical, Unknown) for status.monitoring, conditions, Events and retraining.
//
// - Drift level from the PSI score (max over features whose difference is significant, less
//   PSI's sampling noise — see checks/drift.ts): ≥ critical → Critical, ≥ warn → Warn, else Ok.
//   Unknown without a score or with fewer than `minRequests` live samples (PSI of a small
//   sample is biased upwards and would raise false alarms).
// - Accuracy level from ground-truth feedback, "lower is worse": Critical when the upper Wilson
//   bound is below `critical`, Warn when it is below `warn` — a level is raised only when the
//   data is confidently below the threshold. Unknown below `minFeedback` samples. Multi-head:
//   the worst head is reported.
import type { InferenceServiceMonitoring, InferenceServiceStatusMonitoring, MonitoringLevel } from '../api/index.js';
import { featureDrift, significantScore, type DriftReport } from './checks/drift.js';
import type { FeedbackCounts, RoleMeasurements } from './measurements.js';
import type { ReferenceProfile } from './reference.js';
import { wilsonInterval } from './stats.js';
import { fourDecimals } from './status.js';

const RANK: Record<MonitoringLevel, number> = { Ok: 0, Unknown: 1, Warn: 2, Critical: 3 };

/** The most severe level (Critical > Warn > Unknown > Ok); Unknown for none. */
export function worstLevel(levels: readonly MonitoringLevel[]): MonitoringLevel {
  if (levels.length === 0) return 'Unknown';
  return levels.reduce((w, l) => (RANK[l] > RANK[w] ? l : w), 'Ok' as MonitoringLevel);
}

export function driftLevel(score: number | undefined, thresholds: { warn: number; critical: number }): MonitoringLevel {
  if (score === undefined || !Number.isFinite(score)) return 'Unknown';
  if (score >= thresholds.critical) return 'Critical';
  if (score >= thresholds.warn) return 'Warn';
  return 'Ok';
}

export interface AccuracyLevel {
  level: MonitoringLevel;
  value?: number;
  lower?: number;
  upper?: number;
  samples: number;
}

export function accuracyLevel(
  feedback: FeedbackCounts | undefined,
  thresholds: { warn?: number; critical?: number } | undefined,
  opts: { confidence: number; minFeedback: number },
): AccuracyLevel {
  if (!feedback || feedback.total === 0) return { level: 'Unknown', samples: 0 };
  const ci = wilsonInterval(feedback.correct, feedback.total, opts.confidence);
  const out = { value: ci.estimate, lower: ci.lower, upper: ci.upper, samples: Math.round(feedback.total) };
  if (feedback.total < opts.minFeedback) return { level: 'Unknown', ...out };
  if (thresholds?.critical !== undefined && ci.upper < thresholds.critical) return { level: 'Critical', ...out };
  if (thresholds?.warn !== undefined && ci.upper < thresholds.warn) return { level: 'Warn', ...out };
  return { level: 'Ok', ...out };
}

export interface MonitorInput {
  measurements: RoleMeasurements;
  reference?: ReferenceProfile;
  monitoring: Pick<InferenceServiceMonitoring, 'drift' | 'accuracy'>;
  /** Live samples below which drift is Unknown (spec.canary.minRequests is a good default). */
  minRequests: number;
  /** Feedback below which accuracy is Unknown (spec.canary.minFeedback). */
  minFeedback: number;
  /** Confidence of the accuracy bounds (spec.canary.checks.accuracy.confidence). */
  confidence: number;
}

export interface MonitorResult {
  /** status.monitoring without `guard` (the controller owns that). */
  status: InferenceServiceStatusMonitoring;
  /** Per-feature drift (PSI and Jensen–Shannon) for metrics. */
  drift: DriftReport;
  /** Per-head accuracy levels. */
  accuracyByHead: Record<string, AccuracyLevel>;
}

export function monitorStable(input: MonitorInput): MonitorResult {
  const m = input.measurements;
  const drift = featureDrift(m, input.reference);
  const enough = drift.samples !== undefined && drift.samples >= input.minRequests;
  const features = Object.fromEntries(Object.entries(drift.items).map(([f, d]) => [f, fourDecimals(d.psi)]));
  const driftStatus = {
    ...(drift.score !== undefined ? { score: fourDecimals(drift.score), feature: drift.worst, features } : {}),
    // Levels count only features whose difference sampling noise cannot explain.
    level: enough
      ? driftLevel(significantScore(drift, input.confidence), input.monitoring.drift)
      : ('Unknown' as MonitoringLevel),
  };

  const accuracyByHead: Record<string, AccuracyLevel> = {};
  for (const [head, fb] of Object.entries(m.feedback ?? {})) {
    accuracyByHead[head] = accuracyLevel(fb, input.monitoring.accuracy, {
      confidence: input.confidence,
      minFeedback: input.minFeedback,
    });
  }
  // The reported head: the worst level, ties broken by the lowest accuracy.
  const worst = Object.values(accuracyByHead).sort(
    (a, b) => RANK[b.level] - RANK[a.level] || (a.value ?? 1) - (b.value ?? 1),
  )[0];
  const accuracy = worst
    ? Object.fromEntries(
        Object.entries({
          value: fourDecimals(worst.value),
          lower: fourDecimals(worst.lower),
          upper: fourDecimals(worst.upper),
          samples: worst.samples,
          level: worst.level,
        }).filter(([, v]) => v !== undefined),
      )
    : { samples: 0, level: 'Unknown' as MonitoringLevel };

  const status: InferenceServiceStatusMonitoring = { drift: driftStatus, accuracy };
  if (m.time) status.lastCheckedAt = m.time;
  return { status, drift, accuracyByHead };
}
