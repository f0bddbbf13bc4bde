// The REST semantics of one resource type, independent of HTTP: create/get/list/update/patch/
// delete with kube-apiserver's metadata rules (uid, resourceVersion preconditions, generation,
// status subresource, finalizers, deletionTimestamp) and field management. The HTTP layer
// and the in-process controllers (GC, namespaces, CRDs) both go through it.
import { randomBytes, randomUUID } from 'node:crypto';
import yaml from 'js-yaml';
import { ApiError, errors } from './errors.js';
import { applyBuiltinDefaults, ClusterIpAllocator, initialStatus, prepareJobCreate } from './builtins.js';
import { applyConfig, recordUpdate, type ManagedFieldsEntry } from './managed.js';
import { jsonPatch, mergePatch, PatchError, patchFailure, strategicMergePatch } from './patch.js';
import { apiVersionOf, type KObject, type Registry, type ResourceType } from './registry.js';
import { checkFieldSelector, fieldsMatch, labelsMatch, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Store } from './store.js';
import { admit, type FieldValidation } from './validation.js';
import { gracefulDeletionMeta, podDeletionGrace } from './pod-deletion.js';

export interface WriteOptions {
  fieldManager?: string;
  /** Set for PATCH / apply: strict decoding errors then carry no decoder prefix, as upstream. */
  viaPatch?: boolean;
  fieldValidation?: FieldValidation;
  dryRun?: boolean;
  force?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  /** Pods only: seconds the kubelet gets to stop it; 0 deletes at once. */
  gracePeriodSeconds?: number;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface WriteResult {
  object: KObject;
  warnings: string[];
  created?: boolean;
}

/** Hooks controllers register to react synchronously inside a write (CRD registration). */
export interface RestHooks {
  beforeCreate?(t: ResourceType, obj: KObject): void;
  afterWrite?(t: ResourceType, obj: KObject, old: KObject | undefined): void;
}

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export function nowTimestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';
function randomSuffix(): string {
  const bytes = randomBytes(5);
  return [...bytes].map((b) => NAME_CHARS[b % NAME_CHARS.length]).join('');
}

/** Content that makes generation bump: everything but metadata (and status when it is a subresource). */
function specSignature(t: ResourceType, obj: KObject): string {
  const { metadata: _m, status, apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(t.status || t.crd ? rest : { ...rest, status });
}

function stripVolatile(obj: KObject): string {
  const { resourceVersion: _r, managedFields: _mf, ...meta } = obj.metadata ?? {};
  return JSON.stringify({ ...obj, metadata: meta });
}

export class Rest {
  constructor(
    private readonly store: Store,
    readonly registry: Registry,
    readonly ips: ClusterIpAllocator,
    private readonly hooks: RestHooks = {},
  ) {}

  gr(t: ResourceType) {
    return { group: t.group, resource: t.plural };
  }

  /** The stored object as the requested version presents it (conversion strategy None). */
  present(t: ResourceType, obj: KObject): KObject {
    const apiVersion = apiVersionOf(t);
    return obj.apiVersion === apiVersion && obj.kind === t.kind ? obj : { ...obj, apiVersion, kind: t.kind };
  }

  private checkNamespace(t: ResourceType, ns: string): void {
    if (!t.namespaced) return;
    if (!ns) throw errors.badRequest('the server could not find the requested resource');
  }

  get(t: ResourceType, ns: string, name: string): KObject {
    const obj = this.store.get(t.storageKey, t.namespaced ? ns : '', name);
    if (!obj) throw errors.notFound(this.gr(t), name);
    return this.present(t, obj);
  }

  find(t: ResourceType, ns: string, name: string): KObject | undefined {
    return this.store.get(t.storageKey, t.namespaced ? ns : '', name);
  }

  /** Matching objects, sorted by namespace/name, paginated with an opaque continue token. */
  list(
    t: ResourceType,
    ns: string | undefined,
    q: ListQuery,
  ): { items: KObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number } {
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector);
    const selectable = this.selectableFields(t);
    checkFieldSelector(t.builtin ? t.kind : '', fields, selectable);
    const all = this.store.list(t.storageKey, t.namespaced ? ns : undefined);
    let start = 0;
    if (q.continue) {
      const { start: after, rv: tokenRv } = decodeContinue(q.continue);
      if (tokenRv < this.store.oldestRv) {
        throw errors.gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      start = all.findIndex((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > after);
      if (start < 0) start = all.length;
    }
    const items: KObject[] = [];
    let i = start;
    const limit = q.limit && q.limit > 0 ? q.limit : Infinity;
    for (; i < all.length && items.length < limit; i++) {
      const o = all[i];
      if (labels.length && !labelsMatch(labels, o.metadata.labels)) continue;
      if (fields.length && !fieldsMatch(t.kind, fields, o, selectable)) continue;
      items.push(this.present(t, o));
    }
    const rv = String(this.store.rv);
    if (i < all.length && items.length >= limit) {
      const last = items[items.length - 1];
      const token = encodeContinue(`${last.metadata.namespace ?? ''}/${last.metadata.name}`, rv);
      const remaining = labels.length || fields.length ? undefined : all.length - i;
      return { items, resourceVersion: rv, continue: token, remainingItemCount: remaining };
    }
    return { items, resourceVersion: rv };
  }

  selectableFields(t: ResourceType): string[] | undefined {
    const sf = t.crd?.version.selectableFields as Array<{ jsonPath: string }> | undefined;
    return sf?.map((f) => f.jsonPath.replace(/^\./, ''));
  }

  create(t: ResourceType, ns: string, body: KObject, opts: WriteOptions = {}): WriteResult {
    this.checkNamespace(t, ns);
    const obj = this.decode(t, body);
    const meta = (obj.metadata ??= {});
    if (t.namespaced) {
      if (meta.namespace && meta.namespace !== ns)
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
      meta.namespace = ns;
    } else delete meta.namespace;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name) {
      throw errors.invalid(t.group ? `${t.kind}.${t.group}` : t.kind, '', t.group, [
        {
          reason: 'FieldValueRequired',
          message: 'Required value: name or generateName is required',
          field: 'metadata.name',
        },
      ]);
    }
    if (t.namespaced) this.checkNamespaceActive(t, ns, meta.name);
    if (this.store.get(t.storageKey, t.namespaced ? ns : '', meta.name))
      throw errors.alreadyExists(this.gr(t), meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = nowTimestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    delete meta.selfLink;
    if (t.generation) meta.generation = 1;
    else delete meta.generation;
    if (t.status) {
      const initial = t.builtin ? initialStatus(t.kind, obj) : undefined;
      if (initial) obj.status = initial;
      else delete obj.status;
    }
    if (t.builtin) {
      applyBuiltinDefaults(t.kind, obj);
      if (t.kind === 'Job') prepareJobCreate(obj);
      if (t.kind === 'Namespace') this.prepareNamespace(obj);
    }
    const warnings = admit(t, obj, undefined, opts.fieldValidation ?? 'Ignore', undefined, !opts.viaPatch);
    this.hooks.beforeCreate?.(t, obj);
    if (t.kind === 'Service' && t.builtin) this.allocateServiceIp(obj);
    if (opts.fieldManager !== '' && !meta.managedFields) {
      meta.managedFields = recordUpdate(undefined, undefined, obj, opts.fieldManager ?? 'unknown', apiVersionOf(t));
    }
    if (opts.dryRun) return { object: this.present(t, obj), warnings, created: true };
    const stored = this.store.put(t.storageKey, obj);
    this.hooks.afterWrite?.(t, stored, undefined);
    return { object: this.present(t, stored), warnings, created: true };
  }

  private prepareNamespace(obj: KObject): void {
    obj.spec = { finalizers: ['kubernetes'], ...(obj.spec ?? {}) };
    obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
  }

  private checkNamespaceActive(t: ResourceType, ns: string, name: string): void {
    const nsObj = this.store.get('/namespaces', '', ns);
    if (!nsObj) throw errors.notFound({ group: '', resource: 'namespaces' }, ns);
    if (nsObj.metadata.deletionTimestamp) {
      throw errors.forbidden(
        this.gr(t),
        name,
        `unable to create new content in namespace ${ns} because it is being terminated`,
        [
          {
            reason: 'NamespaceTerminating',
            message: `namespace ${ns} is being terminated`,
            field: 'metadata.namespace',
          },
        ],
      );
    }
  }

  private allocateServiceIp(obj: KObject): void {
    const spec = obj.spec ?? {};
    if (spec.type === 'ExternalName' || spec.clusterIP === 'None') {
      if (spec.clusterIP === 'None') spec.clusterIPs = ['None'];
      return;
    }
    if (spec.clusterIP) {
      if (this.ips.isUsed(spec.clusterIP)) {
        throw errors.invalid('Service', obj.metadata.name, '', [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.clusterIPs',
            message: `Invalid value: []string{"${spec.clusterIP}"}: failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`,
          },
        ]);
      }
      this.ips.reserve(spec.clusterIP);
    } else spec.clusterIP = this.ips.allocate();
    spec.clusterIPs = [spec.clusterIP];
  }

  /** Body → object of this type: apiVersion/kind checked and set. */
  private decode(t: ResourceType, body: KObject): KObject {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw errors.badRequest("Object 'Kind' is missing in request body");
    if (body.kind && body.kind !== t.kind) {
      throw errors.badRequest(
        `the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(t)})`,
      );
    }
    return { ...body, apiVersion: apiVersionOf(t), kind: t.kind, metadata: { ...(body.metadata ?? {}) } };
  }

  /** PUT semantics: optimistic concurrency on resourceVersion, status subresource rules. */
  update(
    t: ResourceType,
    ns: string,
    name: string,
    body: KObject,
    opts: WriteOptions = {},
    subresource?: 'status',
  ): WriteResult {
    const old = this.find(t, ns, name);
    if (!old) throw errors.notFound(this.gr(t), name);
    const obj = this.decode(t, body);
    if (obj.metadata.name && obj.metadata.name !== name)
      throw errors.badRequest(
        `the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`,
      );
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw errors.conflict(this.gr(t), name);
    return this.commitUpdate(t, old, obj, opts, subresource);
  }

  /** Shared tail of update/patch/apply: merges metadata rules, admits, stores. */
  commitUpdate(
    t: ResourceType,
    old: KObject,
    obj: KObject,
    opts: WriteOptions,
    subresource?: 'status',
    managedFields?: ManagedFieldsEntry[],
  ): WriteResult {
    let next: KObject;
    if (subresource === 'status') {
      next = { ...old, metadata: { ...old.metadata } };
      if (obj.status !== undefined) next.status = obj.status;
      else delete next.status;
    } else {
      next = { ...obj, apiVersion: old.apiVersion ?? obj.apiVersion, kind: t.kind };
      const m = (next.metadata = { ...obj.metadata });
      for (const k of [
        'uid',
        'creationTimestamp',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
        'namespace',
        'name',
      ]) {
        if (old.metadata[k] === undefined) delete m[k];
        else m[k] = old.metadata[k];
      }
      delete m.selfLink;
      if (t.status) {
        if (old.status !== undefined) next.status = old.status;
        else delete next.status;
      }
      if (t.builtin) applyBuiltinDefaults(t.kind, next);
      if (t.kind === 'Service' && t.builtin) this.keepServiceIp(old, next);
      if (old.metadata.deletionTimestamp) this.checkNoNewFinalizers(t, old, next);
    }
    next.metadata.resourceVersion = old.metadata.resourceVersion;
    const warnings = admit(t, next, old, opts.fieldValidation ?? 'Ignore', subresource, !opts.viaPatch);
    if (t.generation && specSignature(t, next) !== specSignature(t, old))
      next.metadata.generation = (old.metadata.generation ?? 0) + 1;
    if (managedFields) next.metadata.managedFields = managedFields;
    else if (opts.fieldManager !== '') {
      next.metadata.managedFields = recordUpdate(
        old.metadata.managedFields,
        old,
        next,
        opts.fieldManager ?? 'unknown',
        apiVersionOf(t),
        subresource,
      );
    }
    if (stripVolatile(next) === stripVolatile(old)) return { object: this.present(t, old), warnings };
    if (opts.dryRun) return { object: this.present(t, next), warnings };
    if (old.metadata.deletionTimestamp && !next.metadata.finalizers?.length) {
      const final = this.store.remove(t.storageKey, old.metadata.namespace ?? '', old.metadata.name);
      this.afterRemove(t, final!);
      return { object: this.present(t, final!), warnings };
    }
    const stored = this.store.put(t.storageKey, next);
    this.hooks.afterWrite?.(t, stored, old);
    return { object: this.present(t, stored), warnings };
  }

  private checkNoNewFinalizers(t: ResourceType, old: KObject, next: KObject): void {
    const before = new Set<string>(old.metadata.finalizers ?? []);
    const added = (next.metadata.finalizers ?? []).filter((f: string) => !before.has(f));
    if (added.length) {
      const list = added.map((f: string) => `"${f}"`).join(', ');
      throw errors.invalid(t.group ? `${t.kind}.${t.group}` : t.kind, old.metadata.name, t.group, [
        {
          reason: 'FieldValueForbidden',
          field: 'metadata.finalizers',
          message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${list}}`,
        },
      ]);
    }
  }

  private keepServiceIp(old: KObject, next: KObject): void {
    const oldIp = old.spec?.clusterIP;
    next.spec ??= {};
    if (!next.spec.clusterIP && oldIp) {
      next.spec.clusterIP = oldIp;
      next.spec.clusterIPs = old.spec.clusterIPs;
    } else if (oldIp && next.spec.clusterIP !== oldIp) {
      throw errors.invalid('Service', old.metadata.name, '', [
        {
          reason: 'FieldValueInvalid',
          field: 'spec.clusterIPs[0]',
          message: `Invalid value: []string{"${next.spec.clusterIP}"}: may not change once set`,
        },
      ]);
    }
  }

  patch(
    t: ResourceType,
    target: { ns: string; name: string; subresource?: 'status' },
    body: { contentType: string; raw: string },
    opts: WriteOptions = {},
  ): WriteResult {
    const { ns, name, subresource } = target;
    const { contentType, raw } = body;
    const type = contentType.split(';')[0].trim();
    if (type === PATCH_TYPES.apply) return this.apply(t, ns, name, raw, opts, subresource);
    const accepted = t.builtin
      ? [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply, PATCH_TYPES.strategic]
      : [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply];
    if (!accepted.includes(type)) throw errors.unsupportedMediaType(accepted);
    const old = this.find(t, ns, name);
    if (!old) throw errors.notFound(this.gr(t), name);
    let patch: any;
    try {
      patch = JSON.parse(raw);
    } catch (err) {
      throw new ApiError(400, 'BadRequest', `error decoding patch: ${(err as Error).message}`, undefined, {
        cause: err,
      });
    }
    const current = this.present(t, old);
    let patched: KObject;
    try {
      if (type === PATCH_TYPES.json) patched = jsonPatch(current, patch);
      else if (type === PATCH_TYPES.merge) patched = mergePatch(current, patch);
      else patched = strategicMergePatch(current, patch);
    } catch (err) {
      if (err instanceof PatchError) throw patchFailure(err);
      throw err;
    }
    if (!patched || typeof patched !== 'object') throw errors.badRequest('patched object is not an object');
    const rv = patched.metadata?.resourceVersion;
    if (rv && rv !== old.metadata.resourceVersion) throw errors.conflict(this.gr(t), name);
    if (patched.metadata?.name !== undefined && patched.metadata.name !== name)
      throw errors.badRequest(
        `the name of the object (${patched.metadata.name}) does not match the name on the URL (${name})`,
      );
    patched.metadata = { ...patched.metadata, resourceVersion: old.metadata.resourceVersion };
    return this.commitUpdate(t, old, patched, { ...opts, viaPatch: true }, subresource);
  }

  /** Server-side apply: create-if-absent, fieldManager required, conflicts unless force. */
  apply(
    t: ResourceType,
    ns: string,
    name: string,
    raw: string,
    opts: WriteOptions,
    subresource?: 'status',
  ): WriteResult {
    if (!opts.fieldManager)
      throw errors.badRequest(
        'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
      );
    let config: KObject;
    try {
      config = yaml.load(raw) as KObject;
    } catch (err) {
      throw new ApiError(400, 'BadRequest', `error decoding YAML: ${(err as Error).message}`, undefined, {
        cause: err,
      });
    }
    if (!config || typeof config !== 'object')
      throw errors.badRequest('error decoding YAML: apply patch is not an object');
    if (config.apiVersion && config.apiVersion !== apiVersionOf(t)) {
      throw errors.badRequest(
        `the API version in the data (${config.apiVersion}) does not match the expected API version (${apiVersionOf(t)})`,
      );
    }
    if (config.kind && config.kind !== t.kind)
      throw errors.badRequest(`the kind in the data (${config.kind}) does not match the expected kind (${t.kind})`);
    if (config.metadata?.name && config.metadata.name !== name)
      throw errors.badRequest(
        `the name of the object (${config.metadata.name}) does not match the name on the URL (${name})`,
      );
    const old = this.find(t, ns, name);
    const merge = (base: KObject, cfg: KObject) => strategicMergePatch(base, cfg);
    const result = applyConfig(old ? this.present(t, old) : undefined, config, {
      manager: opts.fieldManager,
      apiVersion: apiVersionOf(t),
      force: !!opts.force,
      mergeInto: merge,
      subresource,
    });
    if ('conflicts' in result) {
      const n = result.conflicts.length;
      const msg = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${result.conflicts.map((c) => `conflict with "${c.manager}"${c.apiVersion ? ` using ${c.apiVersion}` : ''}: ${c.path}`).join('\n')}`;
      throw new ApiError(409, 'Conflict', msg, {
        causes: result.conflicts.map((c) => ({
          reason: 'FieldManagerConflict',
          message: `conflict with "${c.manager}"${c.apiVersion ? ` using ${c.apiVersion}` : ''}`,
          field: c.path,
        })),
      });
    }
    const obj = result.object;
    obj.apiVersion = apiVersionOf(t);
    obj.kind = t.kind;
    obj.metadata = { ...(obj.metadata ?? {}), name };
    if (!old) {
      if (subresource) throw errors.notFound(this.gr(t), name);
      obj.metadata.managedFields = result.managedFields;
      return this.create(t, ns, obj, { ...opts, fieldManager: '', viaPatch: true });
    }
    if (config.metadata?.resourceVersion && config.metadata.resourceVersion !== old.metadata.resourceVersion)
      throw errors.conflict(this.gr(t), name);
    obj.metadata.resourceVersion = old.metadata.resourceVersion;
    return this.commitUpdate(t, old, obj, { ...opts, viaPatch: true }, subresource, result.managedFields);
  }

  /**
   * DELETE: preconditions, then either the object goes at once or, with finalizers pending
   * (including the GC's orphan/foregroundDeletion), it gets a deletionTimestamp.
   */
  delete(t: ResourceType, ns: string, name: string, opts: DeleteOptions = {}): { object: KObject; deleted: boolean } {
    const old = this.find(t, ns, name);
    if (!old) throw errors.notFound(this.gr(t), name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw errors.conflict(
        this.gr(t),
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw errors.conflict(
        this.gr(t),
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    }
    const policy =
      opts.propagationPolicy ??
      (opts.orphanDependents === true
        ? 'Orphan'
        : opts.orphanDependents === false
          ? 'Background'
          : t.defaultPropagation);
    const finalizers: string[] = [...(old.metadata.finalizers ?? [])];
    const addFinalizer = (f: string) => {
      if (!finalizers.includes(f)) finalizers.push(f);
    };
    if (policy === 'Foreground' && this.dependentsOf?.(old.metadata.uid)) addFinalizer('foregroundDeletion');
    if (policy === 'Orphan' && this.dependentsOf?.(old.metadata.uid)) addFinalizer('orphan');
    const extra = this.deletionFinalizers?.(t, old) ?? [];
    for (const f of extra) addFinalizer(f);
    const grace = this.podGrace(t, old, opts.gracePeriodSeconds);
    if (opts.dryRun) return { object: this.present(t, old), deleted: finalizers.length === 0 && grace === 0 };
    if (grace > 0) return this.deleteGracefully(t, old, grace, finalizers);
    if (finalizers.length || (t.kind === 'Namespace' && t.builtin)) {
      if (old.metadata.deletionTimestamp && finalizers.length === (old.metadata.finalizers ?? []).length)
        return { object: this.present(t, old), deleted: false };
      const next: KObject = {
        ...old,
        metadata: {
          ...old.metadata,
          finalizers,
          deletionTimestamp: old.metadata.deletionTimestamp ?? nowTimestamp(),
          deletionGracePeriodSeconds: 0,
        },
      };
      if (!finalizers.length) delete next.metadata.finalizers;
      if (t.kind === 'Namespace' && t.builtin) next.status = { ...(old.status ?? {}), phase: 'Terminating' };
      const stored = this.store.put(t.storageKey, next);
      this.hooks.afterWrite?.(t, stored, old);
      return { object: this.present(t, stored), deleted: false };
    }
    const final = this.store.remove(t.storageKey, old.metadata.namespace ?? '', name)!;
    this.afterRemove(t, final);
    return { object: this.present(t, final), deleted: true };
  }

  /** The grace a pod's kubelet gets to stop it (0 for every other kind: deleted at once). */
  private podGrace(t: ResourceType, old: KObject, requested: number | undefined): number {
    if (!(t.builtin && t.kind === 'Pod')) return 0;
    const nodes = this.registry.lookup('', 'v1', 'nodes');
    return podDeletionGrace(old, requested, (name) => !!nodes && !!this.find(nodes, '', name));
  }

  /** A pod left for its kubelet: Terminating until it deletes it with grace 0. */
  private deleteGracefully(
    t: ResourceType,
    old: KObject,
    grace: number,
    finalizers: string[],
  ): { object: KObject; deleted: boolean } {
    const meta = gracefulDeletionMeta(old.metadata, grace, Date.now());
    if (!meta) return { object: this.present(t, old), deleted: false };
    if (finalizers.length) meta.finalizers = finalizers;
    const stored = this.store.put(t.storageKey, { ...old, metadata: meta });
    this.hooks.afterWrite?.(t, stored, old);
    return { object: this.present(t, stored), deleted: false };
  }

  /** Set by the GC: whether an owner uid has dependents (decides orphan/foreground finalizers). */
  dependentsOf?: (uid: string) => boolean;
  /** Set by controllers: finalizers a kind gets on deletion (CRD cleanup). */
  deletionFinalizers?: (t: ResourceType, obj: KObject) => string[];

  private afterRemove(t: ResourceType, final: KObject): void {
    if (t.kind === 'Service' && t.builtin) this.ips.release(final.spec?.clusterIP);
  }

  deleteCollection(t: ResourceType, ns: string | undefined, q: ListQuery, opts: DeleteOptions): KObject[] {
    const { items } = this.list(t, ns, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const out: KObject[] = [];
    for (const item of items) {
      try {
        out.push(this.delete(t, item.metadata.namespace ?? '', item.metadata.name, opts).object);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    return out;
  }
}

function encodeContinue(after: string, rv: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start: after })).toString('base64url');
}

function decodeContinue(token: string): { start: string; rv: number } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof parsed.start !== 'string' || typeof parsed.rv !== 'number') throw new Error('no start');
    return { start: parsed.start, rv: parsed.rv };
  } catch (err) {
    throw new ApiError(
      400,
      'BadRequest',
      'continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)',
      undefined,
      { cause: err },
    );
  }
}
