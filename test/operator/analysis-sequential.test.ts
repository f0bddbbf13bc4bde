// Confidence sequences (operator/analysis/sequential.ts): the formula, its validity at every
// look on seeded Bernoulli streams (where per-look intervals are not), and the growth solver.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  differenceSequence,
  growthToDecide,
  laplaceVariance,
  mixtureHalfWidth,
  MIXING_SCALE,
  proportionSequence,
} from '../../operator/analysis/sequential.js';
import { StatsError, wilsonInterval, zForConfidence } from '../../operator/analysis/stats.js';
import { looksIn, withEtas } from '../../operator/analysis/evidence.js';
import { seeded } from '../../hack/simulate/world.js';

test('the normal-mixture half-width, by hand, and wider than one fixed-sample interval', () => {
  // V = 0.0009, τ = 0.1, α = 0.05: sqrt(V (V + τ²)/τ² (2 ln 20 + ln((V + τ²)/V))).
  const v = 0.0009;
  const byHand = Math.sqrt(((v * (v + 0.01)) / 0.01) * (2 * Math.log(20) + Math.log((v + 0.01) / v)));
  assert.ok(Math.abs(mixtureHalfWidth(v, 0.95, 0.1) - byHand) < 1e-12);
  const fixed = zForConfidence(0.95) * Math.sqrt(v);
  const ratio = mixtureHalfWidth(v, 0.95, 0.1) / fixed;
  assert.ok(ratio > 1.4 && ratio < 1.8, `the price of every look: ${ratio.toFixed(2)}× the fixed-sample width`);
  assert.is(mixtureHalfWidth(0, 0.95, 0.1), 0);
  for (const bad of [
    () => mixtureHalfWidth(-1, 0.95, 0.1),
    () => mixtureHalfWidth(1, 1, 0.1),
    () => mixtureHalfWidth(1, 0.95, 0),
  ])
    assert.throws(bad, (e: unknown) => e instanceof StatsError);
  assert.throws(() => proportionSequence({ successes: 0, trials: 0 }, 0.95, 0.1), /at least one trial/);
  assert.throws(
    () => differenceSequence({ successes: 5, trials: 4 }, { successes: 1, trials: 2 }, 0.95, 0.1),
    /within/,
  );
});

test('0/n and n/n still have a width (Laplace variance), and bounds stay inside [0, 1] and [-1, 1]', () => {
  assert.ok(laplaceVariance({ successes: 100, trials: 100 }) > 0);
  const all = proportionSequence({ successes: 100, trials: 100 }, 0.95, MIXING_SCALE);
  assert.is(all.upper, 1);
  assert.ok(all.lower < 0.99 && all.lower > 0.9, String(all.lower));
  const d = differenceSequence({ successes: 0, trials: 3 }, { successes: 3, trials: 3 }, 0.95, MIXING_SCALE);
  assert.ok(d.lower >= -1 && d.upper <= 1);
});

test('valid at every look: a 95 % sequence excludes the truth in ≤ 5 % of streams, per-look Wilson in far more', () => {
  const random = seeded(42);
  const streams = 400;
  const p = 0.8;
  let sequenceMisses = 0;
  let wilsonMisses = 0;
  for (let s = 0; s < streams; s++) {
    let successes = 0;
    let sequenceMissed = false;
    let wilsonMissed = false;
    for (let n = 1; n <= 2000; n++) {
      if (random() < p) successes++;
      if (n % 20 !== 0) continue; // a look every 20 samples: 100 looks
      const cs = proportionSequence({ successes, trials: n }, 0.95, MIXING_SCALE);
      const w = wilsonInterval(successes, n, 0.95);
      if (n >= 50 && (cs.lower > p || cs.upper < p)) sequenceMissed = true;
      if (w.lower > p || w.upper < p) wilsonMissed = true;
    }
    if (sequenceMissed) sequenceMisses++;
    if (wilsonMissed) wilsonMisses++;
  }
  assert.ok(sequenceMisses / streams <= 0.05, `sequence: ${sequenceMisses} of ${streams} streams ever excluded p`);
  assert.ok(wilsonMisses / streams >= 0.2, `per-look Wilson: ${wilsonMisses} of ${streams} streams ever excluded p`);
});

test('valid at every look for the difference of two streams of unequal sizes', () => {
  const random = seeded(7);
  const streams = 300;
  let misses = 0;
  for (let s = 0; s < streams; s++) {
    const a = { successes: 0, trials: 0 };
    const b = { successes: 0, trials: 0 };
    let missed = false;
    for (let t = 1; t <= 5000; t++) {
      // One canary sample per four of stable's, accuracies 0.75 and 0.8: d = −0.05.
      if (t % 5 === 0) {
        a.trials++;
        if (random() < 0.75) a.successes++;
      } else {
        b.trials++;
        if (random() < 0.8) b.successes++;
      }
      if (t % 100 !== 0 || a.trials < 50) continue;
      const d = differenceSequence(a, b, 0.95, MIXING_SCALE);
      if (d.lower > -0.05 || d.upper < -0.05) missed = true;
    }
    if (missed) misses++;
  }
  assert.ok(misses / streams <= 0.05, `${misses} of ${streams} streams ever excluded d`);
});

test('growthToDecide: the least growth that decides, none when nothing does', () => {
  assert.is(
    growthToDecide(() => true),
    1,
  );
  assert.is(
    growthToDecide(() => false),
    undefined,
  );
  const g = growthToDecide((f) => f >= 37.5)!;
  assert.ok(g >= 37.5 && g < 37.5 * 1.001, String(g));
});

test('looks and ETAs: evidence spanning k intervals is look k; an ETA is the missing samples at the rate so far', () => {
  assert.is(looksIn('1m', '1m'), 1);
  assert.is(looksIn('10m', '1m'), 10);
  assert.is(looksIn('30s', '1m'), 1);
  const at = new Date('2026-01-01T00:10:00Z');
  const [acc, latency, passed] = withEtas(
    [
      { check: 'accuracyVsStable', role: 'canary', verdict: 'Inconclusive', samples: 600, samplesNeeded: 300 },
      { check: 'latencyP95Ms', role: 'canary', verdict: 'Inconclusive', samples: 10, samplesNeeded: 40 },
      { check: 'drift', role: 'canary', verdict: 'Pass', samples: 600 },
    ],
    10 * 60_000,
    at,
  );
  assert.is(acc.eta, '2026-01-01T00:15:00.000Z', '600 samples in 10 minutes: 300 more take 5');
  assert.is(latency.eta, undefined, 'a windowed check does not accumulate: no ETA');
  assert.is(passed.eta, undefined);
});

test.run();
