// Drift checks.
//
// drift — input drift: each live feature histogram (counts in the reference profile's bins)
//   against the version's reference distribution. Per feature: PSI of the add-½ smoothed
//   shares of each sampled side (the reference profile is a sample too when its size is
//   known; see divergence.ts smoothedProportions) (the score compared with
//   `max`, as the CRD documents) and the Jensen–Shannon distance (bounded, symmetric; reported
//   for dashboards). score = max PSI over features; breakdown = PSI per feature.
// predictionDrift — output drift: predicted-class distribution per head of the subject against
//   a baseline's over the same window when one is given, else against the subject's reference
//   profile (what analyse() does for a canary: see there). score = max PSI over heads;
//   breakdown = PSI per head.
// Counts accumulate since the canary began (see promql.ts), and the check is made at every
// analysis, so a significance level spent whole at each look would add up: look k is held to
// 2α/((k + 1)(k + 2)) of the error rate (these sum to α over all looks), where k counts the
// analysis intervals the evidence spans.
// Verdicts: below `minRequests` samples always inconclusive (even with a score above `max`: PSI
// of a few requests is noise); otherwise fail when a feature/head scores above `max` by more
// than PSI's own sampling noise (its upward bias, (bins − 1)(1/n + 1/m): 0.07 for 500 live
// samples against a 160-sample profile) AND its difference is statistically significant (Pearson χ², see chisquare.ts, at `confidence` with a
// Bonferroni correction over the items scored: the check fails if ANY item drifts, so each
// item is held to α/items, and over the looks as above). One confirmed drifting item is enough,
// even if others lack data.
// A score above `max` that sampling noise could explain is inconclusive (more traffic will
// tell). Pass only when every expected feature/head was measured with score ≤ max.
import { histogramTest, type Expected } from '../chisquare.js';
import { DivergenceError, jensenShannonDistance, psi, smoothedProportions } from '../divergence.js';
import { problemOf, type RoleMeasurements } from '../measurements.js';
import type { ReferenceProfile } from '../reference.js';
import { growthToDecide } from '../sequential.js';
import { fmt, result, type CheckResult } from './result.js';

export interface DriftPolicy {
  /** Highest acceptable PSI. */
  max: number;
  /** Samples (requests counted into the histograms) below which the verdict is inconclusive. */
  minRequests: number;
  /** Confidence that a score above max is not sampling noise before it fails (e.g. 0.95). */
  confidence: number;
  /** Which look at accumulating evidence this is (1 for the first); a single window when unset. */
  look?: number;
}

export interface FeatureDrift {
  psi: number;
  jensenShannon: number;
  /** Live samples in the histogram. */
  samples: number;
  /** Pearson χ² p-value of the live histogram against the expected one. */
  pValue: number;
  /** The p-value were the live counts (and live expected counts) `factor` times larger. */
  pValueAt: (factor: number) => number;
  /**
   * What PSI reads on average from sampling alone, (bins − 1)(1/n + 1/m) for samples of n and m
   * (1/n against an exact distribution): the estimate's upward bias. A drift is only called
   * large when PSI minus this is above max.
   */
  noise: number;
}

export interface DriftReport {
  /** Per feature (or head) with a score. */
  items: Record<string, FeatureDrift>;
  /** Expected items that could not be scored, with the reason. */
  missing: Record<string, string>;
  /** Highest PSI, undefined when nothing could be scored. */
  score?: number;
  /** Item with the highest PSI. */
  worst?: string;
  /** Fewest live samples behind any score. */
  samples?: number;
}

function total(counts: readonly number[]): number {
  return counts.reduce((s, v) => s + v, 0);
}

/**
 * What the expected histograms are, for the significance test: live counts of another version
 * ('counts'), a reference profile computed from `samples` samples, or a distribution taken as
 * exact when its sample size is unknown.
 */
export type ExpectedSource = 'counts' | { samples?: number };

function expectedOf(ref: readonly number[], source: ExpectedSource): Expected {
  if (source === 'counts') return { counts: ref };
  const size = source.samples;
  if (size === undefined || !(size > 0)) return { proportions: ref };
  const t = total(ref);
  return { counts: ref.map((v) => (v / t) * size) };
}

/** Scores `live` against `expected`, item by item (items come from `expected`). */
export function compareHistograms(
  expected: Record<string, readonly number[]>,
  live: Record<string, readonly number[]> | undefined,
  source: ExpectedSource = {},
): DriftReport {
  const report: DriftReport = { items: {}, missing: {} };
  for (const [name, ref] of Object.entries(expected)) {
    const counts = live?.[name];
    if (!counts) {
      report.missing[name] = 'no live data';
      continue;
    }
    // Trailing bins with no live series yet are zeros, not a shape mismatch.
    const aligned = counts.length < ref.length ? [...counts, ...new Array(ref.length - counts.length).fill(0)] : counts;
    if (aligned.length !== ref.length) {
      report.missing[name] = `live data has ${counts.length} bins, the reference ${ref.length}`;
      continue;
    }
    if (total(aligned) === 0) {
      report.missing[name] = 'no live samples in the window';
      continue;
    }
    try {
      const expected = expectedOf(ref, source);
      // PSI of smoothed shares (see smoothedProportions): a sample's empty bins are estimated,
      // not floored; an exact reference distribution is taken as it is.
      const expectedShares = 'counts' in expected ? smoothedProportions(expected.counts) : expected.proportions;
      const pValueAt = (factor: number) =>
        histogramTest(
          aligned.map((v) => v * factor),
          source === 'counts' ? { counts: ref.map((v) => v * factor) } : expected,
        ).pValue;
      const bins = aligned.filter((v, i) => v + ref[i] > 0).length;
      const otherSize = 'counts' in expected ? total(expected.counts) : Infinity;
      const item = {
        noise: Math.max(0, bins - 1) * (1 / total(aligned) + 1 / otherSize),
        psi: psi(expectedShares, smoothedProportions(aligned)),
        jensenShannon: jensenShannonDistance(ref, aligned),
        samples: total(aligned),
        pValue: pValueAt(1),
        pValueAt,
      };
      report.items[name] = item;
      if (report.score === undefined || item.psi > report.score) {
        report.score = item.psi;
        report.worst = name;
      }
      report.samples = Math.min(report.samples ?? Infinity, item.samples);
    } catch (err) {
      if (!(err instanceof DivergenceError)) throw err;
      report.missing[name] = err.message;
    }
  }
  return report;
}

/** Input drift of `subject` against the reference profile. */
export function featureDrift(subject: RoleMeasurements, reference: ReferenceProfile | undefined): DriftReport {
  return compareHistograms(reference?.features ?? {}, subject.featureBins, { samples: reference?.samples });
}

/**
 * The per-item significance level: `confidence` shared by the items scored (Bonferroni), and,
 * for look k at accumulating evidence, over the looks: 2α/((k + 1)(k + 2)), which sums to α over
 * every look and spends a third at the first, where the fewest samples make the χ² tail least
 * exact. A single window (no look given) spends α whole.
 */
export function itemAlpha(report: DriftReport, confidence: number, look?: number): number {
  const k = look === undefined ? undefined : Math.max(1, Math.floor(look));
  const looks = k === undefined ? 1 : ((k + 1) * (k + 2)) / 2;
  return (1 - confidence) / Math.max(1, Object.keys(report.items).length) / looks;
}

/** Items scoring above `max` whose difference is significant, highest PSI first. */
export function significantDrift(
  report: DriftReport,
  max: number,
  confidence: number,
  look?: number,
): Array<[string, FeatureDrift]> {
  const alpha = itemAlpha(report, confidence, look);
  return Object.entries(report.items)
    .filter(([, d]) => d.psi - d.noise > max && d.pValue < alpha)
    .sort((a, b) => b[1].psi - a[1].psi);
}

/**
 * The highest PSI beyond its sampling noise among significantly different items (0 when none
 * is), for levels: a short monitoring window's PSI is inflated by its few samples.
 */
export function significantScore(report: DriftReport, confidence: number): number | undefined {
  if (report.score === undefined) return undefined;
  const alpha = itemAlpha(report, confidence);
  return Math.max(
    0,
    ...Object.values(report.items)
      .filter((d) => d.pValue < alpha)
      .map((d) => d.psi - d.noise),
  );
}

/** Class distributions of two sides as aligned vectors per head (labels: union, sorted). */
function classVectors(
  expected: Record<string, Record<string, number>>,
  live: Record<string, Record<string, number>> | undefined,
) {
  const exp: Record<string, number[]> = {};
  const liv: Record<string, number[]> = {};
  for (const [head, classes] of Object.entries(expected)) {
    const got = live?.[head];
    const labels = [...new Set([...Object.keys(classes), ...Object.keys(got ?? {})])].sort();
    exp[head] = labels.map((l) => classes[l] ?? 0);
    if (got) liv[head] = labels.map((l) => got[l] ?? 0);
  }
  return { exp, liv };
}

/** Output drift of `subject` against `baseline` (or the reference when there is none). */
export function predictionDrift(
  subject: RoleMeasurements,
  baseline: RoleMeasurements | undefined,
  reference: ReferenceProfile | undefined,
): DriftReport {
  const expected = baseline ? (baseline.predictions ?? {}) : (reference?.predictions ?? {});
  const { exp, liv } = classVectors(expected, subject.predictions);
  const report = compareHistograms(exp, liv, baseline ? 'counts' : { samples: reference?.samples });
  // Expected heads with no baseline counts cannot be compared yet.
  for (const [head, v] of Object.entries(exp)) {
    if (total(v) === 0 && report.items[head] === undefined)
      report.missing[head] = `no ${baseline ? baseline.role : 'reference'} predictions`;
  }
  // Both sides are live samples: the smaller one bounds how much the score can be trusted.
  if (baseline) {
    for (const head of Object.keys(report.items))
      report.samples = Math.min(report.samples ?? Infinity, total(exp[head]));
  }
  return report;
}

/** Which drift check a report is judged for, and how its messages name it. */
interface DriftSubject {
  check: 'drift' | 'predictionDrift';
  subject: RoleMeasurements;
  /** What the score measures, e.g. "input drift". */
  what: string;
  /** The message when nothing could be measured. */
  noData: string;
}

/** A score above max that is not (yet) significant, with the samples that would tell. */
function possiblyNoise(
  report: DriftReport,
  measured: Omit<CheckResult, 'verdict'>,
  { worst, level, alpha, max }: { worst: string; level: string; alpha: number; max: number },
): CheckResult {
  const d = report.items[report.worst!];
  const growth = growthToDecide((f) => d.pValueAt(f) < alpha);
  const needed = growth === undefined ? undefined : Math.max(1, Math.ceil(d.samples * (growth - 1)));
  const more = needed === undefined ? '' : `; about ${needed} more samples would tell at the current shares`;
  return result({
    ...measured,
    samplesNeeded: needed,
    verdict: 'Inconclusive',
    message: `${worst} > max ${fmt(max)}, but not significant at ${level} (χ² p = ${fmt(d.pValue)}, ${fmt(d.samples)} samples): could be sampling noise${more}`,
  });
}

function verdictOf(
  report: DriftReport,
  policy: DriftPolicy,
  { check, subject, what, noData }: DriftSubject,
): CheckResult {
  const base = { check, role: subject.role, threshold: policy.max };
  const missing = Object.entries(report.missing);
  if (report.score === undefined) {
    return result({
      ...base,
      samples: 0,
      verdict: 'Inconclusive',
      message:
        noData +
        (missing.length
          ? ` (${missing
              .map(([n, why]) => `${n}: ${why}`)
              .slice(0, 5)
              .join('; ')})`
          : ''),
    });
  }
  const breakdown = Object.fromEntries(Object.entries(report.items).map(([n, d]) => [n, d.psi]));
  const samples = Math.round(report.samples ?? 0);
  const measured = { ...base, value: report.score, samples, breakdown };
  const worst = `${what} PSI ${fmt(report.score)} (highest: ${report.worst}, Jensen–Shannon ${fmt(report.items[report.worst!].jensenShannon)})`;
  // PSI of a handful of samples is mostly noise (a few requests in one bin score > 1), so a
  // score above max only fails once minRequests samples back it, like the other checks.
  if (samples < policy.minRequests) {
    const above = report.score > policy.max ? ` > max ${fmt(policy.max)}, but` : ';';
    return result({
      ...measured,
      samplesNeeded: policy.minRequests - samples,
      verdict: 'Inconclusive',
      message: `${worst}${above} only ${samples} samples, fewer than minRequests=${policy.minRequests}`,
    });
  }
  const alpha = itemAlpha(report, policy.confidence, policy.look);
  const drifting = significantDrift(report, policy.max, policy.confidence, policy.look);
  const level = `${fmt((1 - alpha) * 100)}%`;
  if (drifting.length) {
    const [name, d] = drifting[0];
    const why = `${name} PSI ${fmt(d.psi)} > max ${fmt(policy.max)} beyond its sampling noise ${fmt(d.noise)}, significant at ${level} (χ² p = ${fmt(d.pValue)}, ${fmt(d.samples)} samples)`;
    return result({ ...measured, verdict: 'Fail', message: `${worst}; ${why}` });
  }
  if (report.score > policy.max) return possiblyNoise(report, measured, { worst, level, alpha, max: policy.max });
  if (missing.length)
    return result({
      ...measured,
      verdict: 'Inconclusive',
      message: `${worst}; not measured: ${missing
        .map(([n, why]) => `${n} (${why})`)
        .slice(0, 5)
        .join(', ')}`,
    });
  return result({ ...measured, verdict: 'Pass', message: `${worst} ≤ max ${fmt(policy.max)}` });
}

/** The `drift` check (input features vs reference profile). */
export function driftCheck(
  subject: RoleMeasurements,
  reference: ReferenceProfile | undefined,
  policy: DriftPolicy,
): CheckResult {
  if (!reference || Object.keys(reference.features).length === 0) {
    return result({
      check: 'drift',
      role: subject.role,
      threshold: policy.max,
      verdict: 'Inconclusive',
      message: `version ${subject.version} has no reference profile to compare with`,
    });
  }
  const noData = `no live feature histograms for version ${subject.version}: ${problemOf(subject, 'featureBins')}`;
  return verdictOf(featureDrift(subject, reference), policy, { check: 'drift', subject, what: 'input drift', noData });
}

/** The `predictionDrift` check (predicted classes vs baseline, else vs reference). */
export function predictionDriftCheck(
  subject: RoleMeasurements,
  baseline: RoleMeasurements | undefined,
  reference: ReferenceProfile | undefined,
  policy: DriftPolicy,
): CheckResult {
  const against = baseline ? `${baseline.role} version ${baseline.version}` : 'the reference profile';
  const expected = baseline ? baseline.predictions : reference?.predictions;
  if (!expected || Object.keys(expected).length === 0) {
    const why = baseline ? problemOf(baseline, 'predictions') : 'no reference class distribution';
    return result({
      check: 'predictionDrift',
      role: subject.role,
      threshold: policy.max,
      verdict: 'Inconclusive',
      message: `no predictions of ${against} to compare with: ${why}`,
    });
  }
  const noData = `no predictions of version ${subject.version}: ${problemOf(subject, 'predictions')}`;
  return verdictOf(predictionDrift(subject, baseline, reference), policy, {
    check: 'predictionDrift',
    subject,
    what: `prediction drift vs ${against}:`,
    noData,
  });
}
