// The informer's in-memory cache: the latest object per key, readable by controllers.
// Objects are handed out as stored; callers must treat them as read-only (copy before editing).
import { keyOf, keyString, type KubeObject } from './kinds.js';

export interface StoreDelta<T> {
  added: T[];
  updated: Array<{ old: T; obj: T }>;
  deleted: T[];
}

export class Store<T extends KubeObject = KubeObject> {
  private readonly items = new Map<string, T>();
  /**
   * label key → label value → keys of the objects carrying it; built on the first list() that
   * selects on that label (e.g. a Job's pods by `job-name`), kept up to date afterwards, so a
   * selector lookup does not scan every cached object.
   */
  private readonly labelIndexes = new Map<string, Map<string, Set<string>>>();

  get(namespace: string, name: string): T | undefined {
    return this.items.get(keyString({ namespace, name }));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  /** All objects, or those of one namespace, optionally filtered by labels (all must match). */
  list(namespace?: string, labels?: Record<string, string>): T[] {
    const out: T[] = [];
    const first = labels ? Object.entries(labels)[0] : undefined;
    const candidates = first ? this.indexed(first[0], first[1]) : this.items.values();
    for (const obj of candidates) {
      if (namespace !== undefined && (obj.metadata?.namespace ?? '') !== namespace) continue;
      if (labels && !matchesLabels(obj, labels)) continue;
      out.push(obj);
    }
    return out;
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** Inserts or replaces; returns the previous object. */
  upsert(obj: T): T | undefined {
    const key = keyString(keyOf(obj));
    const old = this.items.get(key);
    this.items.set(key, obj);
    if (old) this.unindex(key, old);
    this.index(key, obj);
    return old;
  }

  remove(obj: T): T | undefined {
    const key = keyString(keyOf(obj));
    const old = this.items.get(key);
    this.items.delete(key);
    if (old) this.unindex(key, old);
    return old;
  }

  /**
   * Replaces the contents with a fresh list (a re-list) and returns what changed. Objects whose
   * resourceVersion did not change are not reported, so a re-list costs no reconciles.
   * `inScope` limits the replacement to part of the store (one namespace of a multi-namespace informer).
   */
  replace(objs: T[], inScope: (obj: T) => boolean = () => true): StoreDelta<T> {
    const delta: StoreDelta<T> = { added: [], updated: [], deleted: [] };
    this.labelIndexes.clear(); // rebuilt on the next selector lookup
    const fresh = new Map(objs.map((o) => [keyString(keyOf(o)), o]));
    for (const [key, old] of this.items) {
      if (inScope(old) && !fresh.has(key)) {
        this.items.delete(key);
        delta.deleted.push(old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = this.items.get(key);
      this.items.set(key, obj);
      if (!old) delta.added.push(obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) delta.updated.push({ old, obj });
    }
    return delta;
  }

  /** Objects carrying label `key=value`, through the index (built now if missing). */
  private *indexed(key: string, value: string): Iterable<T> {
    let index = this.labelIndexes.get(key);
    if (!index) {
      index = new Map();
      this.labelIndexes.set(key, index);
      for (const [k, obj] of this.items) addTo(index, obj.metadata?.labels?.[key], k);
    }
    for (const k of index.get(value) ?? []) {
      const obj = this.items.get(k);
      if (obj) yield obj;
    }
  }

  private index(key: string, obj: T): void {
    for (const [label, index] of this.labelIndexes) addTo(index, obj.metadata?.labels?.[label], key);
  }

  private unindex(key: string, obj: T): void {
    for (const [label, index] of this.labelIndexes) {
      const value = obj.metadata?.labels?.[label];
      const keys = value === undefined ? undefined : index.get(value);
      keys?.delete(key);
      if (keys?.size === 0) index.delete(value!);
    }
  }
}

function addTo(index: Map<string, Set<string>>, value: string | undefined, key: string): void {
  if (value === undefined) return;
  let keys = index.get(value);
  if (!keys) index.set(value, (keys = new Set()));
  keys.add(key);
}

export function matchesLabels(obj: KubeObject, selector: Record<string, string>): boolean {
  const labels = obj.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
