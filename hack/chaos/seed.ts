// Seeded randomness for chaos trials: every random choice (when to kill, what to break) comes
// from one seed that is printed, so a failing run can be replayed with CHAOS_SEED=<seed>.

export interface Rng {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: tiny, fast and good enough to spread kill points; not for cryptography. */
export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
  };
}

export class SeedError extends Error {
  override name = 'SeedError';
}

/** The seed from CHAOS_SEED, else a fresh one (pure apart from the fallback's randomness). */
export function seedFrom(
  env: NodeJS.ProcessEnv,
  fallback: () => number = () => Math.floor(Math.random() * 2 ** 31),
): number {
  const text = env.CHAOS_SEED?.trim();
  if (!text) return fallback();
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new SeedError(`CHAOS_SEED must be an integer in [0, 2^32), not "${text}"`);
  return seed;
}

/** A seeded Rng for a test file, announcing its seed on stderr so the run can be replayed. */
export function chaosRng(what: string, env: NodeJS.ProcessEnv = process.env): Rng {
  const seed = seedFrom(env);
  process.stderr.write(`chaos seed for ${what}: ${seed} (replay with CHAOS_SEED=${seed})\n`);
  return createRng(seed);
}
