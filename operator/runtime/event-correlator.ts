// Event correlation in the spirit of client-go's EventCorrelator (tools/record/events_cache.go),
// as pure logic with an explicit clock, so the recorder only does I/O:
// - spam filter: a token bucket per involved object (burst 25, then one Event per 5 minutes):
//   a reconcile failing in a loop cannot flood the API server with Event writes;
// - aggregation: more than 10 Events of one object, type and reason with different messages
//   within 10 minutes become one Event "(combined from similar events): <latest message>";
// - deduplication: a repeat of an Event already written bumps its count and lastTimestamp
//   (a PATCH) instead of creating another object.

export interface CorrelatorOptions {
  /** Events one object may record at once before the rate limit applies (client-go: 25). */
  burst?: number;
  /** Tokens refilled per second and object (client-go: 1/300). */
  refillPerSecond?: number;
  /** Distinct messages of one object/type/reason within `similarWindowMs` before they are combined (client-go: 10). */
  maxSimilar?: number;
  similarWindowMs?: number;
  /** Entries each cache remembers, least recently used forgotten first (client-go: 4096). */
  cacheSize?: number;
}

export interface EventFacts {
  /** Identifies the involved object (uid, else kind/namespace/name). */
  objectKey: string;
  type: string;
  reason: string;
  message: string;
}

export interface EventRef {
  namespace: string;
  name: string;
}

/** What to write for an Event: nothing, a new Event, or a PATCH of an existing one. */
export type Decision =
  | { kind: 'drop' }
  | { kind: 'create'; key: string; message: string }
  | { kind: 'patch'; key: string; message: string; ref: EventRef; count: number };

export const AGGREGATED_PREFIX = '(combined from similar events): ';

const DEFAULTS: Required<CorrelatorOptions> = {
  burst: 25,
  refillPerSecond: 1 / 300,
  maxSimilar: 10,
  similarWindowMs: 600_000,
  cacheSize: 4096,
};

interface Bucket {
  tokens: number;
  at: number;
}
interface Similar {
  messages: Set<string>;
  at: number;
}
interface Written {
  ref: EventRef;
  count: number;
}

/** A Map that forgets its least recently used entries beyond `max`. */
class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) this.set(key, v);
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
  }
  delete(key: string): void {
    this.map.delete(key);
  }
}

export class EventCorrelator {
  private readonly opts: Required<CorrelatorOptions>;
  private readonly buckets: Lru<Bucket>;
  private readonly similar: Lru<Similar>;
  private readonly written: Lru<Written>;

  constructor(opts: CorrelatorOptions = {}) {
    this.opts = { ...DEFAULTS, ...opts };
    this.buckets = new Lru(this.opts.cacheSize);
    this.similar = new Lru(this.opts.cacheSize);
    this.written = new Lru(this.opts.cacheSize);
  }

  /** Whether the object may record another Event now (takes a token if so). */
  admit(objectKey: string, nowMs: number): boolean {
    const { burst, refillPerSecond } = this.opts;
    const b = this.buckets.get(objectKey) ?? { tokens: burst, at: nowMs };
    const tokens = Math.min(burst, b.tokens + ((nowMs - b.at) / 1000) * refillPerSecond);
    const admitted = tokens >= 1;
    this.buckets.set(objectKey, { tokens: admitted ? tokens - 1 : tokens, at: nowMs });
    return admitted;
  }

  /**
   * The message to record and the key that identifies its Event: the message itself, or the
   * combined message under the object/type/reason key once too many similar ones were seen.
   */
  aggregate(e: EventFacts, nowMs: number): { key: string; message: string } {
    const aggregateKey = [e.objectKey, e.type, e.reason].join('\u0000');
    const prev = this.similar.get(aggregateKey);
    const entry =
      prev && nowMs - prev.at <= this.opts.similarWindowMs ? prev : { messages: new Set<string>(), at: nowMs };
    entry.messages.add(e.message);
    entry.at = nowMs;
    this.similar.set(aggregateKey, entry);
    if (entry.messages.size < this.opts.maxSimilar)
      return { key: `${aggregateKey}\u0000${e.message}`, message: e.message };
    return { key: aggregateKey, message: `${AGGREGATED_PREFIX}${e.message}` };
  }

  /** Spam filter, aggregation, then create-or-patch, for an Event about to be written. */
  decide(e: EventFacts, nowMs: number): Decision {
    if (!this.admit(e.objectKey, nowMs)) return { kind: 'drop' };
    return this.writeFor(this.aggregate(e, nowMs));
  }

  /** Create or patch for an (aggregated) Event, from what was written before. */
  writeFor(a: { key: string; message: string }): Decision {
    const seen = this.written.get(a.key);
    if (!seen) return { kind: 'create', key: a.key, message: a.message };
    return { kind: 'patch', key: a.key, message: a.message, ref: seen.ref, count: seen.count + 1 };
  }

  /** Records a successful write (count 1 for a create). */
  recordWritten(key: string, ref: EventRef, count: number): void {
    this.written.set(key, { ref, count });
  }

  /** Forgets a written Event (it expired at the server: the next one is a create). */
  forgetWritten(key: string): void {
    this.written.delete(key);
  }
}
