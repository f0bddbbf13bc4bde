// Statistics and drift math: known inputs → known outputs from the literature.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  jensenShannonDistance,
  proportions,
  psi,
  DivergenceError,
  PSI_EPSILON,
} from '../../operator/analysis/divergence.js';
import {
  newcombeInterval,
  normalQuantile,
  StatsError,
  wilsonInterval,
  zForConfidence,
} from '../../operator/analysis/stats.js';

function throwsA(fn: () => unknown, cls: new (...args: any[]) => Error): void {
  assert.throws(fn, (err: unknown) => err instanceof cls);
}

const close = (actual: number, expected: number, eps: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= eps, `${what} ${actual} ≈ ${expected} (±${eps})`);

test('normal quantiles match the standard tables', () => {
  for (const [p, z] of [
    [0.975, 1.959963985],
    [0.995, 2.575829304],
    [0.95, 1.644853627],
    [0.9995, 3.290526731],
    [0.5, 0],
    [0.025, -1.959963985],
    [0.001, -3.090232306],
  ]) {
    close(normalQuantile(p), z, 5e-9, `Φ⁻¹(${p})`);
  }
  close(zForConfidence(0.95), 1.959963985, 5e-9);
  close(zForConfidence(0.99), 2.575829304, 5e-9);
  throwsA(() => normalQuantile(0), StatsError);
  throwsA(() => zForConfidence(1), StatsError);
});

// Wilson (1927) score interval; reference values as published (e.g. Newcombe 1998 Table I,
// Brown, Cai & DasGupta 2001) and the 90/100 example of the project brief.
const wilsonCases: Array<[number, number, number, number, number]> = [
  // successes, n, confidence, lower, upper
  [90, 100, 0.95, 0.8256, 0.9448],
  [81, 263, 0.95, 0.2553, 0.3662],
  [15, 148, 0.95, 0.0624, 0.1605],
  [0, 20, 0.95, 0.0, 0.1611],
  [1, 29, 0.95, 0.0061, 0.1718],
  [20, 20, 0.95, 0.8389, 1.0],
  [5, 10, 0.95, 0.2366, 0.7634],
];

test('Wilson score intervals (table)', () => {
  for (const [x, n, conf, lo, hi] of wilsonCases) {
    const ci = wilsonInterval(x, n, conf);
    close(ci.lower, lo, 5e-5, `Wilson ${x}/${n} lower`);
    close(ci.upper, hi, 5e-5, `Wilson ${x}/${n} upper`);
    close(ci.estimate, x / n, 1e-12);
  }
});

test('Wilson: wider at higher confidence, [0,1] without trials, refuses impossible counts', () => {
  const a = wilsonInterval(45, 50, 0.9);
  const b = wilsonInterval(45, 50, 0.99);
  assert.ok(b.lower < a.lower && b.upper > a.upper);
  const none = wilsonInterval(0, 0, 0.95);
  assert.equal([none.lower, none.upper], [0, 1]);
  assert.ok(Number.isNaN(none.estimate));
  throwsA(() => wilsonInterval(11, 10, 0.95), StatsError);
  throwsA(() => wilsonInterval(-1, 10, 0.95), StatsError);
  throwsA(() => wilsonInterval(1, 2.5, 0.95), StatsError);
  // increase() counts are fractional: allowed, and between the neighbouring whole counts.
  const frac = wilsonInterval(45.5, 50, 0.95);
  assert.ok(frac.lower > wilsonInterval(45, 50, 0.95).lower && frac.lower < wilsonInterval(46, 50, 0.95).lower);
});

// Newcombe (1998), Stat. Med. 17:873-890, Table II, method 10 (hybrid score, no continuity correction).
const newcombeCases: Array<[number, number, number, number, number, number]> = [
  [56, 70, 48, 80, 0.0524, 0.3339],
  [9, 10, 3, 10, 0.1705, 0.809],
  [6, 7, 2, 7, 0.0582, 0.8062],
  [5, 56, 0, 29, -0.0381, 0.1926],
  [0, 10, 0, 20, -0.1611, 0.2775],
  [0, 10, 0, 10, -0.2775, 0.2775],
  [10, 10, 0, 20, 0.6791, 1.0],
  [10, 10, 0, 10, 0.6075, 1.0],
];

test('Newcombe hybrid score intervals for differences (Newcombe 1998, Table II)', () => {
  for (const [x1, n1, x2, n2, lo, hi] of newcombeCases) {
    const ci = newcombeInterval({ successes: x1, trials: n1 }, { successes: x2, trials: n2 }, 0.95);
    close(ci.lower, lo, 5e-5, `Newcombe ${x1}/${n1} − ${x2}/${n2} lower`);
    close(ci.upper, hi, 5e-5, `Newcombe ${x1}/${n1} − ${x2}/${n2} upper`);
    close(ci.estimate, x1 / n1 - x2 / n2, 1e-12);
  }
  // Swapping the groups mirrors the interval.
  const a = newcombeInterval({ successes: 56, trials: 70 }, { successes: 48, trials: 80 }, 0.95);
  const b = newcombeInterval({ successes: 48, trials: 80 }, { successes: 56, trials: 70 }, 0.95);
  close(a.lower, -b.upper, 1e-12);
  close(a.upper, -b.lower, 1e-12);
  throwsA(() => newcombeInterval({ successes: 1, trials: 0 }, { successes: 1, trials: 2 }, 0.95), StatsError);
});

test('PSI: identical histograms give 0, known shifts give known values', () => {
  assert.is(psi([10, 20, 30, 40], [10, 20, 30, 40]), 0);
  assert.is(psi([1, 2, 3], [100, 200, 300]), 0, 'counts and shares are normalised');
  // (0.25−0.5)·ln(0.25/0.5) + (0.75−0.5)·ln(0.75/0.5) = 0.1732868 + 0.1013663
  close(psi([0.5, 0.5], [0.25, 0.75]), 0.2746531, 1e-7);
  // A classic 3-bin example: Σ (a−e)ln(a/e) for e=(0.3,0.4,0.3), a=(0.2,0.4,0.4)
  //   = (−0.1)ln(2/3) + 0 + (0.1)ln(4/3) = 0.0405465 + 0.0287682
  close(psi([0.3, 0.4, 0.3], [0.2, 0.4, 0.4]), 0.0693147, 1e-7);
  // Symmetric in its arguments (PSI is the symmetrised KL divergence).
  close(psi([0.3, 0.4, 0.3], [0.2, 0.4, 0.4]), psi([0.2, 0.4, 0.4], [0.3, 0.4, 0.3]), 1e-15);
});

test('PSI: empty bins are floored at epsilon instead of giving infinity', () => {
  assert.is(PSI_EPSILON, 1e-4);
  // bin 3: (0.01 − 1e-4)·ln(0.01/1e-4) = 0.0099·ln(100); bin 2: (−0.01)·ln(0.49/0.5)
  const expected = 0.0099 * Math.log(100) + -0.01 * Math.log(0.49 / 0.5);
  close(psi([50, 50, 0], [50, 49, 1]), expected, 1e-9);
  assert.ok(Number.isFinite(psi([1, 0], [0, 1])));
  assert.ok(psi([1, 0], [0, 1]) > 5, 'disjoint histograms are a huge shift');
});

test('PSI and JS refuse mismatched or empty histograms', () => {
  throwsA(() => psi([1, 2], [1, 2, 3]), DivergenceError);
  throwsA(() => psi([0, 0], [1, 2]), DivergenceError);
  throwsA(() => jensenShannonDistance([1, -1], [1, 1]), DivergenceError);
  throwsA(() => proportions([]), DivergenceError);
  throwsA(() => psi([], []), DivergenceError);
});

test('Jensen–Shannon distance (base 2): 0 identical, 1 disjoint, known value in between', () => {
  assert.is(jensenShannonDistance([3, 4, 5], [6, 8, 10]), 0);
  close(jensenShannonDistance([1, 0], [0, 1]), 1, 1e-12);
  // JSD = ½·KL(P‖M) + ½·KL(Q‖M) with M = (0.75, 0.25): ½(−0.2924813 + 0.5) + ½(0.4150375) = 0.3112781
  close(jensenShannonDistance([0.5, 0.5], [1, 0]), Math.sqrt(0.3112781), 1e-7);
  close(jensenShannonDistance([0.5, 0.5], [1, 0]), jensenShannonDistance([1, 0], [0.5, 0.5]), 1e-15);
});

test.run();
