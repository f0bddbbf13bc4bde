// Pure decisions of the ReplicaSet controller: how many pods to create, which to delete, and
// the status a real kube-controller-manager would report.
import type { KubeObject } from './kube-client.js';
import { isPodActive, isPodAvailable, isPodReady, ownerReferenceTo, randomSuffix } from './util.js';

export interface ReplicaSetPlan {
  create: number;
  remove: KubeObject[];
  status: Record<string, unknown>;
}

export function planReplicaSet(rs: KubeObject, ownedPods: KubeObject[], now: number): ReplicaSetPlan {
  const desired = rs.spec?.replicas ?? 1;
  const active = ownedPods.filter(isPodActive);
  const diff = active.length - desired;
  const remove = diff > 0 ? rankForDeletion(active).slice(0, diff) : [];
  return { create: diff < 0 ? -diff : 0, remove, status: replicaSetStatus(rs, active, now) };
}

export function replicaSetStatus(rs: KubeObject, activePods: KubeObject[], now: number): Record<string, unknown> {
  const minReady = rs.spec?.minReadySeconds ?? 0;
  const templateLabels: Record<string, string> = rs.spec?.template?.metadata?.labels ?? {};
  const fullyLabeled = activePods.filter((p) =>
    Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
  );
  return {
    replicas: activePods.length,
    fullyLabeledReplicas: fullyLabeled.length,
    readyReplicas: activePods.filter(isPodReady).length,
    availableReplicas: activePods.filter((p) => isPodAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
}

/** Pods least worth keeping come first, like k8s ActivePods ordering used for scale-down. */
export function rankForDeletion(pods: KubeObject[]): KubeObject[] {
  const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
  return [...pods].sort((a, b) => {
    const pa = phaseRank[a.status?.phase ?? 'Pending'] ?? 0;
    const pb = phaseRank[b.status?.phase ?? 'Pending'] ?? 0;
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a) ? 1 : 0;
    const rb = isPodReady(b) ? 1 : 0;
    if (ra !== rb) return ra - rb;
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    return tb - ta; // newer first
  });
}

/** A Pod for a controller (ReplicaSet or Job) from its template. */
export function podFromTemplate(
  owner: KubeObject,
  ownerApiVersion: string,
  ownerKind: string,
  extraLabels: Record<string, string> = {},
): KubeObject {
  const template = owner.spec?.template ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${owner.metadata.name}-${randomSuffix()}`,
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}), ...extraLabels },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [ownerReferenceTo(owner, ownerApiVersion, ownerKind)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}
