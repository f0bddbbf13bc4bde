// Confidence calibration per head, fitted at validation on the labelled reference sample:
// temperature scaling (one parameter per head: probabilities p become softmax(log p / T), which
// for a binary head is sigmoid(logit(p) / T)). One parameter cannot overfit a small sample the
// way binning methods do, and it keeps the predicted class. The calibration error (ECE) is
// reported before and after, the "after" measured out of fold (fitted on one half, measured on
// the other, both ways), so that a small reference sample cannot flatter it. Calibrated
// confidence is what a label-free accuracy estimate averages: the expected accuracy of
// predictions whose confidence is c is c, when calibrated. Pure.

/** One labelled prediction of a head: its class probabilities and the index of the true label. */
export interface Labelled {
  probabilities: readonly number[];
  truth: number;
}

export interface Calibration {
  temperature: number;
  samples: number;
  /** Expected calibration error of the raw confidences, per half of the sample. */
  eceBefore: number;
  /** ECE after temperature scaling, per half at the temperature fitted on the other half. */
  eceAfter: number;
}

/** Confidence histogram edges of calibrated confidence: 0.05 … 0.95, 20 bins. */
export const CALIBRATED_EDGES = Array.from({ length: 19 }, (_, i) => Math.round((i + 1) * 5) / 100);

const ECE_BINS = 10;
const FLOOR = 1e-12;

/** Class probabilities at temperature `t` (t = 1 returns the same probabilities). */
export function temper(probabilities: readonly number[], t: number): number[] {
  const logits = probabilities.map((p) => Math.log(Math.max(p, FLOOR)) / t);
  const max = Math.max(...logits);
  const exps = logits.map((z) => Math.exp(z - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** The confidence of the predicted class at temperature `t`. */
export function calibratedConfidence(probabilities: readonly number[], t: number): number {
  return Math.max(...temper(probabilities, t));
}

const argmax = (v: readonly number[]) => v.reduce((best, x, i) => (x > v[best] ? i : best), 0);

function nll(items: readonly Labelled[], t: number): number {
  let sum = 0;
  for (const it of items) sum -= Math.log(Math.max(temper(it.probabilities, t)[it.truth], FLOOR));
  return sum;
}

/** The temperature minimising the negative log-likelihood, by golden-section search on log t in [1/20, 20]. */
export function fitTemperature(items: readonly Labelled[]): number {
  if (items.length === 0) return 1;
  let lo = Math.log(0.05);
  let hi = Math.log(20);
  const g = (Math.sqrt(5) - 1) / 2;
  let a = hi - g * (hi - lo);
  let b = lo + g * (hi - lo);
  let fa = nll(items, Math.exp(a));
  let fb = nll(items, Math.exp(b));
  for (let i = 0; i < 60; i++) {
    if (fa < fb) {
      hi = b;
      b = a;
      fb = fa;
      a = hi - g * (hi - lo);
      fa = nll(items, Math.exp(a));
    } else {
      lo = a;
      a = b;
      fa = fb;
      b = lo + g * (hi - lo);
      fb = nll(items, Math.exp(b));
    }
  }
  return Number(Math.exp((lo + hi) / 2).toPrecision(6));
}

/** Expected calibration error over equal-width confidence bins: Σ (n_b / n) |accuracy_b − confidence_b|. */
export function expectedCalibrationError(items: readonly Labelled[], t: number, bins = ECE_BINS): number {
  if (items.length === 0) return 0;
  const n = new Array<number>(bins).fill(0);
  const conf = new Array<number>(bins).fill(0);
  const right = new Array<number>(bins).fill(0);
  for (const it of items) {
    const p = temper(it.probabilities, t);
    const c = Math.max(...p);
    const b = Math.min(bins - 1, Math.floor(c * bins));
    n[b]++;
    conf[b] += c;
    if (argmax(p) === it.truth) right[b]++;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (n[b]) ece += Math.abs(right[b] - conf[b]) / items.length;
  return ece;
}

/**
 * Fits a head's temperature on all items. Both ECEs are measured on the same two halves (the
 * after out of fold: each half at the temperature fitted on the other), so that they share the
 * binning noise of a small sample and differ only by the calibration.
 */
export function calibrate(items: readonly Labelled[]): Calibration {
  const halves = [items.filter((_, i) => i % 2 === 0), items.filter((_, i) => i % 2 === 1)];
  const split = halves[0].length > 0 && halves[1].length > 0;
  const onHalves = (temperatureFor: (other: readonly Labelled[]) => number) =>
    split
      ? (expectedCalibrationError(halves[1], temperatureFor(halves[0])) * halves[1].length +
          expectedCalibrationError(halves[0], temperatureFor(halves[1])) * halves[0].length) /
        items.length
      : expectedCalibrationError(items, 1);
  const round4 = (v: number) => Math.round(v * 10_000) / 10_000;
  return {
    temperature: fitTemperature(items),
    samples: items.length,
    eceBefore: round4(onHalves(() => 1)),
    eceAfter: round4(onHalves(fitTemperature)),
  };
}
