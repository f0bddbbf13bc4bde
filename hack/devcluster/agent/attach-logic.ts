// Pure decisions of the attach/detach controller: which claim volumes are attached to which
// Node, and which pods wait with a Multi-Attach error. They follow kube-controller-manager's
// reconciler: a volume whose claim is only ReadWriteOnce (or ReadWriteOncePod) is attached to
// one node at a time, stays attached while a pod on that node that uses it is not finished,
// and a pod on another node waits (ContainerCreating, event FailedAttachVolume) until it is
// detached. ReadWriteMany and ReadOnlyMany volumes attach to every node that asks.
import type { KubeObject } from './kube-client.js';

/** The CSI-style driver name in the dev cluster's unique volume names. */
export const ATTACH_DRIVER = 'devcluster.modelship.dev';

export interface ClaimVolume {
  /** The pod's volume name (what `kubectl describe` and kubelet events call it). */
  podVolume: string;
  /** The PersistentVolume's name: the dynamic provisioners' pvc-<claim uid>. */
  volumeName: string;
  /** node.status.volumesAttached[].name, kubernetes.io/csi/<driver>^<handle>. */
  uniqueName: string;
  accessModes: string[];
}

export type ClaimLookup = (namespace: string, name: string) => KubeObject | undefined;

export function volumeNameOf(pvc: KubeObject): string {
  return pvc.spec?.volumeName || `pvc-${pvc.metadata.uid}`;
}

/**
 * The pod's volumes that need attaching: those of bound claims. A claim that is missing or not
 * yet bound has no volume to attach (the pod waits for it elsewhere, or not at all, see the README).
 */
export function claimVolumes(pod: KubeObject, claims: ClaimLookup): ClaimVolume[] {
  const out: ClaimVolume[] = [];
  const seen = new Set<string>();
  for (const v of pod.spec?.volumes ?? []) {
    const claimName = v.persistentVolumeClaim?.claimName;
    if (!claimName) continue;
    const pvc = claims(pod.metadata.namespace ?? 'default', claimName);
    if (!pvc || pvc.status?.phase !== 'Bound') continue;
    const volumeName = volumeNameOf(pvc);
    if (seen.has(volumeName)) continue;
    seen.add(volumeName);
    out.push({
      podVolume: v.name,
      volumeName,
      uniqueName: `kubernetes.io/csi/${ATTACH_DRIVER}^${volumeName}`,
      accessModes: pvc.status?.accessModes ?? pvc.spec?.accessModes ?? [],
    });
  }
  return out;
}

/**
 * isMultiAttachAllowed of the attach/detach controller: a volume may be attached to several
 * nodes when it offers ReadWriteMany or ReadOnlyMany, or names no access mode at all.
 */
export function multiAttachAllowed(accessModes: string[]): boolean {
  return accessModes.length === 0 || accessModes.includes('ReadWriteMany') || accessModes.includes('ReadOnlyMany');
}

/** A pod whose volumes stay attached: bound to a node and not finished (it may be terminating). */
export function holdsVolumes(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return !!pod.spec?.nodeName && phase !== 'Succeeded' && phase !== 'Failed';
}

export interface MultiAttachError {
  pod: KubeObject;
  uniqueName: string;
  message: string;
}

export interface AttachPlan {
  /** Node name → unique names of the volumes attached to it, sorted. */
  attached: Map<string, string[]>;
  errors: MultiAttachError[];
}

const byCreation = (a: KubeObject, b: KubeObject) => {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** The reconciler's event text: the pods on the other node(s), named only in the pod's own namespace. */
export function multiAttachMessage(volumeName: string, waiting: KubeObject, holders: KubeObject[]): string {
  const local = holders.filter((p) => p.metadata.namespace === waiting.metadata.namespace).map((p) => p.metadata.name);
  const others = holders.length - local.length;
  let msg: string;
  if (holders.length === 0) msg = "Volume is already exclusively attached to one node and can't be attached to another";
  else if (local.length)
    msg = `Volume is already used by pod(s) ${local.join(', ')}${others ? ` and ${others} pod(s) in different namespaces` : ''}`;
  else msg = `Volume is already used by ${others} pod(s) in different namespaces`;
  return `Multi-Attach error for volume "${volumeName}" ${msg}`;
}

/**
 * One reconcile: detach what no unfinished pod on a node needs any more, then attach what pods
 * need, oldest pod first, refusing a second node for volumes that allow only one.
 */
export function planAttachments(
  nodes: string[],
  current: Map<string, string[]>,
  pods: KubeObject[],
  claims: ClaimLookup,
): AttachPlan {
  const known = new Set(nodes);
  // uniqueName → node → pods there that need it (oldest first)
  const wanted = new Map<string, { volume: ClaimVolume; byNode: Map<string, KubeObject[]> }>();
  for (const pod of [...pods].sort(byCreation)) {
    if (!holdsVolumes(pod) || !known.has(pod.spec.nodeName)) continue;
    for (const volume of claimVolumes(pod, claims)) {
      const w = wanted.get(volume.uniqueName) ?? { volume, byNode: new Map<string, KubeObject[]>() };
      const list = w.byNode.get(pod.spec.nodeName) ?? [];
      list.push(pod);
      w.byNode.set(pod.spec.nodeName, list);
      wanted.set(volume.uniqueName, w);
    }
  }
  const attached = new Map<string, Set<string>>();
  for (const node of nodes) {
    attached.set(node, new Set((current.get(node) ?? []).filter((v) => wanted.get(v)?.byNode.has(node))));
  }
  const nodesOf = (uniqueName: string) => nodes.filter((n) => attached.get(n)!.has(uniqueName));
  const errors: MultiAttachError[] = [];
  // Volumes in the order their oldest pod appeared, and nodes by their oldest pod, so the pod
  // that asked first wins a ReadWriteOnce volume.
  const order = (m: Map<string, KubeObject[]>) => [...m.entries()].sort(([, a], [, b]) => byCreation(a[0], b[0]));
  for (const [uniqueName, { volume, byNode }] of wanted) {
    for (const [node, needing] of order(byNode)) {
      if (attached.get(node)!.has(uniqueName)) continue;
      const elsewhere = nodesOf(uniqueName).filter((n) => n !== node);
      if (elsewhere.length && !multiAttachAllowed(volume.accessModes)) {
        const holders = elsewhere.flatMap((n) => byNode.get(n) ?? []);
        for (const pod of needing)
          errors.push({ pod, uniqueName, message: multiAttachMessage(volume.volumeName, pod, holders) });
        continue;
      }
      attached.get(node)!.add(uniqueName);
    }
  }
  return { attached: new Map([...attached].map(([n, s]) => [n, [...s].sort()])), errors };
}

/** node.status.volumesAttached as unique names. */
export function attachedVolumes(node: KubeObject | undefined): string[] {
  return (node?.status?.volumesAttached ?? []).map((v: { name: string }) => v.name);
}

/** The kubelet's wait: the pod's claim volumes not (yet) attached to its node. */
export function unattachedVolumes(pod: KubeObject, node: KubeObject | undefined, claims: ClaimLookup): ClaimVolume[] {
  const have = new Set(attachedVolumes(node));
  return claimVolumes(pod, claims).filter((v) => !have.has(v.uniqueName));
}
