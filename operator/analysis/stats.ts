// Confidence intervals for proportions, pure. Accuracy decisions use bounds, never a raw point
// estimate: with 10 feedback samples a 90 % accuracy means little, and the interval says so.
//
// - Wilson score interval (Wilson 1927): good coverage even for small n and p near 0 or 1,
//   unlike the normal (Wald) interval, which collapses to a point at 0/n and n/n.
// - Newcombe's hybrid score interval for a difference of two independent proportions
//   (Newcombe 1998, "Interval estimation for the difference between independent proportions:
//   comparison of eleven methods", Stat. Med. 17:873-890, method 10): combines the two Wilson
//   intervals, keeps the same good small-sample behaviour and stays inside [-1, 1].

export class StatsError extends Error {
  override name = 'StatsError';
}

export interface Interval {
  /** Point estimate. */
  estimate: number;
  lower: number;
  upper: number;
}

/**
 * Quantile function of the standard normal distribution (Acklam's rational approximation,
 * relative error below 1.2e-9 — ample for confidence levels).
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new StatsError(`normal quantile needs 0 < p < 1, got ${p}`);
  const a = [
    -3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - low) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

/** z for a two-sided interval at `confidence` (0.95 → 1.95996). */
export function zForConfidence(confidence: number): number {
  if (!(confidence > 0 && confidence < 1)) throw new StatsError(`confidence must be in (0, 1), got ${confidence}`);
  return normalQuantile(1 - (1 - confidence) / 2);
}

function checkCounts(successes: number, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new StatsError(`trials must be a whole number >= 0, got ${n}`);
  if (!(successes >= 0 && successes <= n)) throw new StatsError(`successes must be within [0, ${n}], got ${successes}`);
}

/**
 * Wilson score interval for `successes` out of `n` at two-sided `confidence`. Successes may be
 * fractional (Prometheus increase() extrapolates). n = 0 gives the uninformative [0, 1].
 */
export function wilsonInterval(successes: number, n: number, confidence: number): Interval {
  checkCounts(successes, n);
  if (n === 0) return { estimate: NaN, lower: 0, upper: 1 };
  const z = zForConfidence(confidence);
  const p = successes / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  // Clamp rounding noise: at p = 0 or 1 the bound is exactly 0 or 1 in exact arithmetic.
  return { estimate: p, lower: Math.max(0, centre - half), upper: Math.min(1, centre + half) };
}

/** Successes out of trials, one side of a comparison of proportions. */
export interface Proportion {
  successes: number;
  trials: number;
}

/**
 * Newcombe's hybrid score interval (method 10) for p1 − p2, where p1 = x1/n1 and p2 = x2/n2:
 *   L = d − sqrt((p1 − l1)² + (u2 − p2)²),   U = d + sqrt((u1 − p1)² + (p2 − l2)²)
 * with (l, u) the Wilson intervals at the same confidence. Needs n1, n2 > 0.
 */
export function newcombeInterval(first: Proportion, second: Proportion, confidence: number): Interval {
  const { successes: x1, trials: n1 } = first;
  const { successes: x2, trials: n2 } = second;
  checkCounts(x1, n1);
  checkCounts(x2, n2);
  if (n1 === 0 || n2 === 0) throw new StatsError('Newcombe interval needs at least one trial in each group');
  const a = wilsonInterval(x1, n1, confidence);
  const b = wilsonInterval(x2, n2, confidence);
  const d = a.estimate - b.estimate;
  return {
    estimate: d,
    lower: Math.max(-1, d - Math.hypot(a.estimate - a.lower, b.upper - b.estimate)),
    upper: Math.min(1, d + Math.hypot(a.upper - a.estimate, b.estimate - b.lower)),
  };
}
