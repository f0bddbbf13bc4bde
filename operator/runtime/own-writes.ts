// Which cached objects are known to be older than a write this process made ("expectations",
// as kube-controller-manager's controllers keep them). A PUT that carried resourceVersion B and
// succeeded proves that B is no longer current: a cache still showing B is stale, and a
// reconcile from it would only redo the write, get a 409, re-read and find nothing to do.
// Only equality of resourceVersions is used (they are opaque); the informer event of any
// other version for the key ends the expectation, and entries expire after `ttlMs` so a
// missed event can never hold a key back for long.

export interface OwnWritesOptions {
  /** How long a superseded version is remembered (default 30 s). */
  ttlMs?: number;
  /** Keys remembered at most (oldest forgotten first; default 10 000). */
  maxKeys?: number;
}

interface Superseded {
  versions: Set<string>;
  at: number;
}

export class OwnWrites {
  private readonly byKey = new Map<string, Superseded>();
  private readonly ttlMs: number;
  private readonly maxKeys: number;

  constructor(opts: OwnWritesOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 30_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** A write based on `baseVersion` succeeded with `newVersion`: the base is superseded. */
  written(key: string, baseVersion: string | undefined, newVersion: string | undefined, nowMs: number): void {
    if (!baseVersion || baseVersion === newVersion) return;
    const entry = this.byKey.get(key);
    const live = entry && nowMs - entry.at <= this.ttlMs ? entry : { versions: new Set<string>(), at: nowMs };
    live.versions.add(baseVersion);
    live.at = nowMs;
    this.byKey.delete(key);
    this.byKey.set(key, live);
    while (this.byKey.size > this.maxKeys) this.byKey.delete(this.byKey.keys().next().value as string);
  }

  /** Whether a cached object at `cachedVersion` is older than one of this process's writes. */
  isStale(key: string, cachedVersion: string | undefined, nowMs: number): boolean {
    const entry = this.byKey.get(key);
    if (!entry || !cachedVersion) return false;
    if (nowMs - entry.at > this.ttlMs) {
      this.byKey.delete(key);
      return false;
    }
    return entry.versions.has(cachedVersion);
  }

  /** The cache now holds `version` of the key: once that is not a superseded one, the cache caught up. */
  observed(key: string, version: string | undefined): void {
    const entry = this.byKey.get(key);
    if (entry && version && !entry.versions.has(version)) this.byKey.delete(key);
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }

  get size(): number {
    return this.byKey.size;
  }
}
