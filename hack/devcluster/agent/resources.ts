// The API resources the node agent reads and writes, and how their REST paths are built.
export interface ResourceType {
  /** e.g. 'pods' */
  plural: string;
  /** '' for the core group */
  group: string;
  version: string;
  kind: string;
  namespaced: boolean;
}

export const PODS: ResourceType = { plural: 'pods', group: '', version: 'v1', kind: 'Pod', namespaced: true };
export const SERVICES: ResourceType = {
  plural: 'services',
  group: '',
  version: 'v1',
  kind: 'Service',
  namespaced: true,
};
export const ENDPOINTS: ResourceType = {
  plural: 'endpoints',
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  namespaced: true,
};
export const SECRETS: ResourceType = { plural: 'secrets', group: '', version: 'v1', kind: 'Secret', namespaced: true };
export const CONFIGMAPS: ResourceType = {
  plural: 'configmaps',
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  namespaced: true,
};
export const PVCS: ResourceType = {
  plural: 'persistentvolumeclaims',
  group: '',
  version: 'v1',
  kind: 'PersistentVolumeClaim',
  namespaced: true,
};
export const NODES: ResourceType = { plural: 'nodes', group: '', version: 'v1', kind: 'Node', namespaced: false };
export const DEPLOYMENTS: ResourceType = {
  plural: 'deployments',
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  namespaced: true,
};
export const REPLICASETS: ResourceType = {
  plural: 'replicasets',
  group: 'apps',
  version: 'v1',
  kind: 'ReplicaSet',
  namespaced: true,
};
export const JOBS: ResourceType = { plural: 'jobs', group: 'batch', version: 'v1', kind: 'Job', namespaced: true };
export const ENDPOINTSLICES: ResourceType = {
  plural: 'endpointslices',
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  namespaced: true,
};

export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

function prefix(rt: ResourceType): string {
  return rt.group ? `/apis/${rt.group}/${rt.version}` : `/api/${rt.version}`;
}

/** Collection path across all namespaces (or of a cluster-scoped resource). */
export function collectionPath(rt: ResourceType, namespace?: string): string {
  if (rt.namespaced && namespace) return `${prefix(rt)}/namespaces/${encodeURIComponent(namespace)}/${rt.plural}`;
  return `${prefix(rt)}/${rt.plural}`;
}

export function objectPath(
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  subresource?: string,
): string {
  const base = `${collectionPath(rt, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${base}/${subresource}` : base;
}
