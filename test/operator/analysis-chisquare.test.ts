// χ² tests: known inputs → the values of the standard tables, and the property the drift checks
// rely on (small same-distribution samples are not significant; real shifts are).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chiSquareSurvival, histogramTest, logGamma, regularizedGammaQ } from '../../operator/analysis/chisquare.js';
import { psi } from '../../operator/analysis/divergence.js';
import { StatsError } from '../../operator/analysis/stats.js';

const close = (actual: number, expected: number, eps: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= eps, `${what} ${actual} ≈ ${expected} (±${eps})`);

test('ln Γ matches factorials and Γ(½) = √π', () => {
  for (const [x, v] of [
    [1, 0],
    [2, 0],
    [5, Math.log(24)],
    [11, Math.log(3628800)],
    [0.5, Math.log(Math.sqrt(Math.PI))],
    [0.1, Math.log(9.513507698668732)],
  ]) {
    close(logGamma(x), v, 1e-12, `lnΓ(${x})`);
  }
  assert.throws(
    () => logGamma(0),
    (e: unknown) => e instanceof StatsError,
  );
});

// Upper critical values of the χ² distribution (any statistics table).
const criticalValues: Array<[number, number, number]> = [
  // x, df, P(X ≥ x)
  [3.841458820694124, 1, 0.05],
  [6.634896601021214, 1, 0.01],
  [5.991464547107979, 2, 0.05],
  [16.918977604620448, 9, 0.05],
  [21.665994333461924, 9, 0.01],
  [23.209251158954356, 10, 0.01],
  [124.34211340400407, 100, 0.05],
];

test('χ² survival reproduces the table of critical values', () => {
  for (const [x, df, p] of criticalValues) close(chiSquareSurvival(x, df), p, 1e-9, `P(χ²(${df}) ≥ ${x})`);
});

test('χ² survival with 2 degrees of freedom is exp(−x/2) exactly; edges', () => {
  for (const x of [0.1, 1, 5, 20, 60]) close(chiSquareSurvival(x, 2), Math.exp(-x / 2), 1e-12, `x=${x}`);
  assert.is(chiSquareSurvival(0, 3), 1);
  assert.is(regularizedGammaQ(2, Infinity), 0);
  assert.throws(
    () => chiSquareSurvival(1, 0),
    (e: unknown) => e instanceof StatsError,
  );
  assert.throws(
    () => regularizedGammaQ(1, -1),
    (e: unknown) => e instanceof StatsError,
  );
});

test('homogeneity of two samples: the worked 2×3 table', () => {
  // columns 30, 40, 50 of 120; expected cells 15/20/25 in each row.
  const t = histogramTest([10, 20, 30], { counts: [20, 20, 20] });
  close(t.statistic, 10 / 3 + 2, 1e-12);
  assert.is(t.df, 2);
  close(t.pValue, Math.exp(-(10 / 3 + 2) / 2), 1e-12);
});

test('goodness of fit against a known distribution', () => {
  const t = histogramTest([30, 10], { proportions: [0.5, 0.5] });
  close(t.statistic, 10, 1e-12);
  assert.is(t.df, 1);
  close(t.pValue, 0.001565402258, 1e-9);
  // Identical shares: nothing to see.
  assert.is(histogramTest([25, 25, 50], { proportions: [0.25, 0.25, 0.5] }).pValue, 1);
});

test('bins empty on both sides do not count; one populated bin tells nothing', () => {
  assert.is(histogramTest([10, 0, 5, 0], { counts: [20, 0, 10, 0] }).df, 1);
  assert.equal(histogramTest([0, 7, 0], { counts: [0, 100, 0] }), { statistic: 0, df: 0, pValue: 1 });
  assert.equal(histogramTest([0, 0], { counts: [1, 1] }), { statistic: 0, df: 0, pValue: 1 });
  assert.throws(
    () => histogramTest([1, 2], { counts: [1, 2, 3] }),
    (e: unknown) => e instanceof StatsError,
  );
  assert.throws(
    () => histogramTest([1, NaN], { counts: [1, 2] }),
    (e: unknown) => e instanceof StatsError,
  );
});

// A small deterministic generator, so the property below is the same on every run.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

function sample(shares: readonly number[], n: number, rand: () => number): number[] {
  const counts = new Array<number>(shares.length).fill(0);
  for (let k = 0; k < n; k++) {
    let u = rand();
    let i = 0;
    while (i < shares.length - 1 && u >= shares[i]) u -= shares[i++];
    counts[i]++;
  }
  return counts;
}

test('40 samples of the reference itself: PSI is often above 0.5, the test rarely significant', () => {
  const reference = [0.02, 0.05, 0.1, 0.15, 0.18, 0.18, 0.15, 0.1, 0.05, 0.02];
  const rand = lcg(7);
  let bigPsi = 0;
  let significant = 0;
  const trials = 400;
  for (let t = 0; t < trials; t++) {
    const counts = sample(reference, 40, rand);
    if (psi(reference, counts) > 0.5) bigPsi++;
    if (histogramTest(counts, { proportions: reference }).pValue < 0.05) significant++;
  }
  assert.ok(bigPsi / trials > 0.2, `PSI > 0.5 in ${bigPsi}/${trials} same-distribution samples`);
  assert.ok(significant / trials < 0.12, `significant in ${significant}/${trials} same-distribution samples`);
});

test('a real shift of 200 samples is significant', () => {
  const reference = [0.02, 0.05, 0.1, 0.15, 0.18, 0.18, 0.15, 0.1, 0.05, 0.02];
  const shifted = [0, 0, 0.02, 0.05, 0.1, 0.15, 0.18, 0.18, 0.17, 0.15];
  const counts = sample(shifted, 200, lcg(11));
  assert.ok(histogramTest(counts, { proportions: reference }).pValue < 1e-6);
  assert.ok(histogramTest(counts, { counts: reference.map((s) => s * 1000) }).pValue < 1e-6);
});

test.run();
