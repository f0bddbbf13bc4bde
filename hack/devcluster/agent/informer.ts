// List-then-watch cache of one resource type, like client-go's reflector + store: re-lists on
// 410 Expired, re-watches from the last seen resourceVersion when a stream ends, and backs off
// on any other error. Controllers also write their own successful writes through to the cache
// (upsert / forget) so that the next reconcile does not act on a stale view, which is what
// client-go's "expectations" achieve in kube-controller-manager.
import { KubeApiError, type KubeClient, type KubeObject, type WatchHandle } from './kube-client.js';
import { collectionPath, type ResourceType } from './resources.js';

export type ChangeListener = (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject) => void;

const TOMBSTONE_MS = 60_000;

export function keyOf(obj: KubeObject): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

/** True when resourceVersion a is strictly newer than b (numeric when both are numbers). */
export function isNewerVersion(a: string | undefined, b: string | undefined): boolean {
  if (!b) return true;
  if (!a) return false;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) > BigInt(b);
  return a !== b;
}

export class Informer {
  private readonly items = new Map<string, KubeObject>();
  private readonly tombstones = new Map<string, number>(); // uid -> expiry
  private readonly listeners: ChangeListener[] = [];
  private lastResourceVersion = '';
  private stopped = false;
  private currentWatch: WatchHandle | undefined;
  private syncedResolve!: () => void;
  readonly synced = new Promise<void>((r) => (this.syncedResolve = r));
  /** False when the API server does not serve this resource (404 on list). */
  available = true;

  constructor(
    private readonly client: KubeClient,
    readonly resource: ResourceType,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  list(namespace?: string): KubeObject[] {
    const all = [...this.items.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.items.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Records the result of our own successful write, unless the cache already has something newer. */
  upsert(obj: KubeObject): void {
    if (!obj?.metadata?.name) return;
    if (obj.metadata.uid && this.tombstones.has(obj.metadata.uid)) return;
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (
      old &&
      old.metadata.uid === obj.metadata.uid &&
      !isNewerVersion(obj.metadata.resourceVersion, old.metadata.resourceVersion)
    )
      return;
    this.items.set(key, obj);
    this.emit(old ? 'MODIFIED' : 'ADDED', obj);
  }

  /** Records our own successful delete; late events for that uid are ignored for a while. */
  forget(obj: KubeObject): void {
    const key = keyOf(obj);
    const old = this.items.get(key);
    if (obj.metadata.uid) this.tombstones.set(obj.metadata.uid, Date.now() + TOMBSTONE_MS);
    if (old && (!obj.metadata.uid || old.metadata.uid === obj.metadata.uid)) {
      this.items.delete(key);
      this.emit('DELETED', old);
    }
  }

  start(): void {
    void this.run();
  }

  stop(): void {
    this.stopped = true;
    this.currentWatch?.abort();
  }

  private async run(): Promise<void> {
    let backoffMs = 100;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.relist();
          needList = false;
        }
        const expired = await this.watchOnce();
        if (expired) needList = true;
        backoffMs = 100;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof KubeApiError && err.status === 410) needList = true;
        else if (err instanceof KubeApiError && err.status === 404 && needList) {
          this.available = false;
          this.syncedResolve();
        } else {
          this.log(`informer ${this.resource.plural}: ${(err as Error).message}; retrying in ${backoffMs} ms`);
        }
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, 5_000);
      }
    }
  }

  private async relist(): Promise<void> {
    const body = await this.client.get<{ metadata: { resourceVersion: string }; items: KubeObject[] }>(
      collectionPath(this.resource),
    );
    this.available = true;
    const fresh = new Map<string, KubeObject>();
    for (const item of body.items ?? []) {
      item.apiVersion ??= this.resource.group
        ? `${this.resource.group}/${this.resource.version}`
        : this.resource.version;
      item.kind ??= this.resource.kind;
      fresh.set(keyOf(item), item);
    }
    const previous = new Map(this.items);
    this.items.clear();
    for (const [key, obj] of fresh) this.items.set(key, obj);
    this.lastResourceVersion = body.metadata?.resourceVersion ?? '';
    for (const [key, obj] of fresh) {
      const old = previous.get(key);
      if (!old) this.emit('ADDED', obj);
      else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion) this.emit('MODIFIED', obj);
    }
    for (const [key, old] of previous) if (!fresh.has(key)) this.emit('DELETED', old);
    this.syncedResolve();
  }

  /** Returns true when the server said our resourceVersion is too old (410). */
  private async watchOnce(): Promise<boolean> {
    let expired = false;
    const params = new URLSearchParams({ watch: 'true', allowWatchBookmarks: 'true', timeoutSeconds: '300' });
    if (this.lastResourceVersion) params.set('resourceVersion', this.lastResourceVersion);
    const handle = this.client.watch(`${collectionPath(this.resource)}?${params}`, (ev) => {
      if (ev.type === 'ERROR') {
        if (ev.object?.code === 410) expired = true;
        handle.abort();
        return;
      }
      const rv = ev.object?.metadata?.resourceVersion;
      if (rv) this.lastResourceVersion = rv;
      if (ev.type === 'BOOKMARK') return;
      this.apply(ev.type, ev.object as KubeObject);
    });
    this.currentWatch = handle;
    await handle.done;
    this.currentWatch = undefined;
    return expired;
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    obj.apiVersion ??= this.resource.group ? `${this.resource.group}/${this.resource.version}` : this.resource.version;
    obj.kind ??= this.resource.kind;
    const key = keyOf(obj);
    const uid = obj.metadata.uid;
    this.expireTombstones();
    if (type === 'DELETED') {
      const old = this.items.get(key);
      if (old && old.metadata.uid === uid) {
        this.items.delete(key);
        this.emit('DELETED', obj);
      }
      return;
    }
    if (uid && this.tombstones.has(uid)) return;
    const old = this.items.get(key);
    if (old && old.metadata.uid === uid && !isNewerVersion(obj.metadata.resourceVersion, old.metadata.resourceVersion))
      return;
    this.items.set(key, obj);
    this.emit(old ? 'MODIFIED' : 'ADDED', obj);
  }

  private expireTombstones(): void {
    const now = Date.now();
    for (const [uid, expiry] of this.tombstones) if (expiry < now) this.tombstones.delete(uid);
  }

  private emit(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: KubeObject): void {
    for (const l of this.listeners) {
      try {
        l(type, obj);
      } catch (err) {
        this.log(`informer ${this.resource.plural} listener failed: ${(err as Error).message}`);
      }
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
