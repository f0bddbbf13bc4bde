// Label-free accuracy estimate per head (confidence-based performance estimation, as NannyML's
// CBPE does offline): a calibrated model expects to be right on a prediction of confidence c
// with probability c, so the mean calibrated confidence of live predictions estimates their
// accuracy before any label arrives. The interval adds the sampling error of that mean to the
// head's calibration error measured out of fold at validation (the estimate can be no better
// calibrated than the model). Measured against labels on the synthetic faces
// (hack/bench/label-free.bench.ts): within 0.03 on unshifted and mildly shifted traffic, but
// wrong by up to 0.8 under the generator's stronger drift (a model stays confident on noise it
// never saw), which is why drift refuses it. It rests on two assumptions, and says so instead of giving a
// number when they do not hold:
//   - support: calibration was fitted on the reference sample's confidences; live confidences
//     in bins where the reference had none are outside what was ever checked;
//   - no concept shift: P(label | input) unchanged. Unobservable without labels; very high
//     input drift makes it implausible, so above `maxInputDrift` the estimate is refused.
// Pure.
import { proportions } from './divergence.js';
import { zForConfidence } from './stats.js';

export interface ConfidenceCounts {
  /** Live predictions per calibrated-confidence bin (the reference's edges). */
  bins: readonly number[];
  /** Sum of the calibrated confidences (the histogram's _sum). */
  sum: number;
  /** Predictions (the histogram's _count). */
  count: number;
}

export interface HeadCalibrationReference {
  /** The reference sample's calibrated confidences per bin (the same bins as the live ones). */
  bins: readonly number[];
  /** Expected calibration error after calibration, out of fold: the estimate's systematic error. */
  eceAfter: number;
}

export interface EstimatePolicy {
  confidence: number;
  /** Live predictions below which no estimate is given. */
  minSamples: number;
  /** Largest share of live predictions allowed in bins the reference never reached. */
  maxOutsideSupport: number;
  /** Input drift (highest feature PSI) above which the estimate is refused. */
  maxInputDrift: number;
}

export const DEFAULT_ESTIMATE_POLICY: Omit<EstimatePolicy, 'confidence' | 'minSamples'> = {
  maxOutsideSupport: 0.1,
  maxInputDrift: 1,
};

export type AccuracyEstimate =
  | { head: string; value: number; lower: number; upper: number; samples: number }
  | {
      head: string;
      refused: 'TooFewSamples' | 'OutsideSupport' | 'InputDrift' | 'NoCalibration' | 'NoData';
      message: string;
      samples: number;
    };

export interface EstimateInput {
  head: string;
  live: ConfidenceCounts;
  /** The head's calibration at validation; none: no estimate. */
  reference: HeadCalibrationReference | undefined;
  /** Highest input-feature PSI against the reference profile, when measured. */
  inputDrift: number | undefined;
}

export function estimateAccuracy(input: EstimateInput, policy: EstimatePolicy): AccuracyEstimate {
  const { head, live, reference, inputDrift } = input;
  const samples = Math.round(live.count);
  if (!reference)
    return { head, refused: 'NoCalibration', samples, message: `head ${head} has no calibration from validation` };
  if (samples < policy.minSamples)
    return {
      head,
      refused: 'TooFewSamples',
      samples,
      message: `${samples} predictions of head ${head}, fewer than ${policy.minSamples}`,
    };
  const share = proportions(live.bins);
  const outside = share.reduce((sum, p, i) => sum + ((reference.bins[i] ?? 0) === 0 ? p : 0), 0);
  if (outside > policy.maxOutsideSupport)
    return {
      head,
      refused: 'OutsideSupport',
      samples,
      message: `${pct(outside)} of head ${head}'s live confidences fall where the reference sample had none (limit ${pct(policy.maxOutsideSupport)}): its calibration was never checked there`,
    };
  if (inputDrift !== undefined && inputDrift > policy.maxInputDrift)
    return {
      head,
      refused: 'InputDrift',
      samples,
      message: `input drift PSI ${inputDrift.toFixed(2)} above ${policy.maxInputDrift}: the inputs changed too much to assume that what makes a prediction right did not`,
    };
  const value = live.sum / live.count;
  // The number right is a sum of Bernoulli(c_i), whose variance Σ c_i(1 − c_i) is at most
  // n·v(1 − v) for their mean v: a bound that needs no more than the mean.
  const half = zForConfidence(policy.confidence) * Math.sqrt((value * (1 - value)) / live.count) + reference.eceAfter;
  return {
    head,
    value: round4(value),
    lower: round4(Math.max(0, value - half)),
    upper: round4(Math.min(1, value + half)),
    samples,
  };
}

const round4 = (v: number) => Math.round(v * 10_000) / 10_000;
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
