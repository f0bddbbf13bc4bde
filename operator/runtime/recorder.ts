// One helper for "tell the user": recorder.event(obj, type, reason, message) writes a log
// line with the object's {kind, namespace, name} and records a core/v1 Event on the object.
// Repeats of the same event (same object, type, reason, message) bump `count` on the existing
// Event instead of creating a new one, as kubectl and client-go's recorder expect.
import type { KubeClient } from './client.js';
import { isNotFound } from './errors.js';
import { Kinds, type KubeObject } from './kinds.js';
import { errorChain, objectFields, type Logger } from './logger.js';

export type EventType = 'Normal' | 'Warning';

export interface RecorderOptions {
  component?: string;
  instance?: string;
  log: Logger;
  /** Entries remembered for aggregation; older ones are forgotten first. */
  cacheSize?: number;
  /** Event writes in flight at once (default 4); the rest wait their turn. */
  maxInFlight?: number;
}

interface SeenEvent {
  namespace: string;
  name: string;
  count: number;
}

export class EventRecorder {
  private readonly seen = new Map<string, SeenEvent>();
  private readonly pending = new Set<Promise<void>>();
  private seq = 0;
  /** Writes waiting for a free slot, oldest first. */
  private readonly queued: Array<() => void> = [];
  private inFlight = 0;

  constructor(private readonly client: KubeClient, private readonly opts: RecorderOptions) {}

  /** Logs and records an Event. Never throws: an Event that cannot be written is only logged. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const fields = { ...objectFields(obj), reason, eventType: type };
    if (type === 'Warning') this.opts.log.warn(message, fields);
    else this.opts.log.info(message, fields);
    const p = this.throttled(() => this.write(obj, type, reason, message)).catch((e) => {
      this.opts.log.warn('Could not record Event', { ...fields, error: errorChain(e) });
    }).finally(() => this.pending.delete(p));
    this.pending.add(p);
    return p;
  }

  /** Waits for Events being written (graceful shutdown, tests). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /**
   * Events are best-effort and must not crowd out reconciles: with hundreds of objects changing
   * at once, unbounded fire-and-forget writes queued ahead of every reconcile's own requests at
   * the API server. Like client-go's broadcaster (one sink writer draining a queue), a few
   * writers drain them in order.
   */
  private async throttled(write: () => Promise<void>): Promise<void> {
    const limit = Math.max(1, this.opts.maxInFlight ?? 4);
    if (this.inFlight >= limit) await new Promise<void>((resolve) => this.queued.push(resolve));
    else this.inFlight++;
    try {
      await write();
    } finally {
      const next = this.queued.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.inFlight--;
    }
  }

  private async write(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const cacheKey = [meta.uid ?? `${namespace}/${meta.name}`, obj.kind, type, reason, message].join('\u0000');
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const seen = this.seen.get(cacheKey);
    if (seen) {
      try {
        const count = seen.count + 1;
        await this.client.patchMerge(Kinds.Event, seen.namespace, seen.name, { count, lastTimestamp: now });
        seen.count = count;
        this.remember(cacheKey, seen);
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e; // expired by the server's event TTL: start a new one
      }
    }
    const name = `${meta.name ?? 'object'}.${eventSuffix(++this.seq)}`;
    await this.client.create(buildEvent({ obj, namespace, name, type, reason, message, now, component: this.component(), instance: this.opts.instance }));
    this.remember(cacheKey, { namespace, name, count: 1 });
  }

  private component(): string {
    return this.opts.component ?? 'modelship-operator';
  }

  private remember(key: string, value: SeenEvent): void {
    this.seen.delete(key);
    this.seen.set(key, value);
    const max = this.opts.cacheSize ?? 4096;
    while (this.seen.size > max) this.seen.delete(this.seen.keys().next().value as string);
  }
}

/** client-go names Events `<object>.<hex nanoseconds>`; a sequence keeps names unique within a ms. */
function eventSuffix(seq: number): string {
  return (BigInt(Date.now()) * 1_000_000n + BigInt(seq % 1_000_000)).toString(16);
}

export interface EventSpec {
  obj: KubeObject;
  namespace: string;
  name: string;
  type: EventType;
  reason: string;
  message: string;
  now: string;
  component: string;
  instance?: string;
}

/** The core/v1 Event for `obj` (pure). Messages are capped at the API's 1 KiB limit. */
export function buildEvent(s: EventSpec): KubeObject {
  const meta = s.obj.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: s.name, namespace: s.namespace },
    involvedObject: {
      apiVersion: s.obj.apiVersion, kind: s.obj.kind, name: meta.name, namespace: meta.namespace || undefined,
      uid: meta.uid, resourceVersion: meta.resourceVersion,
    },
    type: s.type,
    reason: s.reason,
    message: s.message.length > 1024 ? `${s.message.slice(0, 1021)}...` : s.message,
    source: { component: s.component },
    reportingComponent: s.component,
    reportingInstance: s.instance ?? s.component,
    firstTimestamp: s.now,
    lastTimestamp: s.now,
    count: 1,
  };
}
