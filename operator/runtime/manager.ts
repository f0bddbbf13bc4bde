// The manager runs registered controllers: one shared informer per kind, one work queue per
// controller. Informers start at once (a standby keeps warm caches and is ready); queues and
// workers run only while this process leads (or always, without leader election).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { BackoffPolicy } from './backoff.js';
import type { KubeClient } from './client.js';
import { ownerKeys, type CacheReader, type Controller, type ReconcileContext } from './controller.js';
import { Informer, type InformerOptions } from './informer.js';
import { keyOf, keyString, kindId, parseKey, type KindRef, type KubeObject, type ObjectKey } from './kinds.js';
import { LeaderElector, type LeaderElectionConfig } from './leader.js';
import { OwnWrites } from './own-writes.js';
import { createLogger, errorChain, type Logger } from './logger.js';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.js';
import { EventRecorder } from './recorder.js';
import { WorkQueue } from './workqueue.js';

export interface ManagerOptions {
  client: KubeClient;
  log?: Logger;
  metrics?: OperatorMetrics;
  /** Namespaces to watch; empty or absent means all. */
  namespaces?: string[];
  /** Lease to campaign for; absent or false runs controllers without election. */
  leaderElection?: (Omit<LeaderElectionConfig, 'identity'> & { identity?: string }) | false;
  informer?: Pick<InformerOptions, 'backoff' | 'watchTimeoutSeconds' | 'healthyAfterMs'>;
  queueBackoff?: BackoffPolicy;
  defaultConcurrency?: number;
  /** Re-enqueue every object of each controller's kind this often while leading (0: never). */
  resyncPeriodMs?: number;
  component?: string;
  /** Told when controllers start (true) or stop (false) running in this process. */
  onLeadershipChange?: (leading: boolean) => void;
}

interface Running {
  queues: Map<string, WorkQueue>;
  workers: Promise<void>[];
  abort: AbortController;
  resync?: NodeJS.Timeout;
}

export class Manager {
  readonly log: Logger;
  readonly metrics: OperatorMetrics;
  readonly recorder: EventRecorder;
  readonly identity: string;
  private readonly controllers: Controller[] = [];
  private readonly informers = new Map<string, Informer>();
  private elector?: LeaderElector;
  private running?: Running;
  /** Versions of cached objects this process's writes replaced (for waitForOwnWrites). */
  private readonly ownWrites = new OwnWrites();
  private readonly stopWatchingWrites: () => void;
  /** A previous leadership's in-flight reconciles, still finishing. */
  private draining: Promise<void> = Promise.resolve();
  private stopping?: Promise<void>;
  private synced = false;
  private started = false;

  constructor(private readonly opts: ManagerOptions) {
    this.log = opts.log ?? createLogger();
    this.metrics = opts.metrics ?? createOperatorMetrics();
    const le = opts.leaderElection;
    this.identity = (le && le.identity) || `${hostname()}_${randomUUID().slice(0, 8)}`;
    this.recorder = new EventRecorder(opts.client, {
      log: this.log,
      component: opts.component ?? 'modelship-operator',
      instance: this.identity,
    });
    this.stopWatchingWrites = opts.client.onWrite((w) =>
      this.ownWrites.written(
        ownWriteKey(kindId(w.kind), w.obj),
        w.baseVersion,
        w.obj.metadata?.resourceVersion,
        Date.now(),
      ),
    );
  }

  /** Read access to every informer's cache. */
  readonly cache: CacheReader = {
    get: <T extends KubeObject>(kind: KindRef, namespace: string, name: string) =>
      this.informers.get(kindId(kind))?.store.get(namespace, name) as T | undefined,
    list: <T extends KubeObject>(kind: KindRef, namespace?: string, labels?: Record<string, string>) =>
      (this.informers.get(kindId(kind))?.store.list(namespace, labels) ?? []) as T[],
    informs: (kind: KindRef) => this.informers.has(kindId(kind)),
  };

  add(controller: Controller): this {
    if (this.started) throw new Error('controllers must be added before start()');
    if (this.controllers.some((c) => c.name === controller.name))
      throw new Error(`controller ${controller.name} added twice`);
    this.controllers.push(controller);
    this.wire(controller);
    return this;
  }

  /** The shared informer for `kind` (created on first use; started by start()). */
  informer(kind: KindRef): Informer {
    const id = kindId(kind);
    let inf = this.informers.get(id);
    if (!inf) {
      inf = new Informer(this.opts.client, {
        ...this.opts.informer,
        kind,
        namespaces: this.opts.namespaces,
        log: this.log,
        onRestart: () => this.metrics.informerRestarts.inc({ kind: kind.kind }),
      });
      this.informers.set(id, inf);
      const observed = (obj: KubeObject) =>
        this.ownWrites.observed(ownWriteKey(id, obj), obj.metadata?.resourceVersion);
      inf.addHandler({
        onAdd: observed,
        onUpdate: (_old, obj) => observed(obj),
        onDelete: (obj) => this.ownWrites.forget(ownWriteKey(id, obj)),
      });
      if (this.started) inf.start();
    }
    return inf;
  }

  isReady(): boolean {
    return this.synced && !this.stopping;
  }

  isLeader(): boolean {
    return this.running !== undefined;
  }

  /** Starts informers, waits until their caches are synced, then campaigns or runs controllers. */
  async start(): Promise<void> {
    if (this.started) throw new Error('manager already started');
    this.started = true;
    for (const inf of this.informers.values()) inf.start();
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    if (this.stopping) return;
    this.synced = true;
    this.log.info('Caches synced', { informers: [...this.informers.values()].map((i) => i.kind.kind) });
    const le = this.opts.leaderElection;
    if (!le) {
      this.startControllers();
      return;
    }
    this.elector = new LeaderElector(
      this.opts.client,
      { ...le, identity: this.identity },
      {
        // Regained leadership waits for the last term's reconciles, so no key runs twice at once.
        onStartedLeading: () =>
          void this.draining.then(() => {
            if (this.elector?.isLeader) this.startControllers();
          }),
        onStoppedLeading: () => void this.stopControllers(),
      },
      this.log,
    );
    this.elector.start();
  }

  /**
   * Graceful stop: take no new work, finish in-flight reconciles, hand the lease back, stop
   * informers, and wait for pending Events.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.stopControllers();
      await this.elector?.stop({ release: true });
      await Promise.all([...this.informers.values()].map((i) => i.stop()));
      await this.recorder.flush();
      this.stopWatchingWrites();
      this.log.info('Manager stopped');
    })();
    return this.stopping;
  }

  private startControllers(): void {
    if (this.running || this.stopping) return;
    const running: Running = { queues: new Map(), workers: [], abort: new AbortController() };
    this.running = running;
    this.metrics.leader.set(1);
    for (const c of this.controllers) {
      const queue = new WorkQueue({
        backoff: this.opts.queueBackoff,
        onDepth: (d) => this.metrics.queueDepth.set({ controller: c.name }, d),
      });
      running.queues.set(c.name, queue);
      running.workers.push(
        queue.process({
          concurrency: c.concurrency ?? this.opts.defaultConcurrency ?? 4,
          handler: (key) => this.reconcileOne(c, parseKey(key), running.abort.signal),
          onError: (key, err, retryInMs) =>
            this.log.error('Reconcile failed', {
              controller: c.name,
              kind: c.forKind.kind,
              ...parseKey(key),
              error: errorChain(err),
              retryInMs,
            }),
        }),
      );
      for (const obj of this.informer(c.forKind).store.list()) queue.add(keyString(keyOf(obj)));
    }
    const period = this.opts.resyncPeriodMs ?? 0;
    if (period > 0) {
      running.resync = setInterval(() => this.resyncAll(running), period);
      running.resync.unref?.();
    }
    this.log.info('Started controllers', { controllers: this.controllers.map((c) => c.name) });
    this.opts.onLeadershipChange?.(true);
  }

  /** Stops handing out work at once; resolves when in-flight reconciles have returned. */
  private stopControllers(): Promise<void> {
    const running = this.running;
    if (!running) return this.draining;
    this.running = undefined;
    this.draining = this.drain(running);
    return this.draining;
  }

  private async drain(running: Running): Promise<void> {
    this.metrics.leader.set(0);
    clearInterval(running.resync);
    running.abort.abort();
    this.opts.onLeadershipChange?.(false);
    await Promise.all([...running.queues.values()].map((q) => q.shutdown()));
    await Promise.all(running.workers);
    for (const c of this.controllers) this.metrics.queueDepth.set({ controller: c.name }, 0);
    this.log.info('Stopped controllers');
  }

  private async reconcileOne(c: Controller, key: ObjectKey, signal: AbortSignal) {
    const end = this.metrics.reconcileDuration.startTimer({ controller: c.name });
    const ctx: ReconcileContext = {
      client: this.opts.client,
      recorder: this.recorder,
      cache: this.cache,
      signal,
      log: this.log.child({
        controller: c.name,
        kind: c.forKind.kind,
        namespace: key.namespace || undefined,
        name: key.name,
      }),
    };
    try {
      if (c.waitForOwnWrites && this.cacheIsBehindOwnWrite(c.forKind, key)) {
        // The watch event of our write re-queues the key; the delay only covers a lost event.
        this.metrics.reconcileTotal.inc({ controller: c.name, result: 'stale' });
        return { requeueAfterMs: STALE_CACHE_RETRY_MS };
      }
      const result = await c.reconcile(key, ctx);
      this.metrics.reconcileTotal.inc({ controller: c.name, result: result?.requeueAfterMs ? 'requeue' : 'success' });
      return result;
    } catch (e) {
      this.metrics.reconcileTotal.inc({ controller: c.name, result: 'error' });
      this.metrics.reconcileErrors.inc({ controller: c.name });
      throw e;
    } finally {
      end();
    }
  }

  private cacheIsBehindOwnWrite(kind: KindRef, key: ObjectKey): boolean {
    const cached = this.cache.get(kind, key.namespace, key.name);
    return (
      !!cached &&
      this.ownWrites.isStale(ownWriteKey(kindId(kind), cached), cached.metadata?.resourceVersion, Date.now())
    );
  }

  private resyncAll(running: Running): void {
    for (const c of this.controllers) {
      const q = running.queues.get(c.name);
      for (const obj of this.informer(c.forKind).store.list()) q?.add(keyString(keyOf(obj)));
    }
  }

  private enqueue(controller: Controller, keys: ObjectKey[], delayMs = 0): void {
    const q = this.running?.queues.get(controller.name);
    if (!q) return; // not leading: startControllers() enqueues everything from the cache
    for (const k of keys) if (k.name) q.addAfter(keyString(k), delayMs);
  }

  /** Connects the informers' events to the controller's queue. */
  private wire(c: Controller): void {
    const route = (kind: KindRef, toKeys: (obj: KubeObject) => ObjectKey[], delayMs = 0) => {
      this.informer(kind).addHandler({
        onAdd: (obj) => this.enqueue(c, toKeys(obj), delayMs),
        onUpdate: (old, obj) => this.enqueue(c, dedupe([...toKeys(old), ...toKeys(obj)]), delayMs),
        onDelete: (obj) => this.enqueue(c, toKeys(obj), delayMs),
      });
    };
    const batch = c.childEventBatchMs ?? 0;
    route(c.forKind, (obj) => [keyOf(obj)]);
    for (const owned of c.owns ?? []) route(owned, (obj) => ownerKeys(obj, c.forKind), batch);
    for (const w of c.watches ?? []) route(w.kind, (obj) => w.mapToKeys(obj, this.cache), batch);
  }
}

/** How soon a reconcile skipped for a stale cache runs anyway, should the watch event not come. */
const STALE_CACHE_RETRY_MS = 2_000;

const ownWriteKey = (kind: string, obj: KubeObject): string => `${kind}|${keyString(keyOf(obj))}`;

function dedupe(keys: ObjectKey[]): ObjectKey[] {
  const seen = new Map(keys.map((k) => [keyString(k), k]));
  return [...seen.values()];
}
