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

  get(namespace: string, name: string): T | undefined {
    return this.items.get(keyString({ namespace, name }));
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  /** All objects, or those of one namespace, optionally filtered by labels (all must match). */
  list(namespace?: string, labels?: Record<string, string>): T[] {
    const out: T[] = [];
    for (const obj of this.items.values()) {
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
    return old;
  }

  remove(obj: T): T | undefined {
    const key = keyString(keyOf(obj));
    const old = this.items.get(key);
    this.items.delete(key);
    return old;
  }

  /**
   * Replaces the contents with a fresh list (a re-list) and returns what changed. Objects whose
   * resourceVersion did not change are not reported, so a re-list costs no reconciles.
   * `inScope` limits the replacement to part of the store (one namespace of a multi-namespace informer).
   */
  replace(objs: T[], inScope: (obj: T) => boolean = () => true): StoreDelta<T> {
    const delta: StoreDelta<T> = { added: [], updated: [], deleted: [] };
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
}

export function matchesLabels(obj: KubeObject, selector: Record<string, string>): boolean {
  const labels = obj.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
