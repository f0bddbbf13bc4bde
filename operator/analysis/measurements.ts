// Raw measurements of one version role over one analysis window, as data. Every field is
// optional on purpose: `undefined` means "no data" (no series, NaN, or the provider failed —
// see `problems`), while 0 means "measured, and it was zero". Checks must keep the two apart:
// missing data is inconclusive, never a pass.
import type { VersionRole } from '../api/index.js';

export type { VersionRole };

/** Keys of RoleMeasurements that hold measured values. */
export type MeasurementKey =
  'requests' | 'errors' | 'latencyP95Ms' | 'feedback' | 'featureBins' | 'predictions' | 'modelErrors';

export interface FeedbackCounts {
  /** Feedback saying the prediction was right. */
  correct: number;
  /** All feedback (correct + incorrect). */
  total: number;
}

export interface MeasurementProblem {
  /** NoData (no series / NaN), or the provider error's reason (ProviderUnreachable, BadQuery…). */
  reason: string;
  message: string;
}

export interface RoleMeasurements {
  role: VersionRole;
  /** Value of the `version` label measured. */
  version: string;
  /** Window the request, error and latency figures cover, a duration such as 1m. */
  window: string;
  /** Window the feedback, feature and prediction counts cover (default: `window`). */
  evidenceWindow?: string;
  /** Evaluation time (RFC 3339); set by measure(). */
  time?: string;
  /** Prediction requests (predict and OIP infer endpoints) answered in the window. */
  requests?: number;
  /**
   * Failed prediction requests: 5xx answers of the serving pods (every server-side model error
   * — inference_failed, internal, not_ready… — is one) plus the router's own 502/504 for this
   * version (pods crashed or hung, which the pods themselves cannot count).
   */
  errors?: number;
  /** 95th percentile latency of prediction requests, in milliseconds. */
  latencyP95Ms?: number;
  /** Ground-truth feedback per head. */
  feedback?: Record<string, FeedbackCounts>;
  /** Live input-feature counts per feature, indexed by reference-profile bin (0 … edges.length). */
  featureBins?: Record<string, number[]>;
  /** Predicted-class counts per head. */
  predictions?: Record<string, Record<string, number>>;
  /**
   * Failed predictions by reason (client errors such as corrupt_image included), for display;
   * not added to `errors`, which already counts the server-side ones through their 5xx.
   */
  modelErrors?: Record<string, number>;
  /**
   * Most samples any request series has in the window (k): increase() scales what a series
   * rose by between its first and last sample (k − 1 scrape intervals) up to the whole window,
   * about k/(k − 1) times what was observed. Undefined when not measured.
   */
  scrapes?: number;
  /** The same over the evidence window. */
  evidenceScrapes?: number;
  /** Why each missing measurement is missing. */
  problems: Partial<Record<MeasurementKey, MeasurementProblem>>;
}

/** Why `key` has no value, in words ("no data" when nothing was recorded). */
export function problemOf(m: RoleMeasurements, key: MeasurementKey): string {
  const p = m.problems[key];
  return p ? `${p.reason}: ${p.message}` : 'no data';
}

/**
 * The share of increase()'s counts that was observed: (k − 1)/k for k samples per series.
 * With a 2 s scrape and an 8 s window, increase() reports 4/3 of the requests actually seen;
 * intervals and χ² tests computed on those would claim a third more evidence than there is.
 */
export function observedShare(m: Pick<RoleMeasurements, 'scrapes'>): number {
  const k = m.scrapes;
  return k !== undefined && k >= 2 ? (k - 1) / k : 1;
}

/**
 * Observed whole counts for the statistics (they need whole trials): Prometheus increase()
 * extrapolates to the window edges, so a counter that rose by 60 over 4 of 5 samples' span
 * reads 75, and one that rose by 60 may read 59.98. Scaled back to what was observed (see
 * observedShare) and rounded once, here, with successes and errors capped by their totals.
 */
export function wholeCounts(m: RoleMeasurements): RoleMeasurements {
  const share = observedShare(m);
  const evidenceShare = m.evidenceWindow === undefined ? share : observedShare({ scrapes: m.evidenceScrapes });
  const round = (v: number | undefined) => (v === undefined ? undefined : Math.round(v * share));
  const whole = (v: number) => Math.round(v * evidenceShare);
  const roundValues = (o: Record<string, number>) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, whole(v)]));
  const requests = round(m.requests);
  const errors = m.errors === undefined ? undefined : Math.min(requests ?? Infinity, round(m.errors)!);
  const feedback =
    m.feedback &&
    Object.fromEntries(
      Object.entries(m.feedback).map(([head, f]) => {
        const total = whole(f.total);
        return [head, { ...f, total, correct: Math.min(total, whole(f.correct)) }];
      }),
    );
  const featureBins =
    m.featureBins && Object.fromEntries(Object.entries(m.featureBins).map(([k, v]) => [k, v.map(whole)]));
  const predictions =
    m.predictions && Object.fromEntries(Object.entries(m.predictions).map(([h, c]) => [h, roundValues(c)]));
  return { ...m, requests, errors, feedback, featureBins, predictions };
}
