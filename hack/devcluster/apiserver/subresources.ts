// Subresources and virtual kinds served next to the stored objects: `scale` (autoscaling/v1
// Scale over a kind's replica fields) and the access/identity reviews.
import { errors } from './errors.js';
import { PATCH_TYPES, type Rest, type WriteOptions } from './rest.js';
import { apiVersionOf, type KObject, type ResourceType } from './registry.js';
import { evalJsonPath } from './tables.js';
import type { Decision, RequestAttributes, RulesReviewStatus, UserInfo } from './rbac.js';

function replicasPaths(t: ResourceType): { spec: string; status: string; selector?: string } {
  const s = t.crd?.version.subresources?.scale;
  if (s) return { spec: s.specReplicasPath, status: s.statusReplicasPath, selector: s.labelSelectorPath };
  return { spec: '.spec.replicas', status: '.status.replicas', selector: undefined };
}

export function scaleOf(t: ResourceType, obj: KObject): KObject {
  const p = replicasPaths(t);
  let selector: string;
  if (p.selector) selector = String(evalJsonPath(obj, p.selector) ?? '');
  else {
    const sel = obj.spec?.selector ?? {};
    selector = Object.entries(sel.matchLabels ?? sel)
      .filter(([, v]) => typeof v === 'string')
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  }
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name, namespace, uid, resourceVersion, creationTimestamp },
    spec: { replicas: Number(evalJsonPath(obj, p.spec) ?? 0) },
    status: { replicas: Number(evalJsonPath(obj, p.status) ?? 0), selector },
  };
}

export function patchScale(contentType: string, raw: string, current: KObject): KObject {
  const type = contentType.split(';')[0].trim();
  const patch = JSON.parse(raw || '{}');
  if (type === PATCH_TYPES.json) {
    // Only replica changes are meaningful on a Scale.
    for (const op of patch) if (op.path === '/spec/replicas') current.spec.replicas = op.value;
    return current;
  }
  return { ...current, spec: { ...current.spec, ...(patch.spec ?? {}) } };
}

export function updateScale(
  rest: Rest,
  t: ResourceType,
  ns: string,
  name: string,
  scale: KObject,
  opts: WriteOptions,
): KObject {
  const old = rest.get(t, ns, name);
  if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== old.metadata.resourceVersion)
    throw errors.conflict({ group: t.group, resource: t.plural }, name);
  const replicas = scale.spec?.replicas;
  if (typeof replicas !== 'number' || replicas < 0) {
    throw errors.invalid('Scale.autoscaling', name, 'autoscaling', [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.replicas',
        message: `Invalid value: ${replicas}: must be greater than or equal to 0`,
      },
    ]);
  }
  const path = replicasPaths(t).spec.replace(/^\./, '').split('.');
  const next = structuredClone(old);
  let cur = next;
  for (const seg of path.slice(0, -1)) cur = cur[seg] ??= {};
  cur[path[path.length - 1]] = replicas;
  return rest.commitUpdate(t, old, next, opts).object;
}

/** What the reviews need: the requester and the server's authorizer. */
export interface ReviewContext {
  user: UserInfo;
  authorize(user: UserInfo, a: RequestAttributes): Decision;
  rulesFor(user: UserInfo, namespace: string): RulesReviewStatus;
}

/** A SubjectAccessReviewSpec's attributes as the authorizer sees them; 422 when neither or both kinds are set. */
function reviewAttributes(kind: string, spec: KObject): RequestAttributes {
  const r = spec.resourceAttributes;
  const n = spec.nonResourceAttributes;
  if (!!r === !!n) {
    throw errors.invalid(`${kind}.authorization.k8s.io`, '', 'authorization.k8s.io', [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.resourceAttributes',
        message: 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
      },
    ]);
  }
  if (n)
    return {
      verb: n.verb ?? '',
      resourceRequest: false,
      path: n.path ?? '',
      apiGroup: '',
      apiVersion: '',
      resource: '',
      subresource: '',
      namespace: '',
      name: '',
    };
  return {
    verb: r.verb ?? '',
    resourceRequest: true,
    path: '',
    apiGroup: r.group ?? '',
    apiVersion: r.version ?? '',
    resource: r.resource ?? '',
    subresource: r.subresource ?? '',
    namespace: r.namespace ?? '',
    name: r.name ?? '',
  };
}

function accessStatus(d: Decision): KObject {
  return d.reason ? { allowed: d.allowed, reason: d.reason } : { allowed: d.allowed };
}

/**
 * Access and identity reviews, answered (never stored) with the real identity and the
 * server's authorizer: the requester for the Self* reviews, spec.user/groups/extra for
 * SubjectAccessReview and LocalSubjectAccessReview (taken literally, no groups added).
 */
export function reviewResponse(t: ResourceType, namespace: string, body: KObject, rc: ReviewContext): KObject {
  const base: KObject = {
    ...body,
    apiVersion: apiVersionOf(t),
    kind: t.kind,
    metadata: { ...(body.metadata ?? {}), ...(namespace ? { namespace } : {}), creationTimestamp: null },
  };
  const spec: KObject = body.spec ?? {};
  switch (t.kind) {
    case 'SelfSubjectRulesReview':
      if (!spec.namespace) throw errors.badRequest('no namespace on request');
      return { ...base, status: rc.rulesFor(rc.user, spec.namespace) };
    case 'SelfSubjectReview': {
      const u = rc.user;
      const userInfo: KObject = { username: u.name };
      if (u.uid) userInfo.uid = u.uid;
      userInfo.groups = u.groups;
      if (u.extra) userInfo.extra = u.extra;
      return { ...base, status: { userInfo } };
    }
    case 'SelfSubjectAccessReview':
      return { ...base, status: accessStatus(rc.authorize(rc.user, reviewAttributes(t.kind, spec))) };
    default: {
      // SubjectAccessReview and LocalSubjectAccessReview.
      if (!spec.user && !(spec.groups ?? []).length) {
        throw errors.invalid(`${t.kind}.authorization.k8s.io`, '', 'authorization.k8s.io', [
          {
            reason: 'FieldValueInvalid',
            field: 'spec.user',
            message: 'Invalid value: "": at least one of user or group must be specified',
          },
        ]);
      }
      const a = reviewAttributes(t.kind, spec);
      if (t.kind === 'LocalSubjectAccessReview' && (!a.resourceRequest || a.namespace !== namespace)) {
        throw errors.badRequest(`spec.resourceAttributes.namespace must match namespace: ${namespace}`);
      }
      const user: UserInfo = { name: spec.user ?? '', groups: spec.groups ?? [], uid: spec.uid, extra: spec.extra };
      return { ...base, status: accessStatus(rc.authorize(user, a)) };
    }
  }
}
