// The simulated world of a rollout simulation: a seeded random source, the model's heads, the
// input features with the reference profile a ModelVersion would record, and draws of what
// the serving pods would count. Pure and deterministic for a seed.

/** mulberry32: a small, fast, seedable generator of uniforms in [0, 1), for reproducible simulations and tests. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export type Random = () => number;

function normal(random: Random): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** Binomial(n, p): exact below 50 trials, else the normal approximation (rounded, clamped). */
export function binomial(random: Random, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n < 50) {
    let k = 0;
    for (let i = 0; i < n; i++) if (random() < p) k++;
    return k;
  }
  const k = Math.round(n * p + Math.sqrt(n * p * (1 - p)) * normal(random));
  return Math.min(n, Math.max(0, k));
}

/** Poisson(mean): Knuth's method below 30, else the normal approximation. */
export function poisson(random: Random, mean: number): number {
  if (mean <= 0) return 0;
  if (mean < 30) {
    const limit = Math.exp(-mean);
    let k = 0;
    let prod = random();
    while (prod > limit) {
      k++;
      prod *= random();
    }
    return k;
  }
  return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(random)));
}

/** Multinomial(n, shares) by successive binomials. */
export function multinomial(random: Random, n: number, shares: readonly number[]): number[] {
  const out: number[] = [];
  let left = n;
  let mass = 1;
  for (const share of shares) {
    const k = mass > 0 ? binomial(random, left, Math.min(1, share / mass)) : 0;
    out.push(k);
    left -= k;
    mass -= share;
  }
  out[out.length - 1] += left;
  return out;
}

/** Gamma(shape ≥ 1) by Marsaglia–Tsang, for Dirichlet draws. */
function gamma(random: Random, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = normal(random);
    const v = (1 + c * x) ** 3;
    if (v > 0 && Math.log(Math.max(random(), 1e-300)) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

export interface Feature {
  /** Reference profile counts: quantile bins of the reference sample, so all equal. */
  reference: number[];
  /** The true share of live traffic in each of those bins. */
  live: number[];
}

export interface World {
  /** Stable's accuracy per head. */
  heads: Record<string, number>;
  /** Predicted-class shares per head on live traffic (the same for every version). */
  classes: Record<string, Record<string, number>>;
  /** What the version predicted on its reference sample: counts per head and class. */
  referencePredictions: Record<string, Record<string, number>>;
  features: Record<string, Feature>;
  /** Reference sample size of the profile. */
  referenceSamples: number;
}

/**
 * A world like the face-attributes model's: five heads at the accuracies a CPU-trained model
 * reaches (0.75–0.95), seven image features in ten quantile bins of a 160-image reference
 * sample. The true mass of traffic between two sample quantiles is not exactly 1/10: it is
 * what a Dirichlet(16, …, 16) draw gives, and that sampling error of the reference is what the
 * drift check must not mistake for drift.
 */
export function faceAttributesWorld(random: Random, referenceSamples = 160, bins = 10): World {
  const perBin = referenceSamples / bins;
  const features: Record<string, Feature> = {};
  for (const name of ['brightness', 'contrast', 'saturation', 'mean_r', 'mean_g', 'mean_b', 'sharpness']) {
    const draws = Array.from({ length: bins }, () => gamma(random, perBin));
    const total = draws.reduce((a, b) => a + b, 0);
    features[name] = { reference: new Array(bins).fill(perBin), live: draws.map((g) => g / total) };
  }
  const classes = {
    beard: { no: 0.7, yes: 0.3 },
    mustache: { no: 0.75, yes: 0.25 },
    glasses: { no: 0.8, yes: 0.2 },
    hair_length: { short: 0.4, medium: 0.35, long: 0.25 },
    hair_color: { black: 0.3, brown: 0.3, blond: 0.2, red: 0.1, gray: 0.1 },
  };
  // The reference sample's predictions are a sample too: multinomial counts, not the shares.
  const referencePredictions = Object.fromEntries(
    Object.entries(classes).map(([head, shares]) => {
      const counts = multinomial(random, referenceSamples, Object.values(shares));
      return [head, Object.fromEntries(Object.keys(shares).map((c, i) => [c, counts[i]]))];
    }),
  );
  return {
    heads: { beard: 0.9, mustache: 0.75, glasses: 0.78, hair_length: 0.88, hair_color: 0.95 },
    classes,
    referencePredictions,
    features,
    referenceSamples,
  };
}
