// The in-process controllers' work queue: keys coalesce until the next turn of the event loop,
// then each is handled once, in order; `whenIdle()` resolves once nothing is queued or running.
export class CoalescingQueue {
  private readonly queue = new Set<string>();
  private scheduled = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  /** `handle` errors go to `failed`, which decides what is worth reporting. */
  constructor(
    private readonly handle: (key: string) => void,
    private readonly failed: (err: unknown) => void,
  ) {}

  add(key: string): void {
    this.queue.add(key);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.drain());
  }

  whenIdle(): Promise<void> {
    if (!this.queue.size && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
  }

  private drain(): void {
    this.scheduled = false;
    const batch = [...this.queue];
    this.queue.clear();
    for (const key of batch) {
      if (this.stopped) return;
      try {
        this.handle(key);
      } catch (err) {
        this.failed(err);
      }
    }
    if (!this.queue.size && !this.scheduled) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of waiters) r();
    }
  }
}
