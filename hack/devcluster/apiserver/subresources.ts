// Subresources and virtual kinds served next to the stored objects: `scale` (autoscaling/v1
// Scale over a kind's replica fields) and the access/identity reviews.
import { errors } from './errors.js';
import { PATCH_TYPES, type Rest, type WriteOptions } from './rest.js';
import { apiVersionOf, type KObject, type ResourceType } from './registry.js';
import { evalJsonPath } from './tables.js';

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
    selector = Object.entries(sel.matchLabels ?? sel).filter(([, v]) => typeof v === 'string').map(([k, v]) => `${k}=${v}`).join(',');
  }
  const { name, namespace, uid, resourceVersion, creationTimestamp } = obj.metadata;
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
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

export function updateScale(rest: Rest, t: ResourceType, ns: string, name: string, scale: KObject, opts: WriteOptions): KObject {
  const old = rest.get(t, ns, name);
  if (scale.metadata?.resourceVersion && scale.metadata.resourceVersion !== old.metadata.resourceVersion) throw errors.conflict({ group: t.group, resource: t.plural }, name);
  const replicas = scale.spec?.replicas;
  if (typeof replicas !== 'number' || replicas < 0) {
    throw errors.invalid('Scale.autoscaling', name, 'autoscaling', [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${replicas}: must be greater than or equal to 0` }]);
  }
  const path = replicasPaths(t).spec.replace(/^\./, '').split('.');
  const next = structuredClone(old);
  let cur = next;
  for (const seg of path.slice(0, -1)) cur = cur[seg] ??= {};
  cur[path[path.length - 1]] = replicas;
  return rest.commitUpdate(t, old, next, opts).object;
}

/**
 * Access and identity reviews. The dev cluster has no authentication or authorization, so
 * every subject may do everything, and the caller is a cluster admin.
 */
export function reviewResponse(t: ResourceType, namespace: string, body: KObject): KObject {
  const base: KObject = { ...body, apiVersion: apiVersionOf(t), kind: t.kind, metadata: { ...(body.metadata ?? {}), ...(namespace ? { namespace } : {}), creationTimestamp: null } };
  switch (t.kind) {
    case 'SelfSubjectRulesReview':
      return { ...base, status: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false } };
    case 'SelfSubjectReview':
      return { ...base, status: { userInfo: { username: 'devcluster-admin', groups: ['system:masters', 'system:authenticated'] } } };
    default:
      return { ...base, status: { allowed: true, reason: 'the dev cluster authorizes every request' } };
  }
}
