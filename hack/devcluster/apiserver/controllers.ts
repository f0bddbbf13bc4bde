// The in-process controllers a real control plane runs next to kube-apiserver that clients
// rely on: the garbage collector (ownerReferences; Background / Foreground / Orphan), the
// namespace lifecycle (Terminating → content deleted → gone), and CRD lifecycle (names and
// conditions, discovery, removal of custom resources before the CRD goes).
import { ApiError } from './errors.js';
import { typesOfCrd, type KObject, type Registry, type ResourceType } from './registry.js';
import { nowTimestamp, type Rest } from './rest.js';
import type { Store, StoreEvent } from './store.js';
import { CoalescingQueue } from './work-queue.js';

const CRD_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const NS_FINALIZER = 'kubernetes';

interface Ref {
  storageKey: string;
  namespace: string;
  name: string;
}
const refKey = (r: Ref) => `${r.storageKey}\u0000${r.namespace}\u0000${r.name}`;

export class Controllers {
  /** owner uid → dependents */
  private readonly dependents = new Map<string, Map<string, Ref>>();
  private readonly uids = new Map<string, Ref>();
  private readonly queue = new CoalescingQueue(
    (key) => this.reconcile(JSON.parse(key) as Ref),
    (err) => {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409)))
        console.error('devcluster controllers:', err);
    },
  );
  private stopped = false;
  private unsubscribe: () => void = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly rest: Rest,
  ) {}

  start(): void {
    for (const key of this.store.storageKeys()) for (const o of this.store.list(key)) this.index(key, o);
    this.rest.dependentsOf = (uid) => (this.dependents.get(uid)?.size ?? 0) > 0;
    this.rest.deletionFinalizers = (t) => (t.kind === 'CustomResourceDefinition' && t.builtin ? [CRD_FINALIZER] : []);
    this.unsubscribe = this.store.subscribeAll((e) => this.onEvent(e));
    // Objects restored from disk may be mid-deletion or orphaned.
    for (const key of this.store.storageKeys()) for (const o of this.store.list(key)) this.enqueueObject(key, o);
  }

  stop(): void {
    this.stopped = true;
    this.queue.stop();
    this.unsubscribe();
  }

  /** Registers CRD types at once (before the create returns), with their accepted names. */
  crdCreated(crd: KObject): void {
    crd.metadata.finalizers = [...new Set([...(crd.metadata.finalizers ?? []), CRD_FINALIZER])];
    crd.status = crdStatus(crd);
  }

  syncCrdTypes(crd: KObject | undefined, name: string): void {
    this.registry.setCrdTypes(name, crd && !crd.metadata.deletionTimestamp ? typesOfCrd(crd) : []);
  }

  /** Resolved when all queued controller work is done (tests / stop). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  private index(storageKey: string, o: KObject): void {
    const ref: Ref = { storageKey, namespace: o.metadata.namespace ?? '', name: o.metadata.name };
    this.uids.set(o.metadata.uid, ref);
    for (const owner of o.metadata.ownerReferences ?? []) {
      let deps = this.dependents.get(owner.uid);
      if (!deps) this.dependents.set(owner.uid, (deps = new Map()));
      deps.set(refKey(ref), ref);
    }
  }

  private unindex(storageKey: string, o: KObject | undefined): void {
    if (!o) return;
    const ref: Ref = { storageKey, namespace: o.metadata.namespace ?? '', name: o.metadata.name };
    for (const owner of o.metadata.ownerReferences ?? []) {
      const deps = this.dependents.get(owner.uid);
      deps?.delete(refKey(ref));
      if (deps && !deps.size) this.dependents.delete(owner.uid);
    }
  }

  private onEvent(e: StoreEvent): void {
    if (this.stopped) return;
    this.unindex(e.storageKey, e.prev);
    if (e.type === 'DELETED') {
      this.uids.delete(e.object.metadata.uid);
      for (const dep of this.dependents.get(e.object.metadata.uid)?.values() ?? []) this.enqueue(dep);
      if (e.namespace) this.enqueue({ storageKey: '/namespaces', namespace: '', name: e.namespace });
      if (e.storageKey === 'apiextensions.k8s.io/customresourcedefinitions')
        this.syncCrdTypes(undefined, e.object.metadata.name);
      const ownerCrd = this.crdNameOf(e.storageKey);
      if (ownerCrd)
        this.enqueue({ storageKey: 'apiextensions.k8s.io/customresourcedefinitions', namespace: '', name: ownerCrd });
      // An owner waiting in foreground deletion may be unblocked.
      for (const owner of e.object.metadata.ownerReferences ?? []) {
        const ref = this.uids.get(owner.uid);
        if (ref) this.enqueue(ref);
      }
      return;
    }
    this.index(e.storageKey, e.object);
    if (e.type === 'ADDED' && e.storageKey === '/namespaces') this.ensureDefaultServiceAccount(e.object.metadata.name);
    if (e.storageKey === 'apiextensions.k8s.io/customresourcedefinitions')
      this.syncCrdTypes(e.object, e.object.metadata.name);
    this.enqueueObject(e.storageKey, e.object);
  }

  /** The service-account controller's job: every namespace has a `default` ServiceAccount. */
  private ensureDefaultServiceAccount(namespace: string): void {
    setImmediate(() => {
      const t = this.registry.lookup('', 'v1', 'serviceaccounts');
      if (this.stopped || !t || this.store.get(t.storageKey, namespace, 'default')) return;
      try {
        this.rest.create(t, namespace, { metadata: { name: 'default' } }, { fieldManager: 'kube-controller-manager' });
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
      }
    });
  }

  private crdNameOf(storageKey: string): string | undefined {
    const t = this.registry.byStorageKey(storageKey)[0];
    return t?.crd?.name;
  }

  private enqueueObject(storageKey: string, o: KObject): void {
    const m = o.metadata;
    const needsWork = m.deletionTimestamp || (m.ownerReferences ?? []).some((r: KObject) => !this.uids.has(r.uid));
    if (needsWork) this.enqueue({ storageKey, namespace: m.namespace ?? '', name: m.name });
  }

  private enqueue(ref: Ref): void {
    this.queue.add(JSON.stringify(ref));
  }

  private typeOf(storageKey: string): ResourceType | undefined {
    return this.registry.byStorageKey(storageKey)[0];
  }

  private reconcile(ref: Ref): void {
    const obj = this.store.get(ref.storageKey, ref.namespace, ref.name);
    const t = this.typeOf(ref.storageKey);
    if (!obj || !t) return;
    if (!obj.metadata.deletionTimestamp) {
      this.collectIfOrphaned(t, obj);
      return;
    }
    if (t.builtin && t.kind === 'Namespace') {
      this.finalizeNamespace(t, obj);
      return;
    }
    if (t.builtin && t.kind === 'CustomResourceDefinition') {
      this.finalizeCrd(t, obj);
      return;
    }
    const finalizers: string[] = obj.metadata.finalizers ?? [];
    if (finalizers.includes('orphan')) this.orphanDependents(t, obj);
    else if (finalizers.includes('foregroundDeletion')) this.foregroundDelete(t, obj);
  }

  /** Background GC: a dependent whose owners are all gone is deleted. */
  private collectIfOrphaned(t: ResourceType, obj: KObject): void {
    const owners: KObject[] = obj.metadata.ownerReferences ?? [];
    if (!owners.length) return;
    const alive = owners.filter((o) => this.uids.has(o.uid));
    if (alive.length === owners.length) return;
    if (alive.length) {
      const next = { ...obj, metadata: { ...obj.metadata, ownerReferences: alive } };
      this.rest.commitUpdate(t, obj, next, { fieldManager: 'generic-garbage-collector' });
      return;
    }
    // Owners in foreground deletion wait for dependents: propagate foreground.
    this.rest.delete(t, obj.metadata.namespace ?? '', obj.metadata.name, { propagationPolicy: 'Background' });
  }

  private removeFinalizer(t: ResourceType, obj: KObject, finalizer: string): void {
    const next = {
      ...obj,
      metadata: { ...obj.metadata, finalizers: (obj.metadata.finalizers ?? []).filter((f: string) => f !== finalizer) },
    };
    this.rest.commitUpdate(t, obj, next, { fieldManager: '' });
  }

  private orphanDependents(t: ResourceType, owner: KObject): void {
    for (const dep of [...(this.dependents.get(owner.metadata.uid)?.values() ?? [])]) {
      const o = this.store.get(dep.storageKey, dep.namespace, dep.name);
      const dt = this.typeOf(dep.storageKey);
      if (!o || !dt) continue;
      const refs = (o.metadata.ownerReferences ?? []).filter((r: KObject) => r.uid !== owner.metadata.uid);
      const meta = { ...o.metadata, ownerReferences: refs };
      if (!refs.length) delete meta.ownerReferences;
      this.rest.commitUpdate(dt, o, { ...o, metadata: meta }, { fieldManager: 'generic-garbage-collector' });
    }
    this.removeFinalizer(t, owner, 'orphan');
  }

  private foregroundDelete(t: ResourceType, owner: KObject): void {
    const deps = [...(this.dependents.get(owner.metadata.uid)?.values() ?? [])];
    let blocking = 0;
    for (const dep of deps) {
      const o = this.store.get(dep.storageKey, dep.namespace, dep.name);
      const dt = this.typeOf(dep.storageKey);
      if (!o || !dt) continue;
      const ref = (o.metadata.ownerReferences ?? []).find((r: KObject) => r.uid === owner.metadata.uid);
      if (ref?.blockOwnerDeletion) blocking++;
      if (!o.metadata.deletionTimestamp)
        this.rest.delete(dt, dep.namespace, dep.name, { propagationPolicy: 'Foreground' });
    }
    if (!blocking) this.removeFinalizer(t, owner, 'foregroundDeletion');
  }

  private finalizeNamespace(t: ResourceType, ns: KObject): void {
    const name = ns.metadata.name;
    let remaining = 0;
    for (const rt of this.registry.types()) {
      if (!rt.namespaced) continue;
      if (rt !== this.typeOf(rt.storageKey)) continue; // one version per storage
      for (const o of this.store.list(rt.storageKey, name)) {
        remaining++;
        if (!o.metadata.deletionTimestamp) {
          try {
            this.rest.delete(rt, name, o.metadata.name, { propagationPolicy: 'Background' });
          } catch (err) {
            if (!(err instanceof ApiError)) throw err;
          }
        }
      }
    }
    if (remaining && this.anyLeft(name)) return;
    const specFinalizers: string[] = ns.spec?.finalizers ?? [];
    if (specFinalizers.includes(NS_FINALIZER)) {
      const next = { ...ns, spec: { ...ns.spec, finalizers: specFinalizers.filter((f) => f !== NS_FINALIZER) } };
      const updated = this.rest.commitUpdate(t, ns, next, { fieldManager: '' }).object;
      if (updated.spec?.finalizers?.length) return;
      ns = this.store.get(t.storageKey, '', name) ?? ns;
    } else if (specFinalizers.length) return;
    if (!ns.metadata.finalizers?.length && this.store.get(t.storageKey, '', name))
      this.store.remove(t.storageKey, '', name);
  }

  private anyLeft(ns: string): boolean {
    return this.registry.types().some((rt) => rt.namespaced && this.store.count(rt.storageKey, ns) > 0);
  }

  private finalizeCrd(t: ResourceType, crd: KObject): void {
    const storageKey = `${crd.spec.group}/${crd.spec.names.plural}`;
    const crType =
      this.registry.byStorageKey(storageKey)[0] ??
      typesOfCrd({ ...crd, metadata: { ...crd.metadata, deletionTimestamp: undefined } })[0];
    const left = this.store.list(storageKey);
    if (!crd.status?.conditions?.some((c: KObject) => c.type === 'Terminating')) {
      const conditions = [
        ...(crd.status?.conditions ?? []).filter((c: KObject) => c.type !== 'Terminating'),
        {
          type: 'Terminating',
          status: 'True',
          lastTransitionTime: nowTimestamp(),
          reason: 'InstanceDeletionInProgress',
          message: 'CustomResource deletion is in progress',
        },
      ];
      this.rest.commitUpdate(t, crd, { ...crd, status: { ...crd.status, conditions } }, { fieldManager: '' }, 'status');
      return; // the status write re-queues this CRD
    }
    if (crType) {
      for (const o of left) {
        if (!o.metadata.deletionTimestamp)
          this.rest.delete(crType, o.metadata.namespace ?? '', o.metadata.name, { propagationPolicy: 'Background' });
      }
    }
    if (this.store.count(storageKey) > 0) return;
    this.removeFinalizer(t, crd, CRD_FINALIZER);
  }
}

/** CRD status as the apiextensions controllers set it once names are accepted. */
export function crdStatus(crd: KObject): KObject {
  const now = nowTimestamp();
  const names = crd.spec?.names ?? {};
  const accepted: KObject = {
    plural: names.plural,
    singular: names.singular ?? String(names.kind ?? '').toLowerCase(),
    kind: names.kind,
    listKind: names.listKind ?? `${names.kind}List`,
  };
  if (names.shortNames) accepted.shortNames = names.shortNames;
  if (names.categories) accepted.categories = names.categories;
  const storage = (crd.spec?.versions ?? []).find((v: KObject) => v.storage)?.name;
  return {
    conditions: [
      {
        type: 'NamesAccepted',
        status: 'True',
        lastTransitionTime: now,
        reason: 'NoConflicts',
        message: 'no conflicts found',
      },
      {
        type: 'Established',
        status: 'True',
        lastTransitionTime: now,
        reason: 'InitialNamesAccepted',
        message: 'the initial names have been accepted',
      },
    ],
    acceptedNames: accepted,
    storedVersions: storage ? [storage] : [],
  };
}
