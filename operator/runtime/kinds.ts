// Resource kinds and their REST paths. A KindRef names a kind exactly enough to build URLs
// without discovery; `namespaced` defaults to true.
import type { ObjectMeta } from '../api/meta.js';

export interface KindRef {
  group: string; // '' for the core group
  version: string;
  plural: string;
  kind: string;
  namespaced?: boolean;
}

/** Identifies one object; `namespace` is empty for cluster-scoped objects. */
export interface ObjectKey {
  namespace: string;
  name: string;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

// Object metadata has one definition, shared with the generated CRD types.
export type { ObjectMeta, OwnerReference } from '../api/meta.js';

export const apiVersionOf = (k: Pick<KindRef, 'group' | 'version'>): string =>
  k.group ? `${k.group}/${k.version}` : k.version;

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/** `/api/v1/namespaces/ns/pods/name/status` and friends. */
export function resourcePath(kind: KindRef, namespace?: string, name?: string, subresource?: string): string {
  const base = kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`;
  const ns = kind.namespaced !== false && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  let path = `${base}${ns}/${kind.plural}`;
  if (name) path += `/${encodeURIComponent(name)}`;
  if (name && subresource) path += `/${subresource}`;
  return path;
}

/** Informer / queue key: `ns/name`, or `name` when cluster-scoped (client-go's convention). */
export const keyString = (k: ObjectKey): string => (k.namespace ? `${k.namespace}/${k.name}` : k.name);

export function parseKey(s: string): ObjectKey {
  const i = s.indexOf('/');
  return i < 0 ? { namespace: '', name: s } : { namespace: s.slice(0, i), name: s.slice(i + 1) };
}

export const keyOf = (obj: KubeObject): ObjectKey => ({
  namespace: obj.metadata?.namespace ?? '',
  name: obj.metadata?.name ?? '',
});

/** Stable id of a kind for maps: group/version/plural. */
export const kindId = (k: KindRef): string => `${k.group}/${k.version}/${k.plural}`;

/** Kinds the runtime and the controllers use, so they need no discovery. */
export const Kinds = {
  ConfigMap: { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' },
  Secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
  Pod: { group: '', version: 'v1', plural: 'pods', kind: 'Pod' },
  Service: { group: '', version: 'v1', plural: 'services', kind: 'Service' },
  ServiceAccount: { group: '', version: 'v1', plural: 'serviceaccounts', kind: 'ServiceAccount' },
  Event: { group: '', version: 'v1', plural: 'events', kind: 'Event' },
  Namespace: { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
  Job: { group: 'batch', version: 'v1', plural: 'jobs', kind: 'Job' },
  Deployment: { group: 'apps', version: 'v1', plural: 'deployments', kind: 'Deployment' },
  HorizontalPodAutoscaler: {
    group: 'autoscaling',
    version: 'v2',
    plural: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
  },
  Lease: { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', kind: 'Lease' },
  Role: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'roles', kind: 'Role' },
  RoleBinding: { group: 'rbac.authorization.k8s.io', version: 'v1', plural: 'rolebindings', kind: 'RoleBinding' },
  HTTPRoute: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', kind: 'HTTPRoute' },
  TrainingRun: { group: 'modelship.dev', version: 'v1alpha1', plural: 'trainingruns', kind: 'TrainingRun' },
  ModelVersion: { group: 'modelship.dev', version: 'v1alpha1', plural: 'modelversions', kind: 'ModelVersion' },
  InferenceService: {
    group: 'modelship.dev',
    version: 'v1alpha1',
    plural: 'inferenceservices',
    kind: 'InferenceService',
  },
} as const satisfies Record<string, KindRef>;
