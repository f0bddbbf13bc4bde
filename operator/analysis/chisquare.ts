// Pearson's χ² tests for histograms, pure. Drift scores (PSI) measure how far apart two
// distributions are, but say nothing about whether the live histogram holds enough samples to
// tell: 40 requests spread over 10 bins routinely score a PSI above 0.5 against the very
// distribution they were drawn from. These tests say how surprising the observed difference is
// if both histograms came from the same distribution; the drift checks fail only on a
// difference that is both large (PSI > max) and significant (p below the level).
//
// The χ² approximation is rough when expected counts are below ~5; it is used as a gate for
// noise, not as the measure of drift.

import { StatsError } from './stats.js';

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, n = 9; ~15 significant digits). */
export function logGamma(x: number): number {
  if (!(x > 0)) throw new StatsError(`logGamma needs x > 0, got ${x}`);
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0];
  for (let i = 1; i < 9; i++) sum += c[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

const EPS = 1e-15;
const MAX_ITERATIONS = 1000;

/** P(a, x) by its power series; converges quickly for x < a + 1. */
function gammaPSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPS) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Q(a, x) by its continued fraction (modified Lentz); converges quickly for x ≥ a + 1. */
function gammaQContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPS) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0)) throw new StatsError(`regularizedGammaQ needs a > 0, got ${a}`);
  if (!(x >= 0)) throw new StatsError(`regularizedGammaQ needs x >= 0, got ${x}`);
  if (x === 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? Math.max(0, 1 - gammaPSeries(a, x)) : Math.min(1, gammaQContinuedFraction(a, x));
}

/** P(X ≥ x) for X ~ χ²(df): the p-value of a χ² statistic. */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0)) throw new StatsError(`χ² degrees of freedom must be > 0, got ${df}`);
  return regularizedGammaQ(df / 2, x / 2);
}

export interface ChiSquareTest {
  statistic: number;
  df: number;
  /** Probability of a difference at least this large if both sides share one distribution. */
  pValue: number;
}

/** The expected side of a test: counts (a sample), or a distribution known exactly. */
export type Expected = { counts: readonly number[] } | { proportions: readonly number[] };

/** Shares below this are treated as this (the PSI floor), so an unseen bin is rare, not impossible. */
const SHARE_FLOOR = 1e-4;

function sum(v: readonly number[]): number {
  return v.reduce((s, x) => s + x, 0);
}

/**
 * Pearson's test of `observed` (counts) against `expected`: the χ² test of homogeneity of the
 * two samples when expected holds counts, the goodness-of-fit test when it is a distribution.
 * Bins empty on both sides carry no information and do not count towards the degrees of
 * freedom. Returns pValue 1 (nothing to tell) when fewer than two bins hold data.
 */
export function histogramTest(observed: readonly number[], expected: Expected): ChiSquareTest {
  const ref = 'counts' in expected ? expected.counts : expected.proportions;
  if (ref.length !== observed.length)
    throw new StatsError(`histograms differ in bins: ${observed.length} vs ${ref.length}`);
  for (const v of [...observed, ...ref]) {
    if (!(v >= 0) || !Number.isFinite(v)) throw new StatsError(`histogram counts must be finite and >= 0, got ${v}`);
  }
  const n = sum(observed);
  const m = sum(ref);
  if (!(n > 0) || !(m > 0)) return { statistic: 0, df: 0, pValue: 1 };
  let statistic = 0;
  let bins = 0;
  for (let i = 0; i < observed.length; i++) {
    if ('counts' in expected) {
      const column = observed[i] + ref[i];
      if (column === 0) continue;
      bins++;
      // 2×k table: expected cell = row total × column total / grand total.
      const eo = (n * column) / (n + m);
      const er = (m * column) / (n + m);
      statistic += (observed[i] - eo) ** 2 / eo + (ref[i] - er) ** 2 / er;
    } else {
      const share = ref[i] / m;
      if (share === 0 && observed[i] === 0) continue;
      bins++;
      const e = n * Math.max(share, SHARE_FLOOR);
      statistic += (observed[i] - e) ** 2 / e;
    }
  }
  const df = bins - 1;
  if (df < 1) return { statistic: 0, df: 0, pValue: 1 };
  return { statistic, df, pValue: chiSquareSurvival(statistic, df) };
}
