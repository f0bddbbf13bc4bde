// The live side of the label-free estimate: the serving pods' calibrated-confidence histogram
// (modelship_prediction_calibrated_confidence) of one version over the evidence window, turned
// into per-bin counts, and the estimate per head (estimate.ts). A provider failure or a head
// without series is an estimate refused with the reason, never a number.
import { MetricProviderError, type MetricProvider, type Sample } from '../metrics-providers/index.js';
import { estimateAccuracy, type AccuracyEstimate, type ConfidenceCounts, type EstimatePolicy } from './estimate.js';
import { range, selector, type SeriesTarget } from './promql.js';
import type { ReferenceProfile } from './reference.js';

const METRIC = 'modelship_prediction_calibrated_confidence';

export function estimateQueries(
  target: SeriesTarget,
  evidenceWindow: string,
): Record<'buckets' | 'sums' | 'counts', string> {
  const sel = selector(target);
  const e = range(evidenceWindow);
  return {
    buckets: `sum by (head, le) (increase(${METRIC}_bucket${sel}${e}))`,
    sums: `sum by (head) (increase(${METRIC}_sum${sel}${e}))`,
    counts: `sum by (head) (increase(${METRIC}_count${sel}${e}))`,
  };
}

/** Per-bin counts of each head from cumulative `le` buckets (pure); `bins` of them, in order. */
export function liveCounts(
  buckets: Sample[],
  sums: Sample[],
  counts: Sample[],
  bins: number,
): Record<string, ConfidenceCounts> {
  const byHead = new Map<string, Array<[number, number]>>();
  for (const s of buckets) {
    const head = s.labels.head;
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    if (head === undefined || Number.isNaN(le) || Number.isNaN(s.value)) continue;
    (byHead.get(head) ?? byHead.set(head, []).get(head)!).push([le, Math.max(0, s.value)]);
  }
  const total = (samples: Sample[], head: string) =>
    Math.max(0, samples.find((s) => s.labels.head === head)?.value ?? 0);
  const out: Record<string, ConfidenceCounts> = {};
  for (const [head, cumulative] of byHead) {
    cumulative.sort((a, b) => a[0] - b[0]);
    const perBin = cumulative.map(([, v], i) => Math.max(0, v - (i ? cumulative[i - 1][1] : 0)));
    out[head] = { bins: perBin.slice(0, bins), sum: total(sums, head), count: total(counts, head) };
  }
  return out;
}

export interface MeasureEstimatesInput {
  provider: MetricProvider;
  target: SeriesTarget;
  evidenceWindow: string;
  at: Date;
  reference: ReferenceProfile | undefined;
  /** The version's input drift (its drift check's value), when measured. */
  inputDrift: number | undefined;
}

export async function measureEstimates(
  input: MeasureEstimatesInput,
  policy: EstimatePolicy,
): Promise<AccuracyEstimate[]> {
  const heads = Object.entries(input.reference?.calibration ?? {});
  if (heads.length === 0) return [];
  const q = estimateQueries(input.target, input.evidenceWindow);
  let live: Record<string, ConfidenceCounts>;
  try {
    const [buckets, sums, counts] = await Promise.all([
      input.provider.query(q.buckets, input.at),
      input.provider.query(q.sums, input.at),
      input.provider.query(q.counts, input.at),
    ]);
    live = liveCounts(buckets, sums, counts, Math.max(...heads.map(([, r]) => r.bins.length)));
  } catch (err) {
    if (!(err instanceof MetricProviderError)) throw err;
    return heads.map(([head]) => ({ head, refused: 'NoData', samples: 0, message: `${err.reason}: ${err.message}` }));
  }
  return heads.map(([head, reference]) => {
    const counts = live[head];
    if (!counts)
      return { head, refused: 'NoData', samples: 0, message: `no ${METRIC} series for head ${head} in the window` };
    return estimateAccuracy({ head, live: counts, reference, inputDrift: input.inputDrift }, policy);
  });
}
