// Legacy (unaggregated) discovery documents: /api, /apis, /apis/<group>, and the
// APIResourceList of each group version, including subresources and CRD-defined kinds.
import type { Registry, ResourceType } from './registry.js';
import { VERBS } from './registry.js';

/** Kubernetes version priority: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > other (lexical). */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return [0, 0, 0, v] as const;
    const stability = m[2] === 'alpha' ? 1 : m[2] === 'beta' ? 2 : 3;
    return [1, stability, Number(m[1]) * 1000 + Number(m[3] ?? 0), v] as const;
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return (pb[i] as number) - (pa[i] as number);
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupVersions(registry: Registry): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [g, versions] of registry.groups()) {
    // Built-in groups list versions as registered; CRD groups by version priority.
    out.set(g, [...versions].sort(compareKubeVersions));
  }
  return out;
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(name: string, versions: string[]): object {
  const vs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(registry: Registry): object {
  const groups = [...groupVersions(registry)].filter(([g]) => g !== '').map(([g, vs]) => groupDoc(g, vs));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(registry: Registry, group: string): object | undefined {
  const versions = groupVersions(registry).get(group);
  if (!versions || group === '') return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, versions) };
}

function resourceEntries(t: ResourceType): object[] {
  const main: Record<string, unknown> = {
    name: t.plural,
    singularName: t.singular,
    namespaced: t.namespaced,
    kind: t.kind,
    verbs: t.virtual ? ['create'] : VERBS,
  };
  if (t.shortNames.length) main.shortNames = t.shortNames;
  if (t.categories.length) main.categories = t.categories;
  const out: object[] = [main];
  if (t.status)
    out.push({
      name: `${t.plural}/status`,
      singularName: '',
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: ['get', 'patch', 'update'],
    });
  if (t.scale) {
    out.push({
      name: `${t.plural}/scale`,
      singularName: '',
      namespaced: t.namespaced,
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: ['get', 'patch', 'update'],
    });
  }
  if (t.kind === 'Pod' && t.builtin)
    out.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
  if (t.kind === 'ServiceAccount' && t.builtin) {
    out.push({
      name: 'serviceaccounts/token',
      singularName: '',
      namespaced: true,
      group: 'authentication.k8s.io',
      version: 'v1',
      kind: 'TokenRequest',
      verbs: ['create'],
    });
  }
  if (t.kind === 'Namespace' && t.builtin)
    out.push({
      name: 'namespaces/finalize',
      singularName: '',
      namespaced: false,
      kind: 'Namespace',
      verbs: ['update'],
    });
  return out;
}

export function apiResourceList(registry: Registry, group: string, version: string): object | undefined {
  const types = registry.types().filter((t) => t.group === group && t.version === version);
  if (!types.length) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: types.flatMap(resourceEntries),
  };
}
