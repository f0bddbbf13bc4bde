// Prometheus's Kubernetes service discovery, reproduced as file_sd target groups. Debian's
// Prometheus is built without kubernetes_sd_configs, so the dev cluster computes the same
// targets and `__meta_kubernetes_*` labels that the `pod` and `endpoints` roles give (one
// target per container port, pods without an IP skipped, endpoints' pods with their container
// and pod labels) and lets the real Prometheus relabel them. Pure functions.
import type { TargetGroup } from './config.js';

const META = '__meta_kubernetes_';

/** Prometheus's label-name sanitising: every character outside [a-zA-Z0-9_] becomes "_". */
export function sanitizeMetaName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_]/g, '_');
}

interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }>;
}
interface KubeLike {
  metadata: ObjectMeta;
  spec?: any;
  status?: any;
  subsets?: any[];
}

function mapLabels(prefix: string, values: Record<string, string> | undefined, out: Record<string, string>): void {
  for (const [k, v] of Object.entries(values ?? {})) {
    const name = sanitizeMetaName(k);
    out[`${META}${prefix}_${name}`] = v;
    out[`${META}${prefix}present_${name}`] = 'true';
  }
}

function podMeta(pod: KubeLike): Record<string, string> {
  const labels: Record<string, string> = {
    [`${META}namespace`]: pod.metadata.namespace ?? 'default',
    [`${META}pod_name`]: pod.metadata.name,
    [`${META}pod_ip`]: pod.status?.podIP ?? '',
    [`${META}pod_ready`]: String(podReady(pod)),
    [`${META}pod_phase`]: pod.status?.phase ?? '',
    [`${META}pod_node_name`]: pod.spec?.nodeName ?? '',
    [`${META}pod_host_ip`]: pod.status?.hostIP ?? '',
    [`${META}pod_uid`]: pod.metadata.uid ?? '',
  };
  mapLabels('pod_label', pod.metadata.labels, labels);
  mapLabels('pod_annotation', pod.metadata.annotations, labels);
  const controller = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
  if (controller) {
    labels[`${META}pod_controller_kind`] = controller.kind;
    labels[`${META}pod_controller_name`] = controller.name;
  }
  return labels;
}

function podReady(pod: KubeLike): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

function containerLabels(c: any, init: boolean, port?: any): Record<string, string> {
  return {
    [`${META}pod_container_name`]: c.name,
    [`${META}pod_container_image`]: c.image ?? '',
    [`${META}pod_container_init`]: String(init),
    ...(port
      ? {
          [`${META}pod_container_port_name`]: port.name ?? '',
          [`${META}pod_container_port_number`]: String(port.containerPort),
          [`${META}pod_container_port_protocol`]: port.protocol ?? 'TCP',
        }
      : {}),
  };
}

interface SdTarget {
  address: string;
  labels: Record<string, string>;
}

/** One target per container port (a container without ports: one target at the bare IP). */
function podTargets(pod: KubeLike): SdTarget[] {
  const ip = pod.status?.podIP;
  const out: SdTarget[] = [];
  const containers = [
    ...(pod.spec?.containers ?? []).map((c: any) => [c, false] as const),
    ...(pod.spec?.initContainers ?? []).map((c: any) => [c, true] as const),
  ];
  for (const [c, init] of containers) {
    const ports = c.ports ?? [];
    if (ports.length === 0) out.push({ address: ip, labels: containerLabels(c, init) });
    for (const p of ports) out.push({ address: `${ip}:${p.containerPort}`, labels: containerLabels(c, init, p) });
  }
  return out;
}

function groups(targets: SdTarget[], common: Record<string, string>): TargetGroup[] {
  return targets.map((t) => ({ targets: [t.address], labels: { ...common, ...t.labels } }));
}

/** The `pod` role: every pod with an IP, one target per container port. */
export function podRoleGroups(pods: KubeLike[]): TargetGroup[] {
  const out: TargetGroup[] = [];
  for (const pod of sortByKey(pods)) {
    if (!pod.status?.podIP || pod.metadata.deletionTimestamp) continue;
    out.push(...groups(podTargets(pod), podMeta(pod)));
  }
  return out;
}

function serviceMeta(svc: KubeLike | undefined): Record<string, string> {
  if (!svc) return {};
  const labels: Record<string, string> = { [`${META}service_name`]: svc.metadata.name };
  mapLabels('service_label', svc.metadata.labels, labels);
  mapLabels('service_annotation', svc.metadata.annotations, labels);
  return labels;
}

/**
 * The `endpoints` role: a target per address and port of each Endpoints object, with its
 * Service's labels and, for a pod address, the pod's labels and the container that has the
 * port; the pod's other container ports become targets without endpoint labels.
 */
export function endpointsRoleGroups(endpoints: KubeLike[], services: KubeLike[], pods: KubeLike[]): TargetGroup[] {
  const byKey = (objs: KubeLike[]) =>
    new Map(objs.map((o) => [`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o]));
  const svcs = byKey(services);
  const podIndex = byKey(pods);
  const out: TargetGroup[] = [];
  for (const ep of sortByKey(endpoints)) {
    const ns = ep.metadata.namespace ?? 'default';
    const common: Record<string, string> = {
      [`${META}namespace`]: ns,
      [`${META}endpoints_name`]: ep.metadata.name,
      ...serviceMeta(svcs.get(`${ns}/${ep.metadata.name}`)),
    };
    mapLabels('endpoints_label', ep.metadata.labels, common);
    const seenPods = new Map<string, Set<string>>();
    for (const subset of ep.subsets ?? []) {
      const addresses = [
        ...(subset.addresses ?? []).map((a: any) => [a, true] as const),
        ...(subset.notReadyAddresses ?? []).map((a: any) => [a, false] as const),
      ];
      for (const [addr, ready] of addresses) {
        for (const port of subset.ports ?? []) {
          const labels: Record<string, string> = {
            [`${META}endpoint_ready`]: String(ready),
            [`${META}endpoint_port_name`]: port.name ?? '',
            [`${META}endpoint_port_protocol`]: port.protocol ?? 'TCP',
            ...(addr.hostname ? { [`${META}endpoint_hostname`]: addr.hostname } : {}),
            ...(addr.nodeName ? { [`${META}endpoint_node_name`]: addr.nodeName } : {}),
            ...(addr.targetRef
              ? {
                  [`${META}endpoint_address_target_kind`]: addr.targetRef.kind,
                  [`${META}endpoint_address_target_name`]: addr.targetRef.name,
                }
              : {}),
          };
          const pod =
            addr.targetRef?.kind === 'Pod'
              ? podIndex.get(`${addr.targetRef.namespace ?? ns}/${addr.targetRef.name}`)
              : undefined;
          if (pod) {
            Object.assign(labels, podMeta(pod));
            const container = (pod.spec?.containers ?? []).find((c: any) =>
              (c.ports ?? []).some((p: any) => p.containerPort === port.port),
            );
            const cport = container?.ports.find((p: any) => p.containerPort === port.port);
            if (container) Object.assign(labels, containerLabels(container, false, cport));
            const seen = seenPods.get(pod.metadata.name) ?? new Set<string>();
            seen.add(String(port.port));
            seenPods.set(pod.metadata.name, seen);
          }
          out.push({ targets: [`${addr.ip}:${port.port}`], labels: { ...common, ...labels } });
        }
      }
    }
    for (const [name, ports] of seenPods) {
      const pod = podIndex.get(`${ns}/${name}`)!;
      for (const t of podTargets(pod)) {
        if (ports.has(t.labels[`${META}pod_container_port_number`] ?? '')) continue;
        out.push({ targets: [t.address], labels: { ...common, ...podMeta(pod), ...t.labels } });
      }
    }
  }
  return out;
}

function sortByKey<T extends KubeLike>(objs: T[]): T[] {
  const key = (o: KubeLike) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  return [...objs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
