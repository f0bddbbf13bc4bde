// Confidence sequences: intervals that hold at every look at once, pure.
//
// A fixed-sample interval at 95 % is right at one pre-planned look. A canary is looked at every
// interval while its evidence grows, so per-look intervals would let a canary exactly at the
// margin pass by chance sooner or later (the simulation counts how often). A confidence sequence
// (C_n) instead covers the true value at all n simultaneously with probability ≥ confidence,
// so a decision may be taken at whichever look first clears the margin.
//
// The rule used here is the normal-mixture sequential probability ratio test of Robbins (1970,
// "Statistical methods related to the law of the iterated logarithm", Ann. Math. Stat. 41) in
// the form of Johari, Koomen, Pekelis & Walsh (2022, "Always valid inference: continuous
// monitoring of A/B tests", Operations Research 70(3)): for an estimate θ̂ with variance V
// (V shrinks like 1/n) and a normal mixing distribution of scale τ over the alternatives,
//
//   |θ̂ − θ| ≤ sqrt( V (V + τ²) / τ² · ( 2 ln(1/α) + ln((V + τ²) / V) ) )    at every n,
//
// with probability ≥ 1 − α. For proportions and their difference V is the plug-in binomial
// variance, with one success and one failure added per group (Laplace) so that 0/n and n/n
// still have a variance; the guarantee is then asymptotic (normal approximation), as in
// Waudby-Smith et al. (2024, "Time-uniform central limit theory and asymptotic confidence
// sequences", Ann. Statist. 52(6)). `minFeedback` keeps the smallest samples out, and the
// simulation (hack/simulate-rollout.ts) measures the error rates the rule actually gives.
// τ sets where the sequence is tightest (about where the half-width is τ); away from there it
// widens slowly on the small-sample side (a log factor) but fast on the large one. The checks
// use τ = 0.1 (MIXING_SCALE): a margin of 0.02–0.05 is cleared within 10 % of the width a τ fit
// to it would give, and a shuffled-label canary 0.3 below stable still fails on its first
// ~50 samples, where τ = 0.02 would need hundreds. The price of validity at every look is a
// width about 1.5–1.7 times the fixed-sample interval's at the same n.
import { StatsError, type Interval, type Proportion } from './stats.js';

/** The mixing scale the analysis uses (see above). */
export const MIXING_SCALE = 0.1;

/** Half-width of the normal-mixture confidence sequence for an estimate of variance `variance`. */
export function mixtureHalfWidth(variance: number, confidence: number, tau: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new StatsError(`confidence must be in (0, 1), got ${confidence}`);
  if (!(tau > 0)) throw new StatsError(`mixing scale tau must be > 0, got ${tau}`);
  if (!(variance >= 0)) throw new StatsError(`variance must be >= 0, got ${variance}`);
  if (variance === 0) return 0;
  const t2 = tau * tau;
  const alpha = 1 - confidence;
  return Math.sqrt(
    ((variance * (variance + t2)) / t2) * (2 * Math.log(1 / alpha) + Math.log((variance + t2) / variance)),
  );
}

function checkCounts({ successes, trials }: Proportion): void {
  if (!(trials > 0)) throw new StatsError(`a confidence sequence needs at least one trial, got ${trials}`);
  if (!(successes >= 0 && successes <= trials))
    throw new StatsError(`successes must be within [0, ${trials}], got ${successes}`);
}

/** Plug-in variance of x/n with one success and one failure added (never 0). */
export function laplaceVariance({ successes, trials }: Proportion): number {
  const p = (successes + 1) / (trials + 2);
  return (p * (1 - p)) / trials;
}

/** Confidence sequence for a proportion, at the look with these counts. */
export function proportionSequence(counts: Proportion, confidence: number, tau: number): Interval {
  checkCounts(counts);
  const estimate = counts.successes / counts.trials;
  const h = mixtureHalfWidth(laplaceVariance(counts), confidence, tau);
  return { estimate, lower: Math.max(0, estimate - h), upper: Math.min(1, estimate + h) };
}

/** Confidence sequence for p1 − p2 of two independent proportions, at the look with these counts. */
export function differenceSequence(first: Proportion, second: Proportion, confidence: number, tau: number): Interval {
  checkCounts(first);
  checkCounts(second);
  const estimate = first.successes / first.trials - second.successes / second.trials;
  const h = mixtureHalfWidth(laplaceVariance(first) + laplaceVariance(second), confidence, tau);
  return { estimate, lower: Math.max(-1, estimate - h), upper: Math.min(1, estimate + h) };
}

/** Every count of a look multiplied by `factor`: the same estimates with more evidence. */
export function scaled(p: Proportion, factor: number): Proportion {
  return { successes: p.successes * factor, trials: p.trials * factor };
}

const MAX_FACTOR = 1e6;

/**
 * The least factor f ≥ 1 by which the evidence must grow, at the current estimates, before
 * `decided(f)` holds; undefined when it never does (an estimate exactly at the margin). Used
 * to tell how many more samples an inconclusive check needs. `decided` must be monotone in f.
 */
export function growthToDecide(decided: (factor: number) => boolean): number | undefined {
  if (decided(1)) return 1;
  if (!decided(MAX_FACTOR)) return undefined;
  let lo = 1;
  let hi = 2;
  while (!decided(hi)) {
    lo = hi;
    hi *= 2;
  }
  for (let i = 0; i < 40 && hi - lo > 1e-3 * lo; i++) {
    const mid = (lo + hi) / 2;
    if (decided(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}
