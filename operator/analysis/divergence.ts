// Distances between two histograms over the same bins, pure. Live traffic is counted into the
// bins of the reference profile (modelship_feature_bin_total), so drift is a comparison of two
// count vectors of equal length.

export class DivergenceError extends Error {
  override name = 'DivergenceError';
}

/**
 * Proportions floor used by PSI. An empty bin on either side would make ln(a/e) infinite; like
 * common drift tools we replace shares below 1e-4 with 1e-4, which caps the contribution of a
 * bin holding 1 % on one side and nothing on the other at about 0.046 (a "small" shift) instead
 * of infinity, while a bin holding 10 % against nothing still adds ≈ 0.69, well above 0.25.
 */
export const PSI_EPSILON = 1e-4;

function checkPair(expected: readonly number[], actual: readonly number[]): void {
  if (expected.length !== actual.length)
    throw new DivergenceError(`histograms differ in bins: ${expected.length} vs ${actual.length}`);
  if (expected.length === 0) throw new DivergenceError('histograms have no bins');
  for (const v of [...expected, ...actual]) {
    if (!(v >= 0) || !Number.isFinite(v))
      throw new DivergenceError(`histogram counts must be finite and >= 0, got ${v}`);
  }
}

/** Shares summing to 1; throws on an all-zero histogram (no data is not a distribution). */
export function proportions(counts: readonly number[]): number[] {
  const total = counts.reduce((s, v) => s + v, 0);
  if (!(total > 0)) throw new DivergenceError('histogram is empty (all counts are 0)');
  return counts.map((v) => v / total);
}

/**
 * Population stability index Σ (aᵢ − eᵢ)·ln(aᵢ/eᵢ) of `actual` against `expected` (counts or
 * shares; each side is normalised), with shares floored at `epsilon`. 0 for identical
 * distributions; conventionally < 0.1 stable, 0.1–0.25 moderate, > 0.25 significant shift.
 */
export function psi(expected: readonly number[], actual: readonly number[], epsilon = PSI_EPSILON): number {
  checkPair(expected, actual);
  const e = proportions(expected);
  const a = proportions(actual);
  let sum = 0;
  for (let i = 0; i < e.length; i++) {
    const ei = Math.max(e[i], epsilon);
    const ai = Math.max(a[i], epsilon);
    sum += (ai - ei) * Math.log(ai / ei);
  }
  return sum;
}

/**
 * Shares of a histogram of observed counts with Jeffreys (add-½) smoothing: (cᵢ + ½)/(n + k/2).
 * The plain shares of a small sample are a poor estimate of its distribution: 45 requests over
 * 10 bins leave some bin empty by chance, and an empty bin where the reference holds 10 % adds
 * 0.69 to PSI through the epsilon floor alone — identical canaries scored PSI > 0.6 in a third
 * of such windows. Smoothed shares keep PSI of 45 same-distribution samples mostly below 0.3,
 * while on hundreds of samples they equal the plain shares to within a fraction of a percent.
 */
export function smoothedProportions(counts: readonly number[]): number[] {
  for (const v of counts) {
    if (!(v >= 0) || !Number.isFinite(v))
      throw new DivergenceError(`histogram counts must be finite and >= 0, got ${v}`);
  }
  if (counts.length === 0) throw new DivergenceError('histogram has no bins');
  const n = counts.reduce((s, v) => s + v, 0);
  return counts.map((v) => (v + 0.5) / (n + counts.length / 2));
}

/**
 * Jensen–Shannon distance (square root of the JS divergence, log base 2): symmetric, bounded
 * in [0, 1], finite with empty bins (no epsilon needed), a metric. 0 identical, 1 disjoint.
 */
export function jensenShannonDistance(p: readonly number[], q: readonly number[]): number {
  checkPair(p, q);
  const a = proportions(p);
  const b = proportions(q);
  let divergence = 0;
  for (let i = 0; i < a.length; i++) {
    const m = (a[i] + b[i]) / 2;
    if (a[i] > 0) divergence += 0.5 * a[i] * Math.log2(a[i] / m);
    if (b[i] > 0) divergence += 0.5 * b[i] * Math.log2(b[i] / m);
  }
  // Rounding can leave a tiny negative divergence for identical inputs.
  return Math.sqrt(Math.min(1, Math.max(0, divergence)));
}
