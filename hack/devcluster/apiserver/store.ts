// In-memory object storage with one global, monotonic resourceVersion and a bounded event
// history for watch replay. Stored objects are never mutated after they are written: writers
// hand in a fresh object, readers may serialise stored objects without copying.
import type { KObject } from './registry.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  rv: number;
  storageKey: string;
  namespace: string;
  object: KObject;
  /** The object before the change (MODIFIED/DELETED), for selector transitions. */
  prev?: KObject;
}

export type StoreListener = (event: StoreEvent) => void;

export class Store {
  private currentRv: number;
  /** Every RV at or below this one is gone from history (watch from it answers 410). */
  private compactedRv: number;
  private readonly tables = new Map<string, Map<string, Map<string, KObject>>>();
  private history: StoreEvent[] = [];
  private readonly listeners = new Map<string, Set<StoreListener>>();
  private readonly anyListeners = new Set<StoreListener>();

  constructor(
    private readonly historyLimit = 10_000,
    initialRv = 0,
  ) {
    this.currentRv = initialRv;
    this.compactedRv = initialRv;
  }

  get rv(): number {
    return this.currentRv;
  }
  get oldestRv(): number {
    return this.compactedRv;
  }

  get(storageKey: string, namespace: string, name: string): KObject | undefined {
    return this.tables.get(storageKey)?.get(namespace)?.get(name);
  }

  /** Objects of a storage key, in one namespace or all, sorted by namespace then name. */
  list(storageKey: string, namespace?: string): KObject[] {
    const table = this.tables.get(storageKey);
    if (!table) return [];
    const namespaces = namespace !== undefined ? [namespace] : [...table.keys()].sort();
    const out: KObject[] = [];
    for (const ns of namespaces) {
      const byName = table.get(ns);
      if (!byName) continue;
      const names = [...byName.keys()].sort();
      for (const n of names) out.push(byName.get(n)!);
    }
    return out;
  }

  count(storageKey: string, namespace?: string): number {
    const table = this.tables.get(storageKey);
    if (!table) return 0;
    if (namespace !== undefined) return table.get(namespace)?.size ?? 0;
    let n = 0;
    for (const byName of table.values()) n += byName.size;
    return n;
  }

  storageKeys(): string[] {
    return [...this.tables.keys()];
  }

  /** Writes a new or changed object, stamping metadata.resourceVersion. Returns the stored object. */
  put(storageKey: string, obj: KObject): KObject {
    const ns = obj.metadata.namespace ?? '';
    const table = this.tableOf(storageKey, ns);
    const prev = table.get(obj.metadata.name);
    const rv = ++this.currentRv;
    obj.metadata.resourceVersion = String(rv);
    table.set(obj.metadata.name, obj);
    this.emit({ type: prev ? 'MODIFIED' : 'ADDED', rv, storageKey, namespace: ns, object: obj, prev });
    return obj;
  }

  /** Removes an object; the DELETED event carries the final state at a new resourceVersion. */
  remove(storageKey: string, namespace: string, name: string): KObject | undefined {
    const byName = this.tables.get(storageKey)?.get(namespace);
    const prev = byName?.get(name);
    if (!byName || !prev) return undefined;
    byName.delete(name);
    if (byName.size === 0) this.tables.get(storageKey)!.delete(namespace);
    const rv = ++this.currentRv;
    const final = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(rv) } };
    this.emit({ type: 'DELETED', rv, storageKey, namespace, object: final, prev });
    return final;
  }

  /** Loads an object without an event (restoring persisted state). */
  restore(storageKey: string, obj: KObject): void {
    this.tableOf(storageKey, obj.metadata.namespace ?? '').set(obj.metadata.name, obj);
  }

  /** Events after `rv`, or undefined when history no longer reaches back that far. */
  eventsSince(rv: number, storageKey: string): StoreEvent[] | undefined {
    if (rv < this.compactedRv) return undefined;
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid].rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    const out: StoreEvent[] = [];
    for (let i = lo; i < this.history.length; i++) {
      if (this.history[i].storageKey === storageKey) out.push(this.history[i]);
    }
    return out;
  }

  /** Forgets all history (as an etcd compaction would): older watches get 410. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.currentRv;
  }

  subscribe(storageKey: string, listener: StoreListener): () => void {
    let set = this.listeners.get(storageKey);
    if (!set) this.listeners.set(storageKey, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
    };
  }

  /** Listener for every event of every kind (controllers: GC, namespaces, CRDs, persistence). */
  subscribeAll(listener: StoreListener): () => void {
    this.anyListeners.add(listener);
    return () => {
      this.anyListeners.delete(listener);
    };
  }

  private tableOf(storageKey: string, namespace: string): Map<string, KObject> {
    let table = this.tables.get(storageKey);
    if (!table) this.tables.set(storageKey, (table = new Map()));
    let byName = table.get(namespace);
    if (!byName) table.set(namespace, (byName = new Map()));
    return byName;
  }

  private emit(event: StoreEvent): void {
    this.history.push(event);
    // Trim in chunks so that a full history does not cost a copy on every write.
    if (this.history.length > this.historyLimit * 1.25) {
      const drop = this.history.length - this.historyLimit;
      this.compactedRv = this.history[drop - 1].rv;
      this.history = this.history.slice(drop);
    }
    for (const l of this.anyListeners) l(event);
    const set = this.listeners.get(event.storageKey);
    if (set) for (const l of set) l(event);
  }
}
