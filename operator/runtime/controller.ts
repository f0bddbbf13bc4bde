// The contract between the runtime and a controller. A controller names the kind it
// reconciles, the kinds it owns (their events enqueue the owner found through
// ownerReferences) and other kinds it watches (mapped to keys by the controller), and a
// level-triggered, idempotent reconcile that returns when to look again instead of sleeping.
import type { KubeClient } from './client.js';
import type { KindRef, KubeObject, ObjectKey } from './kinds.js';
import type { Logger } from './logger.js';
import type { EventRecorder } from './recorder.js';

export interface ReconcileResult {
  /** Reconcile this key again after this long (e.g. to poll an analysis window). */
  requeueAfterMs?: number;
}

/** Read access to the informers' caches (never stale beyond the watch delay; read-only objects). */
export interface CacheReader {
  get<T extends KubeObject = KubeObject>(kind: KindRef, namespace: string, name: string): T | undefined;
  list<T extends KubeObject = KubeObject>(kind: KindRef, namespace?: string, labels?: Record<string, string>): T[];
  /** Whether an informer keeps `kind` here: otherwise get() says nothing about the object's existence. */
  informs(kind: KindRef): boolean;
}

export interface ReconcileContext {
  client: KubeClient;
  recorder: EventRecorder;
  /** Child logger with {controller, kind, namespace, name}. */
  log: Logger;
  cache: CacheReader;
  /** Aborted when this process stops leading or shuts down: stop starting new writes. */
  signal: AbortSignal;
}

export interface WatchSpec {
  kind: KindRef;
  /** Keys to reconcile for an event of `obj`; `cache` answers which objects relate to it. */
  mapToKeys(obj: KubeObject, cache: CacheReader): ObjectKey[];
}

export interface Controller {
  name: string;
  forKind: KindRef;
  owns?: KindRef[];
  watches?: WatchSpec[];
  /** Reconciles of different keys at once (one key is never reconciled twice at once). */
  concurrency?: number;
  /**
   * Skip a reconcile while the cache still shows a version of the object that one of this
   * process's own writes replaced (the watch event of that write re-queues the key): such a
   * reconcile could only redo the write and meet a 409. Default false.
   */
  waitForOwnWrites?: boolean;
  /**
   * Events of owned and watched objects enqueue the key this much later, so a burst of child
   * changes (a pod going Pending → Running → Succeeded in a moment) costs one reconcile and one
   * status write instead of one each (kube-controller-manager's Job controller batches pod
   * updates the same way, 1 s). Events of the reconciled kind itself are never delayed. Default 0.
   */
  childEventBatchMs?: number;
  reconcile(key: ObjectKey, ctx: ReconcileContext): Promise<ReconcileResult | void>;
}

/** Keys of the owners of `obj` whose kind is `owner` (same namespace, as ownership requires). */
export function ownerKeys(obj: KubeObject, owner: KindRef): ObjectKey[] {
  const namespace = obj.metadata?.namespace ?? '';
  return (obj.metadata?.ownerReferences ?? [])
    .filter((ref) => ref.kind === owner.kind && groupOf(ref.apiVersion) === owner.group)
    .map((ref) => ({ namespace: owner.namespaced === false ? '' : namespace, name: ref.name }));
}

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.split('/')[0] : '');
