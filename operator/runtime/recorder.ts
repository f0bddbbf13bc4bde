// One helper for "tell the user": recorder.event(obj, type, reason, message) writes a log
// line with the object's {kind, namespace, name} and records a core/v1 Event on the object.
// Events are correlated as client-go's recorder does (event-correlator.ts): repeats bump
// `count` on the existing Event, many similar ones are combined into one, and a per-object
// rate limit drops floods. Writes happen off the reconcile's path: a few in flight, the rest
// queued in order, and past `maxQueued` pending writes new Events are dropped (client-go's
// broadcaster likewise drops when its queue is full) so a slow API server never grows the
// queue without bound.
import type { KubeClient } from './client.js';
import { isNotFound } from './errors.js';
import { EventCorrelator, type CorrelatorOptions } from './event-correlator.js';
import { Kinds, type KubeObject } from './kinds.js';
import { errorChain, objectFields, type Logger } from './logger.js';

export type EventType = 'Normal' | 'Warning';

export interface RecorderOptions {
  component?: string;
  instance?: string;
  log: Logger;
  /** Entries remembered for correlation; older ones are forgotten first (default 4096). */
  cacheSize?: number;
  /** Spam filter and aggregation settings (client-go's defaults otherwise). */
  correlator?: CorrelatorOptions;
  /** Event writes in flight at once (default 4); the rest wait their turn. */
  maxInFlight?: number;
  /** Event writes pending at once (default 1000); further Events are dropped (and logged). */
  maxQueued?: number;
  /** Clock (tests). */
  now?: () => number;
}

export class EventRecorder {
  private readonly correlator: EventCorrelator;
  private readonly pending = new Set<Promise<void>>();
  /** The last write per Event key: writes of one Event run one after another (create, then patches). */
  private readonly chains = new Map<string, Promise<void>>();
  private seq = 0;
  /** Writes waiting for a free slot, oldest first. */
  private readonly queued: Array<() => void> = [];
  private inFlight = 0;
  private droppedCount = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: RecorderOptions,
  ) {
    this.correlator = new EventCorrelator({ cacheSize: opts.cacheSize, ...opts.correlator });
  }

  /** Events not written: rate-limited per object, or the queue was full. */
  get dropped(): number {
    return this.droppedCount;
  }

  /** Logs and records an Event. Never throws: an Event that cannot be written is only logged. */
  event(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const fields = { ...objectFields(obj), reason, eventType: type };
    if (type === 'Warning') this.opts.log.warn(message, fields);
    else this.opts.log.info(message, fields);
    const meta = obj.metadata ?? {};
    const objectKey = meta.uid ?? `${obj.kind}/${meta.namespace ?? ''}/${meta.name}`;
    const nowMs = this.now();
    if (!this.correlator.admit(objectKey, nowMs)) return this.drop('rate limit per object', fields);
    if (this.pending.size >= (this.opts.maxQueued ?? 1000)) return this.drop('Event queue full', fields);
    const aggregated = this.correlator.aggregate({ objectKey, type, reason, message }, nowMs);
    const previous = this.chains.get(aggregated.key) ?? Promise.resolve();
    const p: Promise<void> = previous
      .then(() => this.throttled(() => this.write(obj, type, reason, aggregated)))
      .catch((e) => {
        this.opts.log.warn('Could not record Event', { ...fields, error: errorChain(e) });
      })
      .finally(() => {
        this.pending.delete(p);
        if (this.chains.get(aggregated.key) === p) this.chains.delete(aggregated.key);
      });
    this.chains.set(aggregated.key, p);
    this.pending.add(p);
    return p;
  }

  /** Waits for Events being written (graceful shutdown, tests). */
  async flush(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private drop(why: string, fields: Record<string, unknown>): Promise<void> {
    this.droppedCount++;
    this.opts.log.debug('Event not recorded', { ...fields, why });
    return Promise.resolve();
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
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
      if (next)
        next(); // the slot passes straight to the next waiter
      else this.inFlight--;
    }
  }

  private async write(
    obj: KubeObject,
    type: EventType,
    reason: string,
    aggregated: { key: string; message: string },
  ): Promise<void> {
    const meta = obj.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const now = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const decision = this.correlator.writeFor(aggregated);
    if (decision.kind === 'patch') {
      try {
        await this.client.patchMerge(Kinds.Event, decision.ref.namespace, decision.ref.name, {
          count: decision.count,
          lastTimestamp: now,
          message: capMessage(decision.message),
        });
        this.correlator.recordWritten(decision.key, decision.ref, decision.count);
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e; // expired by the server's event TTL: start a new one
        this.correlator.forgetWritten(decision.key);
      }
    }
    const name = `${meta.name ?? 'object'}.${eventSuffix(++this.seq)}`;
    await this.client.create(
      buildEvent({
        obj,
        namespace,
        name,
        type,
        reason,
        message: aggregated.message,
        now,
        component: this.component(),
        instance: this.opts.instance,
      }),
    );
    this.correlator.recordWritten(aggregated.key, { namespace, name }, 1);
  }

  private component(): string {
    return this.opts.component ?? 'modelship-operator';
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

const capMessage = (message: string) => (message.length > 1024 ? `${message.slice(0, 1021)}...` : message);

/** The core/v1 Event for `obj` (pure). Messages are capped at the API's 1 KiB limit. */
export function buildEvent(s: EventSpec): KubeObject {
  const meta = s.obj.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: s.name, namespace: s.namespace },
    involvedObject: {
      apiVersion: s.obj.apiVersion,
      kind: s.obj.kind,
      name: meta.name,
      namespace: meta.namespace || undefined,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
    },
    type: s.type,
    reason: s.reason,
    message: capMessage(s.message),
    source: { component: s.component },
    reportingComponent: s.component,
    reportingInstance: s.instance ?? s.component,
    firstTimestamp: s.now,
    lastTimestamp: s.now,
    count: 1,
  };
}
