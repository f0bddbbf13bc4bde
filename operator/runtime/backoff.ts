// Exponential backoff with jitter and a cap: the one rule for every retry in the runtime
// (informer restarts, per-key requeues), so that no failure can turn into a busy loop.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** Fraction of the delay drawn at random: 0.2 gives delay × [0.8, 1.2]. */
  jitter: number;
}

export const defaultBackoff: BackoffPolicy = { initialMs: 200, maxMs: 30_000, factor: 2, jitter: 0.2 };

/** Delay before retry number `attempt` (0-based). Pure given `random`. Never above maxMs. */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exp = policy.initialMs * Math.pow(policy.factor, Math.max(0, attempt));
  const base = Math.min(policy.maxMs, exp);
  const spread = base * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(policy.maxMs, Math.round(base + spread)));
}

/** A counter of consecutive failures that yields the next delay; reset on success. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly policy: BackoffPolicy = defaultBackoff,
    private readonly random: () => number = Math.random,
  ) {}
  next(): number {
    return backoffDelay(this.attempt++, this.policy, this.random);
  }
  reset(): void {
    this.attempt = 0;
  }
  get failures(): number {
    return this.attempt;
  }
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
