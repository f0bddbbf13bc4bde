// The reference profile: quantile bin edges and counts per input feature, class and
// confidence distributions per head. Live traffic is counted into the same bins
// (modelship_feature_bin_total), so drift is a comparison of two histograms. Pure.
import type { ItemPrediction } from '../model/heads.js';
import type { FeatureProfile, Head, HeadProfile, Profile } from '../model/schema.js';
import { calibrate, CALIBRATED_EDGES, calibratedConfidence, type Labelled } from './calibration.js';

/** Confidence bins: edges 0.1..0.9 → 10 bins, the same as the confidence histogram buckets. */
export const CONFIDENCE_EDGES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

function round(v: number): number {
  return Number(v.toPrecision(8));
}

/** Interior cut points at quantiles 1/bins … (bins-1)/bins (linear interpolation), deduplicated. */
export function quantileEdges(values: number[], bins: number): number[] {
  if (values.length === 0 || bins < 2) return [];
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const pos = (i / bins) * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(sorted.length - 1, lo + 1);
    const edge = round(sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo));
    if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
  }
  return edges;
}

/** Bin index of v: the number of edges <= v, so bins are [edge[i-1], edge[i]). */
export function binIndex(edges: readonly number[], v: number): number {
  let lo = 0,
    hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function histogram(edges: readonly number[], values: number[]): number[] {
  const counts = new Array(edges.length + 1).fill(0);
  for (const v of values) counts[binIndex(edges, v)]++;
  return counts;
}

export function featureProfile(values: number[], bins: number): FeatureProfile {
  const edges = quantileEdges(values, bins);
  const sum = values.reduce((a, b) => a + b, 0);
  return {
    edges,
    counts: histogram(edges, values),
    min: values.length ? round(Math.min(...values)) : 0,
    max: values.length ? round(Math.max(...values)) : 0,
    mean: values.length ? round(sum / values.length) : 0,
  };
}

export function headProfile(
  head: Head,
  predictions: ItemPrediction[],
  labels?: ReadonlyArray<Record<string, string>>,
): HeadProfile {
  const classes: Record<string, number> = Object.fromEntries(head.labels.map((l) => [l, 0]));
  const scores: number[] = [];
  for (const item of predictions) {
    const p = item[head.name];
    classes[p.label]++;
    scores.push(p.score);
  }
  const profile = { classes, confidence: { edges: CONFIDENCE_EDGES, counts: histogram(CONFIDENCE_EDGES, scores) } };
  const calibration = labels && headCalibration(head, predictions, labels);
  return calibration ? { ...profile, calibration } : profile;
}

/** The head's calibration from the labelled items, with the calibrated confidences' histogram. */
function headCalibration(
  head: Head,
  predictions: ItemPrediction[],
  labels: ReadonlyArray<Record<string, string>>,
): HeadProfile['calibration'] {
  const probabilities = (item: ItemPrediction) => head.labels.map((l) => item[head.name].scores[l] ?? 0);
  const items: Labelled[] = [];
  predictions.forEach((item, i) => {
    const truth = head.labels.indexOf(labels[i]?.[head.name] ?? '');
    if (truth >= 0) items.push({ probabilities: probabilities(item), truth });
  });
  if (items.length === 0) return undefined;
  const fitted = calibrate(items);
  const confidences = predictions.map((item) => calibratedConfidence(probabilities(item), fitted.temperature));
  return { ...fitted, confidence: { edges: CALIBRATED_EDGES, counts: histogram(CALIBRATED_EDGES, confidences) } };
}

export interface ProfileInput {
  model: string;
  digest: string;
  bins: number;
  featureNames: readonly string[];
  /** per item, values in featureNames order */
  features: number[][];
  heads: Head[];
  predictions: ItemPrediction[];
  /** The true labels per item (the labelled reference sample): calibration is fitted on them. */
  labels?: ReadonlyArray<Record<string, string>>;
}

export function buildProfile(p: ProfileInput): Profile {
  const features: Record<string, FeatureProfile> = {};
  p.featureNames.forEach((name, i) => {
    features[name] = featureProfile(
      p.features.map((row) => row[i]),
      p.bins,
    );
  });
  const heads: Record<string, HeadProfile> = {};
  for (const head of p.heads) heads[head.name] = headProfile(head, p.predictions, p.labels);
  return {
    schemaVersion: 1,
    model: p.model,
    digest: p.digest,
    samples: p.features.length,
    bins: p.bins,
    features,
    heads,
  };
}
