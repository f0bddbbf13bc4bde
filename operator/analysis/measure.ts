// measure(): runs the queries of promql.ts through a MetricProvider and returns raw
// measurements as data. Provider failures do not throw: they become `problems`, so that the
// checks report them as inconclusive with the reason (a dead Prometheus is never a pass).
import { MetricProviderError, type MetricProvider, type Sample } from '../metrics-providers/index.js';
import type {
  MeasurementKey,
  MeasurementProblem,
  RoleMeasurements,
  VersionRole,
  FeedbackCounts,
} from './measurements.js';
import { measurementQueries, type SeriesTarget } from './promql.js';

export interface MeasureTarget extends SeriesTarget {
  role: VersionRole;
}

type Outcome = { samples: Sample[] } | { problem: MeasurementProblem };

const NO_DATA = (what: string): MeasurementProblem => ({
  reason: 'NoData',
  message: `no ${what} series in the window`,
});

async function run(provider: MetricProvider, q: string, at: Date | undefined): Promise<Outcome> {
  try {
    return { samples: await provider.query(q, at) };
  } catch (err) {
    if (err instanceof MetricProviderError) return { problem: { reason: err.reason, message: err.message } };
    throw err;
  }
}

/** The single value of an aggregated query; undefined for no series or NaN. */
function single(samples: Sample[]): number | undefined {
  if (samples.length === 0) return undefined;
  const v = samples[0].value;
  return Number.isNaN(v) ? undefined : Math.max(0, v);
}

function grouped(samples: Sample[], outer: string, inner: string): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of samples) {
    const o = s.labels[outer];
    const i = s.labels[inner];
    if (o === undefined || i === undefined || Number.isNaN(s.value)) continue;
    (out[o] ??= {})[i] = Math.max(0, s.value);
  }
  return out;
}

/** Feedback per head from `sum by (head, outcome)` samples. */
export function feedbackFromSamples(samples: Sample[]): Record<string, FeedbackCounts> {
  const out: Record<string, FeedbackCounts> = {};
  for (const [head, outcomes] of Object.entries(grouped(samples, 'head', 'outcome'))) {
    const correct = outcomes.correct ?? 0;
    out[head] = { correct, total: correct + (outcomes.incorrect ?? 0) };
  }
  return out;
}

/** Bin-count vectors per feature from `sum by (feature, bin)` samples (bins are 0-based indexes). */
export function featureBinsFromSamples(samples: Sample[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [feature, bins] of Object.entries(grouped(samples, 'feature', 'bin'))) {
    const indexes = Object.keys(bins)
      .map(Number)
      .filter((i) => Number.isInteger(i) && i >= 0);
    const counts = new Array<number>(indexes.length ? Math.max(...indexes) + 1 : 0).fill(0);
    for (const i of indexes) counts[i] = bins[String(i)];
    out[feature] = counts;
  }
  return out;
}

type Outcomes = Record<keyof ReturnType<typeof measurementQueries>, Outcome>;
type Fail = (key: MeasurementKey, p: MeasurementProblem) => void;

/**
 * Requests and errors. The 5xx and router series only exist once such an answer happened, so
 * their absence is a zero — but only when the request counter itself was measured.
 */
function requestsAndErrors(m: RoleMeasurements, r: Outcomes, fail: Fail): void {
  const failure = [r.requests, r.serverErrors, r.routerFailures].find(
    (o): o is { problem: MeasurementProblem } => 'problem' in o,
  );
  if (failure) {
    fail('requests', failure.problem);
    fail('errors', failure.problem);
    return;
  }
  const served = single((r.requests as { samples: Sample[] }).samples);
  const routerFailures = single((r.routerFailures as { samples: Sample[] }).samples);
  if (served === undefined && routerFailures === undefined) {
    fail('requests', NO_DATA('modelship_requests_total'));
    fail('errors', NO_DATA('modelship_requests_total'));
    return;
  }
  m.requests = (served ?? 0) + (routerFailures ?? 0);
  m.errors = (single((r.serverErrors as { samples: Sample[] }).samples) ?? 0) + (routerFailures ?? 0);
}

function latency(m: RoleMeasurements, r: Outcomes, fail: Fail): void {
  if ('problem' in r.latencyP95Seconds) return fail('latencyP95Ms', r.latencyP95Seconds.problem);
  const s = single(r.latencyP95Seconds.samples);
  if (s === undefined)
    fail('latencyP95Ms', { reason: 'NoData', message: 'no prediction requests (latency histogram) in the window' });
  else m.latencyP95Ms = s * 1000;
}

function distributions(m: RoleMeasurements, r: Outcomes, fail: Fail): void {
  const maps: Array<[MeasurementKey, Outcome, (s: Sample[]) => Record<string, unknown>, string]> = [
    ['feedback', r.feedback, feedbackFromSamples, 'modelship_feedback_total'],
    ['featureBins', r.featureBins, featureBinsFromSamples, 'modelship_feature_bin_total'],
    ['predictions', r.predictions, (s) => grouped(s, 'head', 'class'), 'modelship_predictions_total'],
  ];
  for (const [key, outcome, parse, metric] of maps) {
    if ('problem' in outcome) fail(key, outcome.problem);
    else if (outcome.samples.length === 0) fail(key, NO_DATA(metric));
    else (m as unknown as Record<string, unknown>)[key] = parse(outcome.samples);
  }
}

function scrapesAndModelErrors(m: RoleMeasurements, r: Outcomes, fail: Fail): void {
  // Samples per series: how much increase() extrapolated (see wholeCounts); optional.
  if (!('problem' in r.scrapes)) {
    const k = single(r.scrapes.samples);
    if (k !== undefined) m.scrapes = k;
  }
  if (!('problem' in r.evidenceScrapes)) {
    const k = single(r.evidenceScrapes.samples);
    if (k !== undefined) m.evidenceScrapes = k;
  }
  // Model-error series appear with the first error: none means no errors.
  if ('problem' in r.modelErrors) return fail('modelErrors', r.modelErrors.problem);
  m.modelErrors = Object.fromEntries(
    r.modelErrors.samples
      .filter((s) => !Number.isNaN(s.value))
      .map((s) => [s.labels.reason ?? 'unknown', Math.max(0, s.value)]),
  );
}

/** The windows one measurement covers, ending at `at` (now when omitted). */
export interface MeasureWindows {
  /** Requests, errors and latency. */
  window: string;
  /** Feedback, features and predictions (default: `window`). */
  evidenceWindow?: string;
  at?: Date;
}

/**
 * Measures one version over its windows. Never rejects for provider failures; rejects only on
 * programming errors (e.g. an invalid window).
 */
export async function measure(
  provider: MetricProvider,
  target: MeasureTarget,
  { window, evidenceWindow, at }: MeasureWindows,
): Promise<RoleMeasurements> {
  const q = measurementQueries(target, window, evidenceWindow);
  const keys = Object.keys(q) as Array<keyof typeof q>;
  const results = await Promise.all(keys.map((k) => run(provider, q[k], at)));
  const r = Object.fromEntries(keys.map((k, i) => [k, results[i]])) as Outcomes;
  // Without `at`, Prometheus evaluates at its own now; ours is the closest record of that.
  const m: RoleMeasurements = {
    role: target.role,
    version: target.version,
    window,
    ...(evidenceWindow === undefined ? {} : { evidenceWindow }),
    time: (at ?? new Date()).toISOString(),
    problems: {},
  };
  const fail: Fail = (key, p) => {
    m.problems[key] = p;
  };
  for (const part of [requestsAndErrors, latency, distributions, scrapesAndModelErrors]) part(m, r, fail);
  return m;
}
