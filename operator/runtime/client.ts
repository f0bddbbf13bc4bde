// A small typed Kubernetes client over KubeTransport: get/list/create/replace/delete,
// server-side apply, merge patch and status writes through the /status subresource.
// Every call takes a KindRef or infers it from the object's apiVersion/kind (known kinds are
// built in; others are looked up once through discovery).
import { InvalidError, isConflict } from './errors.js';
import { apiVersionOf, Kinds, resourcePath, splitApiVersion, type KindRef, type KubeObject } from './kinds.js';
import { semanticEqual } from './status.js';
import type { KubeTransport, Query } from './transport.js';

export const FIELD_MANAGER = 'modelship';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface ApplyOptions {
  fieldManager?: string;
  force?: boolean;
  subresource?: 'status';
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  /** Precondition: delete only this incarnation of the object. */
  uid?: string;
}

export interface StatusUpdateOptions<T> {
  /** Re-computes the desired status from a freshly read object after a conflict. */
  recompute?: (fresh: T) => unknown;
  /** Conflict retries before giving up (the ConflictError is thrown then). */
  retries?: number;
}

/** A write the API server accepted: the object it stored, and the resourceVersion a PUT replaced. */
export interface AcceptedWrite {
  kind: KindRef;
  obj: KubeObject;
  /** resourceVersion the request carried (a compare-and-swap PUT); absent for creates and patches. */
  baseVersion?: string;
}

export class KubeClient {
  private readonly kinds = new Map<string, KindRef>();
  private readonly writeListeners: Array<(w: AcceptedWrite) => void> = [];
  /** Discovery of one group/version in flight, shared by concurrent callers. */
  private readonly discovering = new Map<string, Promise<void>>();

  constructor(readonly transport: KubeTransport) {
    for (const k of Object.values(Kinds)) this.kinds.set(`${apiVersionOf(k)}|${k.kind}`, k);
  }

  /** Tells `listener` about every write of this client the API server accepted (caches, expectations). */
  onWrite(listener: (w: AcceptedWrite) => void): () => void {
    this.writeListeners.push(listener);
    return () => {
      const i = this.writeListeners.indexOf(listener);
      if (i >= 0) this.writeListeners.splice(i, 1);
    };
  }

  private accepted<T extends KubeObject>(kind: KindRef, obj: T, baseVersion?: string): T {
    for (const l of this.writeListeners) l({ kind, obj, baseVersion });
    return obj;
  }

  async get<T extends KubeObject>(kind: KindRef, namespace: string | undefined, name: string): Promise<T> {
    return this.transport.request<T>({ method: 'GET', path: resourcePath(kind, namespace, name) });
  }

  /** Lists all pages; the result's resourceVersion is where a watch should start. */
  async list<T extends KubeObject>(
    kind: KindRef,
    opts: ListOptions = {},
    signal?: AbortSignal,
  ): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined = opts.continue;
    for (;;) {
      const query: Query = {
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: cont ? undefined : opts.resourceVersion,
        limit: opts.limit ?? 500,
        continue: cont,
      };
      const page = await this.transport.request<{
        items?: T[];
        metadata?: { resourceVersion?: string; continue?: string };
      }>({ method: 'GET', path: resourcePath(kind, opts.namespace), query, signal });
      const apiVersion = apiVersionOf(kind);
      // List items carry no apiVersion/kind; fill them in so cached objects are self-describing.
      for (const item of page.items ?? []) items.push({ apiVersion, kind: kind.kind, ...item });
      cont = page.metadata?.continue || undefined;
      if (!cont) return { items, resourceVersion: page.metadata?.resourceVersion ?? '' };
    }
  }

  async create<T extends KubeObject>(obj: T): Promise<T> {
    const kind = await this.kindOf(obj);
    return this.accepted(
      kind,
      await this.transport.request<T>({ method: 'POST', path: resourcePath(kind, obj.metadata?.namespace), body: obj }),
    );
  }

  /** PUT of the whole object; its metadata.resourceVersion makes it a compare-and-swap. */
  async replace<T extends KubeObject>(obj: T): Promise<T> {
    const kind = await this.kindOf(obj);
    const stored = await this.transport.request<T>({
      method: 'PUT',
      path: resourcePath(kind, obj.metadata?.namespace, nameOf(obj)),
      body: obj,
    });
    return this.accepted(kind, stored, obj.metadata?.resourceVersion);
  }

  async delete(kind: KindRef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: opts.propagationPolicy ?? 'Background',
      ...(opts.uid ? { preconditions: { uid: opts.uid } } : {}),
    };
    await this.transport.request({ method: 'DELETE', path: resourcePath(kind, namespace, name), body });
  }

  /**
   * Server-side apply: the server merges our intent with other writers' fields, and our field
   * manager owns exactly what we send. JSON is valid YAML, so the body is plain JSON.
   */
  async apply<T extends KubeObject>(obj: T, opts: ApplyOptions = {}): Promise<T> {
    const kind = await this.kindOf(obj);
    return this.transport.request<T>({
      method: 'PATCH',
      path: resourcePath(kind, obj.metadata?.namespace, nameOf(obj), opts.subresource),
      query: { fieldManager: opts.fieldManager ?? FIELD_MANAGER, force: opts.force ?? true },
      body: obj,
      contentType: 'application/apply-patch+yaml',
    });
  }

  /** RFC 7386 JSON merge patch (of the object; status is written through updateStatus/setStatus). */
  async patchMerge<T extends KubeObject>(
    kind: KindRef,
    namespace: string | undefined,
    name: string,
    patch: unknown,
  ): Promise<T> {
    return this.transport.request<T>({
      method: 'PATCH',
      path: resourcePath(kind, namespace, name),
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  /**
   * PUT to the /status subresource. On a conflict the object is read again, the status
   * re-computed (or, without `recompute`, the same status re-applied) and written again, unless
   * the fresh object already has it. Returns the object as stored.
   */
  async updateStatus<T extends KubeObject>(obj: T, opts: StatusUpdateOptions<T> = {}): Promise<T> {
    const kind = await this.kindOf(obj);
    const namespace = obj.metadata?.namespace;
    const name = nameOf(obj);
    const retries = opts.retries ?? 5;
    let candidate = obj;
    for (let attempt = 0; ; attempt++) {
      try {
        const stored = await this.transport.request<T>({
          method: 'PUT',
          path: resourcePath(kind, namespace, name, 'status'),
          body: candidate,
        });
        return this.accepted(kind, stored, candidate.metadata?.resourceVersion);
      } catch (e) {
        if (!isConflict(e) || attempt >= retries) throw e;
        const fresh = await this.get<T>(kind, namespace, name);
        const status = opts.recompute ? opts.recompute(fresh) : obj.status;
        if (status === undefined || semanticEqual(fresh.status, status)) return fresh;
        candidate = { ...fresh, status };
      }
    }
  }

  /** Writes `status` only when it differs from `current.status`; returns the stored object. */
  async setStatus<T extends KubeObject>(
    current: T,
    status: unknown,
    opts: StatusUpdateOptions<T> = {},
  ): Promise<{ obj: T; written: boolean }> {
    if (semanticEqual(current.status, status)) return { obj: current, written: false };
    const obj = await this.updateStatus({ ...current, status }, opts);
    return { obj, written: true };
  }

  /** The KindRef of an object: built-in table first, then discovery (cached). */
  async kindOf(obj: KubeObject): Promise<KindRef> {
    if (!obj.apiVersion || !obj.kind) throw new InvalidError('object needs apiVersion and kind', 422, 'Invalid');
    return this.resolveKind(obj.apiVersion, obj.kind);
  }

  registerKind(kind: KindRef): void {
    this.kinds.set(`${apiVersionOf(kind)}|${kind.kind}`, kind);
  }

  async resolveKind(apiVersion: string, kindName: string): Promise<KindRef> {
    const cached = this.kinds.get(`${apiVersion}|${kindName}`);
    if (cached) return cached;
    let pending = this.discovering.get(apiVersion);
    if (!pending) {
      pending = this.discover(apiVersion).finally(() => this.discovering.delete(apiVersion));
      this.discovering.set(apiVersion, pending);
    }
    await pending;
    const found = this.kinds.get(`${apiVersion}|${kindName}`);
    if (!found) throw new InvalidError(`no resource for kind ${kindName} in ${apiVersion}`, 404, 'NotFound');
    return found;
  }

  private async discover(apiVersion: string): Promise<void> {
    const { group, version } = splitApiVersion(apiVersion);
    const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
    const list = await this.transport.request<{
      resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
    }>({ method: 'GET', path });
    for (const r of list.resources ?? []) {
      if (!r.name.includes('/'))
        this.registerKind({ group, version, plural: r.name, kind: r.kind, namespaced: r.namespaced });
    }
  }
}

function nameOf(obj: KubeObject): string {
  const name = obj.metadata?.name;
  if (!name) throw new InvalidError(`${obj.kind ?? 'object'} needs metadata.name`, 422, 'Invalid');
  return name;
}
