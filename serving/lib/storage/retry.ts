// Retries of one storage operation with exponential back-off and jitter. The S3 client is built
// with maxAttempts 1, so this is the only retry layer: a GetObject whose body breaks halfway is
// retried from the start here, which the SDK's own retries (headers only) would not do.
import { classifyError, type FailureContext, type StorageError } from './errors.js';

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Injected by tests; setTimeout otherwise. */
  sleep?: (ms: number) => Promise<void>;
  /** Told of each failure that will be retried. */
  onRetry?: (err: StorageError, attempt: number, delayMs: number) => void;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 5000 };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Delay before try `attempt + 1`: base·2^(attempt−1), capped, with half of it random. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** Runs `op` until it succeeds, fails with a non-retryable reason, or the attempts are spent. */
export async function withRetry<T>(op: () => Promise<T>, ctx: FailureContext, policy: RetryPolicy): Promise<T> {
  const sleep = policy.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (raw) {
      const err = classifyError(raw, ctx);
      if (!err.retryable || attempt >= policy.attempts) {
        if (attempt > 1) err.message += ` (after ${attempt} attempts)`;
        throw err;
      }
      const delay = backoffDelay(policy, attempt);
      policy.onRetry?.(err, attempt, delay);
      await sleep(delay);
    }
  }
}
