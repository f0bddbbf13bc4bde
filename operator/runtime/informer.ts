// Supervised informer: list, then watch from the list's resourceVersion, keeping a Store.
// - 410 Gone (on the watch request or as an ERROR event) → re-list;
// - any other error or the end of the stream → watch again from the last resourceVersion,
//   after an exponential, jittered, capped backoff; the backoff resets after a watch stayed
//   healthy for a while, or ended cleanly having made progress (an event or bookmark, or 1 s
//   open: client-go's "very short watch" rule), so a server that keeps refusing or instantly
//   closing us is never hammered, and a dropped but working stream is resumed at once;
// - bookmarks advance the resourceVersion without touching the cache;
// - a namespaced informer may span several namespaces (one list/watch loop each, one store).
import { Backoff, defaultBackoff, sleep, type BackoffPolicy } from './backoff.js';
import type { KubeClient } from './client.js';
import { errorFromResponse, GoneError, isApiStatus } from './errors.js';
import { apiVersionOf, kindId, resourcePath, type KindRef, type KubeObject } from './kinds.js';
import { errorChain, type Logger } from './logger.js';
import { Store } from './store.js';

export interface InformerHandlers<T extends KubeObject = KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(old: T, obj: T): void;
  onDelete?(obj: T): void;
}

/** A watch that ends cleanly sooner than this without a single event is treated as a failure. */
const SHORT_WATCH_MS = 1_000;

export interface InformerOptions {
  kind: KindRef;
  /** Namespaces to watch; empty or absent means all namespaces. Ignored for cluster-scoped kinds. */
  namespaces?: string[];
  labelSelector?: string;
  backoff?: BackoffPolicy;
  /** Server-side watch timeout; each watch draws a value in [min, 2·min) as client-go does. */
  watchTimeoutSeconds?: number;
  /** A watch that was open this long resets the backoff. */
  healthyAfterMs?: number;
  log?: Logger;
  /** Called on every restart (re-list or re-watch), with why. */
  onRestart?: (reason: string) => void;
  /**
   * Applied to every object before it is cached (default: stripManagedFields). Cached objects
   * are read-only, so a transform may return the object it was given, changed.
   */
  transform?: (obj: KubeObject) => KubeObject;
}

/**
 * Drops metadata.managedFields, which no controller reads from the cache and which is often the
 * largest part of an object's metadata (controller-runtime's TransformStripManagedFields). A
 * status PUT built from such a copy leaves the stored managedFields as they are: the API server
 * keeps them when an update omits the field.
 */
export function stripManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly store = new Store<T>();
  readonly kind: KindRef;
  private readonly handlers: InformerHandlers<T>[] = [];
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly synced = new Set<string>();
  private readonly scopes: string[];
  private syncWaiters: Array<() => void> = [];
  private restartCount = 0;
  private started = false;
  private watching = 0;
  private listCount = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly opts: InformerOptions,
  ) {
    this.kind = opts.kind;
    const namespaced = opts.kind.namespaced !== false;
    this.scopes = namespaced && opts.namespaces?.length ? [...new Set(opts.namespaces)] : [''];
  }

  get id(): string {
    return kindId(this.kind);
  }

  get restarts(): number {
    return this.restartCount;
  }

  /** Successful lists so far (the initial ones and every re-list). */
  get lists(): number {
    return this.listCount;
  }

  /** Number of watch streams open now (one per namespace when healthy). */
  get openWatches(): number {
    return this.watching;
  }

  addHandler(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  hasSynced(): boolean {
    return this.synced.size === this.scopes.length;
  }

  /** Resolves once every namespace has been listed (or when the informer is stopped). */
  waitForSync(): Promise<void> {
    if (this.hasSynced() || this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const ns of this.scopes) this.loops.push(this.runScope(ns));
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.releaseSyncWaiters();
    await Promise.all(this.loops);
  }

  private async runScope(namespace: string): Promise<void> {
    const log = this.opts.log?.child({ informer: this.kind.kind, namespace: namespace || undefined });
    const backoff = new Backoff(this.opts.backoff ?? defaultBackoff);
    const signal = this.abort.signal;
    let resourceVersion: string | undefined;
    while (!signal.aborted) {
      let reason: string;
      let failed = true;
      let healthy = false;
      let progressed = false;
      try {
        if (resourceVersion === undefined) resourceVersion = await this.relist(namespace);
        const started = Date.now();
        let events = 0;
        try {
          resourceVersion = await this.watch(namespace, resourceVersion, (rv) => {
            resourceVersion = rv;
            events++;
          });
          reason = 'watch stream ended';
          failed = false;
        } finally {
          const open = Date.now() - started;
          healthy = open >= (this.opts.healthyAfterMs ?? 10_000);
          progressed = events > 0 || open >= SHORT_WATCH_MS;
        }
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof GoneError) {
          resourceVersion = undefined;
          reason = `resourceVersion expired, re-listing: ${errorChain(e)}`;
        } else {
          reason = errorChain(e);
        }
      }
      if (signal.aborted) break;
      if (healthy || (!failed && progressed)) backoff.reset();
      const delay = backoff.next();
      this.restartCount++;
      this.opts.onRestart?.(reason);
      // A stream the server ended (its watch timeout) is routine; anything else is worth a warning.
      log?.log(failed ? 'warn' : 'info', 'Restarting informer', {
        reason,
        retryInMs: delay,
        relist: resourceVersion === undefined,
      });
      await sleep(delay, signal);
    }
  }

  /** Lists one scope, replaces its part of the store, emits the differences; returns the list RV. */
  private async relist(namespace: string): Promise<string> {
    const list = await this.client.list<T>(
      this.kind,
      { namespace: namespace || undefined, labelSelector: this.opts.labelSelector },
      this.abort.signal,
    );
    const inScope = (o: T) => !namespace || o.metadata?.namespace === namespace;
    const delta = this.store.replace(
      list.items.map((o) => this.transform(o)),
      inScope,
    );
    this.listCount++;
    for (const o of delta.deleted) this.emit((h) => h.onDelete?.(o));
    for (const o of delta.added) this.emit((h) => h.onAdd?.(o));
    for (const u of delta.updated) this.emit((h) => h.onUpdate?.(u.old, u.obj));
    if (!this.synced.has(namespace)) {
      this.synced.add(namespace);
      if (this.hasSynced()) this.releaseSyncWaiters();
    }
    return list.resourceVersion;
  }

  /** Watches until the stream ends; returns the last resourceVersion seen. Throws GoneError on 410. */
  private async watch(namespace: string, fromVersion: string, onVersion: (rv: string) => void): Promise<string> {
    const min = this.opts.watchTimeoutSeconds ?? 300;
    const timeoutSeconds = Math.floor(min * (1 + Math.random()));
    const stream = await this.client.transport.stream(
      {
        path: resourcePath(this.kind, namespace || undefined),
        query: {
          watch: 1,
          resourceVersion: fromVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.opts.labelSelector,
        },
        signal: this.abort.signal,
      },
      (timeoutSeconds + 60) * 1000,
    );
    const onAbort = () => stream.close();
    this.abort.signal.addEventListener('abort', onAbort, { once: true });
    let rv = fromVersion;
    this.watching++;
    try {
      for await (const line of stream.lines) {
        const event = parseEvent<T>(line);
        if (!event) continue;
        rv = this.apply(event) ?? rv;
        onVersion(rv);
      }
    } finally {
      this.watching--;
      this.abort.signal.removeEventListener('abort', onAbort);
      stream.close();
    }
    return rv;
  }

  /** Applies one watch event to the store and handlers; returns its resourceVersion. */
  private apply(event: WatchEvent<T>): string | undefined {
    const obj = event.object;
    if (event.type === 'ERROR') {
      const status: unknown = obj;
      const code = isApiStatus(status) ? (status.code ?? 500) : 500;
      throw errorFromResponse(code, status, `watch ${this.kind.plural}`);
    }
    const rv = obj.metadata?.resourceVersion;
    if (event.type === 'BOOKMARK') return rv;
    const full = this.transform({ apiVersion: apiVersionOf(this.kind), kind: this.kind.kind, ...obj } as T);
    if (event.type === 'DELETED') {
      this.store.remove(full);
      this.emit((h) => h.onDelete?.(full));
    } else {
      const old = this.store.upsert(full);
      if (!old) this.emit((h) => h.onAdd?.(full));
      else if (old.metadata?.resourceVersion !== full.metadata?.resourceVersion)
        this.emit((h) => h.onUpdate?.(old, full));
    }
    return rv;
  }

  private transform(obj: T): T {
    return (this.opts.transform ?? stripManagedFields)(obj) as T;
  }

  private emit(fn: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        fn(h);
      } catch (e) {
        this.opts.log?.error('Informer event handler failed', { informer: this.kind.kind, error: errorChain(e) });
      }
    }
  }

  private releaseSyncWaiters(): void {
    for (const w of this.syncWaiters.splice(0)) w();
  }
}

/** A watch line that is not an event: the stream is no longer trustworthy. */
export class WatchDecodeError extends Error {
  override name = 'WatchDecodeError';
}

/**
 * Blank lines are keep-alive noise; anything else must be an event. Skipping an undecodable one
 * would lose that change until the next re-list, so (as client-go's StreamWatcher does) it ends
 * the watch, which resumes from the last event decoded.
 */
function parseEvent<T>(line: string): WatchEvent<T> | undefined {
  if (!line.trim()) return undefined;
  let e: WatchEvent<T>;
  try {
    e = JSON.parse(line) as WatchEvent<T>;
  } catch (err) {
    throw new WatchDecodeError(`unable to decode an event from the watch stream: ${line.slice(0, 80)}`, { cause: err });
  }
  if (!e || typeof e.type !== 'string' || !e.object) {
    throw new WatchDecodeError(
      `unable to decode an event from the watch stream: no type or object in ${line.slice(0, 80)}`,
    );
  }
  return e;
}
