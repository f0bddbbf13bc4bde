// The resource types the server serves: the built-in kinds the product and common charts use,
// plus one entry per served version of each established CRD. Everything about a type that the
// REST layer needs (scope, subresources, generation, patch support) lives here.
export type KObject = Record<string, any>;

export interface ResourceType {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** Served subresources (`status`, `scale`). */
  status: boolean;
  scale: boolean;
  /** Whether `metadata.generation` is maintained (bumps on non-metadata/non-status changes). */
  generation: boolean;
  /** Built-in kinds accept strategic-merge patches; custom resources answer 415. */
  builtin: boolean;
  /** Objects of types sharing a storage key are the same objects (CRD versions). */
  storageKey: string;
  /** Default propagation policy when a DELETE names none (batch/v1 Jobs orphan). */
  defaultPropagation: 'Background' | 'Orphan';
  /** DELETE answers with the object (pods, namespaces) instead of a Success Status. */
  returnDeletedObject: boolean;
  /** Create-only review kinds (access reviews, whoami): answered, never stored. */
  virtual: boolean;
  /** For custom resources: the CRD's name and the version entry's printer columns / schema. */
  crd?: { name: string; version: KObject; spec: KObject; object: KObject };
}

export const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function apiVersionOf(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `${t.group}/${t.version}` : t.version;
}

interface BuiltinSpec {
  gv: string;
  kind: string;
  plural?: string;
  ns?: boolean;
  short?: string[];
  cat?: string[];
  status?: boolean;
  scale?: boolean;
  gen?: boolean;
  orphan?: boolean;
  returnObj?: boolean;
  virtual?: boolean;
}

// [groupVersion, kind, options]; `all` category as on a real cluster.
const BUILTINS: BuiltinSpec[] = [
  { gv: 'v1', kind: 'Namespace', ns: false, short: ['ns'], status: true, returnObj: true },
  { gv: 'v1', kind: 'Node', ns: false, short: ['no'], status: true },
  { gv: 'v1', kind: 'Pod', short: ['po'], cat: ['all'], status: true, returnObj: true },
  { gv: 'v1', kind: 'Service', short: ['svc'], cat: ['all'], status: true, returnObj: true },
  { gv: 'v1', kind: 'Endpoints', plural: 'endpoints', short: ['ep'] },
  { gv: 'v1', kind: 'ConfigMap', short: ['cm'] },
  { gv: 'v1', kind: 'Secret' },
  { gv: 'v1', kind: 'ServiceAccount', short: ['sa'] },
  { gv: 'v1', kind: 'Event', short: ['ev'] },
  { gv: 'v1', kind: 'PersistentVolumeClaim', short: ['pvc'], status: true },
  { gv: 'v1', kind: 'PersistentVolume', ns: false, short: ['pv'], status: true },
  { gv: 'v1', kind: 'ResourceQuota', short: ['quota'], status: true },
  { gv: 'v1', kind: 'LimitRange', short: ['limits'] },
  {
    gv: 'v1',
    kind: 'ReplicationController',
    short: ['rc'],
    cat: ['all'],
    status: true,
    scale: true,
    gen: true,
    orphan: true,
  },
  { gv: 'apps/v1', kind: 'Deployment', short: ['deploy'], cat: ['all'], status: true, scale: true, gen: true },
  { gv: 'apps/v1', kind: 'ReplicaSet', short: ['rs'], cat: ['all'], status: true, scale: true, gen: true },
  { gv: 'apps/v1', kind: 'StatefulSet', short: ['sts'], cat: ['all'], status: true, scale: true, gen: true },
  { gv: 'apps/v1', kind: 'DaemonSet', short: ['ds'], cat: ['all'], status: true, gen: true },
  { gv: 'apps/v1', kind: 'ControllerRevision' },
  { gv: 'batch/v1', kind: 'Job', cat: ['all'], status: true, gen: true, orphan: true },
  { gv: 'batch/v1', kind: 'CronJob', short: ['cj'], cat: ['all'], status: true, gen: true },
  { gv: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', short: ['hpa'], cat: ['all'], status: true, gen: true },
  { gv: 'coordination.k8s.io/v1', kind: 'Lease' },
  { gv: 'events.k8s.io/v1', kind: 'Event', short: ['ev'] },
  { gv: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
  { gv: 'policy/v1', kind: 'PodDisruptionBudget', short: ['pdb'], status: true, gen: true },
  { gv: 'networking.k8s.io/v1', kind: 'Ingress', short: ['ing'], status: true, gen: true },
  { gv: 'networking.k8s.io/v1', kind: 'NetworkPolicy', short: ['netpol'], gen: true },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'Role' },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding' },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', ns: false },
  { gv: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', ns: false },
  { gv: 'scheduling.k8s.io/v1', kind: 'PriorityClass', ns: false, short: ['pc'] },
  { gv: 'storage.k8s.io/v1', kind: 'StorageClass', ns: false, short: ['sc'] },
  { gv: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', ns: false, virtual: true },
  { gv: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', ns: false, virtual: true },
  { gv: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', ns: false, virtual: true },
  { gv: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', virtual: true },
  { gv: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', ns: false, virtual: true },
  {
    gv: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    ns: false,
    short: ['crd', 'crds'],
    cat: ['api-extensions'],
    status: true,
    gen: true,
  },
];

function pluralOf(kind: string): string {
  const lower = kind.toLowerCase();
  if (lower.endsWith('y')) return `${lower.slice(0, -1)}ies`;
  if (lower.endsWith('s')) return `${lower}es`;
  return `${lower}s`;
}

function builtin(s: BuiltinSpec): ResourceType {
  const [group, version] = s.gv.includes('/') ? s.gv.split('/') : ['', s.gv];
  const plural = s.plural ?? pluralOf(s.kind);
  return {
    group,
    version,
    kind: s.kind,
    listKind: `${s.kind}List`,
    plural,
    singular: s.kind.toLowerCase(),
    namespaced: s.ns !== false,
    shortNames: s.short ?? [],
    categories: s.cat ?? [],
    status: !!s.status,
    scale: !!s.scale,
    generation: !!s.gen,
    builtin: true,
    storageKey: `${group}/${plural}`,
    defaultPropagation: s.orphan ? 'Orphan' : 'Background',
    returnDeletedObject: !!s.returnObj,
    virtual: !!s.virtual,
  };
}

/** Types of one established CRD, one per served version. */
export function typesOfCrd(crd: KObject): ResourceType[] {
  const spec = crd.spec ?? {};
  const names = spec.names ?? {};
  const group: string = spec.group;
  const plural: string = names.plural;
  return (spec.versions ?? [])
    .filter((v: KObject) => v.served !== false)
    .map((v: KObject) => ({
      group,
      version: v.name,
      kind: names.kind,
      listKind: names.listKind ?? `${names.kind}List`,
      plural,
      singular: names.singular ?? String(names.kind).toLowerCase(),
      namespaced: spec.scope !== 'Cluster',
      shortNames: names.shortNames ?? [],
      categories: names.categories ?? [],
      status: !!v.subresources?.status,
      scale: !!v.subresources?.scale,
      generation: true,
      builtin: false,
      storageKey: `${group}/${plural}`,
      defaultPropagation: 'Background' as const,
      returnDeletedObject: false,
      virtual: false,
      crd: { name: crd.metadata.name, version: v, spec, object: crd },
    }));
}

/** Lookup tables over built-in and CRD-defined types; rebuilt when CRDs change. */
export class Registry {
  private builtins = BUILTINS.map(builtin);
  private custom = new Map<string, ResourceType[]>(); // CRD name -> types
  private byPath = new Map<string, ResourceType>(); // "group/version/plural"
  private all: ResourceType[] = [];

  constructor() {
    this.rebuild();
  }

  setCrdTypes(crdName: string, types: ResourceType[]): void {
    if (types.length) this.custom.set(crdName, types);
    else this.custom.delete(crdName);
    this.rebuild();
  }

  private rebuild(): void {
    this.all = [...this.builtins, ...[...this.custom.values()].flat()];
    this.byPath = new Map(this.all.map((t) => [`${t.group}/${t.version}/${t.plural}`, t]));
  }

  lookup(group: string, version: string, plural: string): ResourceType | undefined {
    return this.byPath.get(`${group}/${version}/${plural}`);
  }

  types(): ResourceType[] {
    return this.all;
  }

  /** Types stored under a storage key (all served versions of one resource). */
  byStorageKey(key: string): ResourceType[] {
    return this.all.filter((t) => t.storageKey === key);
  }

  /** The type for a kind in a given apiVersion (used for ownerReferences and apply). */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.all.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
  }

  /** group -> versions, in registration order (first = preferred). */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const t of this.all) {
      const versions = out.get(t.group) ?? [];
      if (!versions.includes(t.version)) versions.push(t.version);
      out.set(t.group, versions);
    }
    return out;
  }

  isCrdVersionOf(t: ResourceType): boolean {
    return !!t.crd;
  }
}
