// kube-scheduler's NodeResourcesFit filter (pure): a pod's requests must fit in what the node
// has allocatable minus what the unfinished pods bound to it request, resource by resource.
// Each resource that does not fit is a reason of its own ("Insufficient cpu", "Insufficient
// nvidia.com/gpu"); a node at its pod count says "Too many pods". A resource the node does not
// list (a GPU on a node without the device plugin) has nothing allocatable. Requests are read
// as the API server stored them (it defaults them from limits on create, as upstream does).
// Difference: ephemeral-storage and hugepages are not counted (the node agent reports neither).
import type { KubeObject } from './kube-client.js';
import { quantityValue } from './container-spec.js';
import { holdsVolumes } from './attach-logic.js';

type Resources = Map<string, number>;
interface ContainerLike {
  resources?: { requests?: Record<string, string | number> };
  restartPolicy?: string;
}

const UNCOUNTED = (name: string) => name === 'ephemeral-storage' || name.startsWith('hugepages-');

/** A quantity in the unit the scheduler compares: millicores for cpu, whole units otherwise, rounded up. */
function amount(resource: string, quantity: string | number): number {
  const v = quantityValue(quantity) ?? 0;
  return resource === 'cpu' ? Math.ceil(v * 1000 - 1e-9) : Math.ceil(v - 1e-9);
}

function requestsOf(c: ContainerLike): Resources {
  const out: Resources = new Map();
  for (const [name, q] of Object.entries(c.resources?.requests ?? {}))
    if (!UNCOUNTED(name)) out.set(name, amount(name, q));
  return out;
}

function add(into: Resources, more: Resources): Resources {
  for (const [k, v] of more) into.set(k, (into.get(k) ?? 0) + v);
  return into;
}

/**
 * What a pod requests, as the scheduler sums it: its containers and sidecars (init containers
 * that keep running), and at least what any other init container needs while it runs.
 */
export function podRequests(spec: { containers?: ContainerLike[]; initContainers?: ContainerLike[] }): Resources {
  const inits = spec.initContainers ?? [];
  const sidecars = inits.filter((c) => c.restartPolicy === 'Always');
  const sum = (list: ContainerLike[]) => list.reduce((total, c) => add(total, requestsOf(c)), new Map() as Resources);
  const total = sum([...(spec.containers ?? []), ...sidecars]);
  for (const c of inits.filter((i) => i.restartPolicy !== 'Always')) {
    const during = add(requestsOf(c), sum(sidecars));
    for (const [k, v] of during) total.set(k, Math.max(total.get(k) ?? 0, v));
  }
  return total;
}

/** The reasons `pod` does not fit on `node` beside `pods` (those bound elsewhere are ignored); none: it fits. */
export function resourceFitReasons(pod: KubeObject, node: KubeObject, pods: KubeObject[]): string[] {
  const allocatable: Record<string, string | number> = node.status?.allocatable ?? {};
  // The unfinished pods bound to this node (those that hold its volumes hold its resources too).
  const bound = pods.filter(
    (p) => p.metadata.uid !== pod.metadata.uid && holdsVolumes(p) && p.spec.nodeName === node.metadata.name,
  );
  const reasons: string[] = [];
  if (allocatable.pods !== undefined && bound.length + 1 > amount('pods', allocatable.pods))
    reasons.push('Too many pods');
  const used = bound.reduce((sum, p) => add(sum, podRequests(p.spec ?? {})), new Map() as Resources);
  for (const [resource, wanted] of podRequests(pod.spec ?? {})) {
    if (wanted <= 0) continue;
    const free = amount(resource, allocatable[resource] ?? 0) - (used.get(resource) ?? 0);
    if (wanted > free) reasons.push(`Insufficient ${resource}`);
  }
  return reasons;
}
