// A per-key work queue in the style of client-go's rate-limited workqueue:
// - a key is queued at most once however often it is added (de-duplication);
// - a key being processed is never handed to a second worker: adds during processing mark it
//   dirty and it is queued again when the first reconcile finishes;
// - failures back off exponentially per key (reset by `forget` on success);
// - `addAfter` schedules a key (the controller's requeueAfter), keeping the earliest time;
// - `shutdown` stops handing out keys and waits for in-flight work; with `drain` it first
//   works off what is already queued.
import { backoffDelay, defaultBackoff, type BackoffPolicy } from './backoff.js';

export interface WorkQueueOptions {
  backoff?: BackoffPolicy;
  /** Called whenever the number of ready keys changes (the queue-depth gauge). */
  onDepth?: (depth: number) => void;
  random?: () => number;
}

export type WorkHandler = (key: string) => Promise<{ requeueAfterMs?: number } | void>;

export interface ProcessOptions {
  concurrency: number;
  handler: WorkHandler;
  /** Called with the error of a failed handler, after the key was re-queued with backoff. */
  onError?: (key: string, err: unknown, retryInMs: number) => void;
}

export class WorkQueue {
  private readonly ready: string[] = [];
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly waiting: Array<(key: string | undefined) => void> = [];
  private state: 'running' | 'draining' | 'stopped' = 'running';
  private workers: Promise<void>[] = [];

  constructor(private readonly opts: WorkQueueOptions = {}) {}

  get depth(): number {
    return this.ready.length;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  get isShuttingDown(): boolean {
    return this.state !== 'running';
  }

  add(key: string): void {
    if (this.state !== 'running' || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued by done()
    this.push(key);
  }

  /** Adds `key` after `ms`; an earlier pending schedule for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.state !== 'running') return;
    if (ms <= 0) return this.add(key);
    const at = Date.now() + ms;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    timer.unref?.();
    this.timers.set(key, { at, timer });
  }

  /** Re-queues `key` after its next backoff delay; returns that delay. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = backoffDelay(n, this.opts.backoff ?? defaultBackoff, this.opts.random);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the failure count of `key` (after a successful reconcile). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to work on, or undefined once the queue is shut down (or drained). */
  get(): Promise<string | undefined> {
    if (this.state === 'stopped') return Promise.resolve(undefined);
    const key = this.ready.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.state === 'draining') return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Marks `key` finished; if it was added meanwhile it goes back into the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && this.state !== 'stopped') this.push(key);
    else this.dirty.delete(key);
    // A drain ends when nothing is queued or in flight: release idle workers.
    if (this.state === 'draining' && this.ready.length === 0 && this.processing.size === 0) this.releaseWaiters();
  }

  /** Starts `concurrency` workers running `handler`; resolves when they have all stopped. */
  process(opts: ProcessOptions): Promise<void> {
    for (let i = 0; i < Math.max(1, opts.concurrency); i++) this.workers.push(this.worker(opts));
    return Promise.all(this.workers).then(() => undefined);
  }

  /**
   * Stops the queue. Without `drain`, workers take nothing more; with it, they first finish
   * every key already queued (scheduled keys are dropped). Resolves once in-flight work is done.
   */
  async shutdown(opts: { drain?: boolean } = {}): Promise<void> {
    if (this.state === 'running') {
      this.state = opts.drain ? 'draining' : 'stopped';
      for (const { timer } of this.timers.values()) clearTimeout(timer);
      this.timers.clear();
      if (this.state === 'stopped') {
        // Queued keys are dropped: whoever runs next (a new leader) starts from its caches.
        this.ready.length = 0;
        this.dirty.clear();
        this.opts.onDepth?.(0);
      }
      if (this.state === 'stopped' || (this.ready.length === 0 && this.processing.size === 0)) this.releaseWaiters();
    }
    await Promise.all(this.workers);
    this.state = 'stopped';
  }

  private async worker(opts: ProcessOptions): Promise<void> {
    for (;;) {
      const key = await this.get();
      if (key === undefined) return;
      try {
        const result = await opts.handler(key);
        this.forget(key);
        if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0)
          this.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        const delay = this.addRateLimited(key);
        opts.onError?.(key, err, delay);
      } finally {
        this.done(key);
      }
    }
  }

  private push(key: string): void {
    const waiter = this.waiting.shift();
    if (waiter) return waiter(this.take(key));
    this.ready.push(key);
    this.opts.onDepth?.(this.ready.length);
  }

  private take(key: string): string {
    this.dirty.delete(key);
    this.processing.add(key);
    this.opts.onDepth?.(this.ready.length);
    return key;
  }

  private releaseWaiters(): void {
    for (const w of this.waiting.splice(0)) w(undefined);
  }
}
