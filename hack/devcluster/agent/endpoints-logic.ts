// Pure builders of the Endpoints and EndpointSlices of a Service from the Pods its selector
// matches, as the endpoints and endpointslice controllers do.
import type { KubeObject } from './kube-client.js';
import { isPodReady, matchesMapSelector, shortHash } from './util.js';
import { resolvePort } from './probes.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_MANAGER = 'endpointslice-controller.k8s.io';

interface ResolvedPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** Pods that belong in the Service's endpoints: selected, with an IP, not finished. */
export function endpointPods(svc: KubeObject, pods: KubeObject[]): KubeObject[] {
  return pods.filter(
    (p) =>
      p.metadata.namespace === svc.metadata.namespace &&
      matchesMapSelector(svc.spec?.selector, p.metadata.labels) &&
      p.status?.podIP &&
      p.status?.phase !== 'Succeeded' &&
      p.status?.phase !== 'Failed',
  );
}

function podPorts(svc: KubeObject, pod: KubeObject): ResolvedPort[] | undefined {
  const containerPorts = (pod.spec?.containers ?? []).flatMap((c: any) => c.ports ?? []);
  const out: ResolvedPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const target = sp.targetPort ?? sp.port;
    const port = resolvePort(target, containerPorts);
    if (port === undefined) continue; // a named port the pod does not have
    out.push({
      ...(sp.name ? { name: sp.name } : {}),
      port,
      protocol: sp.protocol ?? 'TCP',
      ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
    });
  }
  return out.length ? out : undefined;
}

function isServing(pod: KubeObject, svc: KubeObject): boolean {
  return isPodReady(pod) || !!svc.spec?.publishNotReadyAddresses;
}

function groupByPorts(svc: KubeObject, pods: KubeObject[]): Map<string, { ports: ResolvedPort[]; pods: KubeObject[] }> {
  const groups = new Map<string, { ports: ResolvedPort[]; pods: KubeObject[] }>();
  for (const pod of pods) {
    const ports = podPorts(svc, pod);
    if (!ports) continue;
    const key = JSON.stringify(ports);
    const g = groups.get(key) ?? { ports, pods: [] };
    g.pods.push(pod);
    groups.set(key, g);
  }
  return groups;
}

const byName = (a: KubeObject, b: KubeObject) =>
  a.status.podIP < b.status.podIP ? -1 : a.status.podIP > b.status.podIP ? 1 : 0;

function address(pod: KubeObject): Record<string, unknown> {
  return {
    ip: pod.status.podIP,
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid },
  };
}

export function buildEndpointSubsets(svc: KubeObject, pods: KubeObject[]): any[] {
  const subsets: any[] = [];
  for (const { ports, pods: group } of groupByPorts(svc, endpointPods(svc, pods)).values()) {
    const live = group.filter((p) => !p.metadata.deletionTimestamp || svc.spec?.publishNotReadyAddresses);
    const ready = live.filter((p) => isServing(p, svc)).sort(byName);
    const notReady = live.filter((p) => !isServing(p, svc)).sort(byName);
    if (ready.length + notReady.length === 0) continue;
    const subset: Record<string, unknown> = { ports: ports.map((p) => ({ ...p })) };
    if (ready.length) subset.addresses = ready.map(address);
    if (notReady.length) subset.notReadyAddresses = notReady.map(address);
    subsets.push(subset);
  }
  return subsets;
}

export function buildEndpointSlices(svc: KubeObject, pods: KubeObject[]): KubeObject[] {
  const slices: KubeObject[] = [];
  for (const { ports, pods: group } of groupByPorts(svc, endpointPods(svc, pods)).values()) {
    const endpoints = [...group].sort(byName).map((p) => {
      const terminating = !!p.metadata.deletionTimestamp;
      const ready = isServing(p, svc) && !terminating;
      return {
        addresses: [p.status.podIP],
        conditions: { ready, serving: isServing(p, svc), terminating },
        targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
        ...(p.spec?.nodeName ? { nodeName: p.spec.nodeName } : {}),
      };
    });
    slices.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${svc.metadata.name}-${shortHash({ uid: svc.metadata.uid, ports }, 5)}`,
        namespace: svc.metadata.namespace,
        labels: {
          ...(svc.metadata.labels ?? {}),
          [SERVICE_NAME_LABEL]: svc.metadata.name,
          [SLICE_MANAGED_BY_LABEL]: SLICE_MANAGER,
        },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Service',
            name: svc.metadata.name,
            uid: svc.metadata.uid ?? '',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      addressType: 'IPv4',
      endpoints,
      ports: ports.map((p) => ({ ...p })),
    });
  }
  return slices;
}
