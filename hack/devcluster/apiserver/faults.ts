// Fault injection for tests: forced error responses for matching requests, latency, dropped
// watch streams and history compaction. Driven in-process (ApiServer.faults) or over HTTP
// (`POST /debug/faults`).
export interface RequestMatch {
  /** get, list, watch, create, update, patch, delete, deletecollection */
  verb?: string;
  /** plural, optionally qualified by group: `pods`, `deployments.apps`, `trainingruns.modelship.dev` */
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface ErrorFault extends RequestMatch {
  /** HTTP status to answer: 409 (Conflict), 410 (Expired), 500 (InternalError), 429, 503… */
  code: number;
  message?: string;
  /** How many matching requests fail; default 1, 0 or omitted with `always` means forever. */
  count?: number;
  always?: boolean;
}

export interface LatencyFault extends RequestMatch {
  latencyMs: number;
  count?: number;
  always?: boolean;
}

export interface RequestInfo {
  verb: string;
  resource: string;
  group: string;
  subresource: string;
  namespace: string;
  name: string;
}

interface Armed<T> {
  id: number;
  rule: T;
  remaining: number;
}

function matches(m: RequestMatch, r: RequestInfo): boolean {
  if (m.verb && m.verb !== r.verb) return false;
  if (m.resource) {
    const qualified = r.group ? `${r.resource}.${r.group}` : r.resource;
    if (m.resource !== r.resource && m.resource !== qualified) return false;
  }
  if (m.subresource !== undefined && m.subresource !== r.subresource) return false;
  if (m.namespace !== undefined && m.namespace !== r.namespace) return false;
  if (m.name !== undefined && m.name !== r.name) return false;
  return true;
}

/** A live watch stream; `close(true)` drops the connection abruptly (socket reset) instead of ending it. */
export interface WatchHandle {
  info: RequestInfo;
  close(abrupt?: boolean): void;
}

export class FaultInjector {
  private nextId = 1;
  private errors: Armed<ErrorFault>[] = [];
  private latencies: Armed<LatencyFault>[] = [];
  /** Wired by the server: the live watch streams, and the store's compaction. */
  readonly watches = new Set<WatchHandle>();
  compactHistory: () => void = () => undefined;

  /** Arms a forced error; returns its id (for `remove`). */
  failNext(rule: ErrorFault): number {
    const id = this.nextId++;
    this.errors.push({ id, rule, remaining: rule.always ? Infinity : (rule.count ?? 1) });
    return id;
  }

  addLatency(rule: LatencyFault): number {
    const id = this.nextId++;
    this.latencies.push({ id, rule, remaining: rule.always || rule.count === undefined ? Infinity : rule.count });
    return id;
  }

  remove(id: number): void {
    this.errors = this.errors.filter((a) => a.id !== id);
    this.latencies = this.latencies.filter((a) => a.id !== id);
  }

  clear(): void {
    this.errors = [];
    this.latencies = [];
  }

  /**
   * Closes matching open watch streams mid-flight; returns how many. By default the stream
   * ends cleanly (as a server-side timeout); `abrupt` resets the connection (a network drop).
   */
  dropWatches(match: RequestMatch & { abrupt?: boolean } = {}): number {
    let n = 0;
    for (const w of [...this.watches])
      if (matches(match, w.info)) {
        w.close(!!match.abrupt);
        n++;
      }
    return n;
  }

  /** Forgets the event history: watches resuming from an older resourceVersion get 410 Expired. */
  compact(): void {
    this.compactHistory();
  }

  list(): { errors: ErrorFault[]; latencies: LatencyFault[]; watches: number } {
    return {
      errors: this.errors.map((a) => a.rule),
      latencies: this.latencies.map((a) => a.rule),
      watches: this.watches.size,
    };
  }

  /** The forced error for this request, consuming one use of the first matching rule. */
  takeError(r: RequestInfo): ErrorFault | undefined {
    const armed = this.errors.find((a) => matches(a.rule, r));
    if (!armed) return undefined;
    if (--armed.remaining <= 0) this.errors = this.errors.filter((a) => a !== armed);
    return armed.rule;
  }

  takeLatency(r: RequestInfo): number {
    const armed = this.latencies.find((a) => matches(a.rule, r));
    if (!armed) return 0;
    if (--armed.remaining <= 0) this.latencies = this.latencies.filter((a) => a !== armed);
    return armed.rule.latencyMs;
  }

  /** HTTP control: `{op:'fail', ...ErrorFault}`, `{op:'latency', ...}`, `{op:'dropWatches', ...}`, `{op:'compact'}`, `{op:'clear'}`. */
  control(body: any): unknown {
    switch (body?.op) {
      case 'fail':
        return { id: this.failNext(body) };
      case 'latency':
        return { id: this.addLatency(body) };
      case 'dropWatches':
        return { dropped: this.dropWatches(body) };
      case 'compact':
        this.compact();
        return { compacted: true };
      case 'clear':
        this.clear();
        return { cleared: true };
      case 'remove':
        this.remove(Number(body.id));
        return { removed: true };
      default:
        throw new Error(
          `unknown fault op ${JSON.stringify(body?.op)}; use fail, latency, dropWatches, compact, clear or remove`,
        );
    }
  }
}
