// Pure decisions of the Deployment controller: the ReplicaSet for the current template
// (named by pod-template-hash), the replica counts of new and old ReplicaSets during a
// RollingUpdate or Recreate, and the Deployment status with Available/Progressing conditions.
import type { KubeObject } from './kube-client.js';
import { findCondition, isPodActive, scaledValue, setCondition, shortHash, type Condition } from './util.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const HASH_LABEL = 'pod-template-hash';

export function templateHash(deploy: KubeObject): string {
  const template = withoutNulls(structuredClone(deploy.spec?.template ?? {}));
  if (template.metadata?.labels) delete template.metadata.labels[HASH_LABEL];
  return shortHash(template, 10);
}

/**
 * Null and absent mean the same in a pod template (Go's nil pointers): kubectl rollout undo
 * writes `creationTimestamp: null` into the template it restores, which must not make it a
 * different template from the ReplicaSet it came from.
 */
function withoutNulls(value: any): any {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
  }
  return value;
}

export function revisionOf(rs: KubeObject): number {
  return Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;
}

export function newReplicaSetFor(deploy: KubeObject, hash: string, revision: number, replicas: number): KubeObject {
  const template = structuredClone(deploy.spec?.template ?? {});
  template.metadata ??= {};
  template.metadata.labels = { ...(template.metadata.labels ?? {}), [HASH_LABEL]: hash };
  const selector = structuredClone(deploy.spec?.selector ?? {});
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${deploy.metadata.name}-${hash}`,
      namespace: deploy.metadata.namespace,
      labels: { ...(template.metadata.labels as Record<string, string>) },
      annotations: {
        [REVISION_ANNOTATION]: String(revision),
        'deployment.kubernetes.io/desired-replicas': String(deploy.spec?.replicas ?? 1),
      },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: deploy.metadata.name,
          uid: deploy.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { replicas, minReadySeconds: deploy.spec?.minReadySeconds ?? 0, selector, template },
    // Ignored on create by the API server; present because the published schema marks it required.
    status: { replicas: 0 },
  };
}

export interface RolloutParams {
  desired: number;
  maxSurge: number;
  maxUnavailable: number;
}

export function rolloutParams(deploy: KubeObject): RolloutParams {
  const desired = deploy.spec?.replicas ?? 1;
  const ru = deploy.spec?.strategy?.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge, desired, true, '25%');
  let maxUnavailable = scaledValue(ru.maxUnavailable, desired, false, '25%');
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { desired, maxSurge, maxUnavailable };
}

const replicasOf = (rs: KubeObject): number => rs.spec?.replicas ?? 0;
const availableOf = (rs: KubeObject): number => rs.status?.availableReplicas ?? 0;

/**
 * Desired spec.replicas for each ReplicaSet (by name). `oldPodsExist` tells Recreate whether
 * old pods are still running, since the new ReplicaSet must wait for them.
 */
export function planScale(
  deploy: KubeObject,
  newRS: KubeObject,
  oldRSs: KubeObject[],
  oldPodsExist: boolean,
): Map<string, number> {
  const target = new Map<string, number>();
  const { desired, maxSurge, maxUnavailable } = rolloutParams(deploy);
  const activeOld = oldRSs.filter((rs) => replicasOf(rs) > 0);
  if (deploy.spec?.strategy?.type === 'Recreate') {
    for (const rs of activeOld) target.set(rs.metadata.name, 0);
    target.set(newRS.metadata.name, activeOld.length > 0 || oldPodsExist ? replicasOf(newRS) : desired);
    return target;
  }
  if (activeOld.length === 0) {
    target.set(newRS.metadata.name, desired);
    return target;
  }
  // Scale up the new ReplicaSet within maxSurge.
  let newReplicas = replicasOf(newRS);
  const total = newReplicas + activeOld.reduce((s, rs) => s + replicasOf(rs), 0);
  if (newReplicas < desired) newReplicas += Math.max(0, Math.min(desired + maxSurge - total, desired - newReplicas));
  else if (newReplicas > desired) newReplicas = desired;
  target.set(newRS.metadata.name, newReplicas);

  // Scale down old ReplicaSets within maxUnavailable: unhealthy replicas first, then healthy.
  const minAvailable = desired - maxUnavailable;
  const newUnavailable = Math.max(0, replicasOf(newRS) - availableOf(newRS));
  const allPods = replicasOf(newRS) + activeOld.reduce((s, rs) => s + replicasOf(rs), 0);
  let cleanupBudget = Math.max(0, allPods - minAvailable - newUnavailable);
  const oldest = [...activeOld].sort((a, b) => revisionOf(a) - revisionOf(b));
  const remaining = new Map(oldest.map((rs) => [rs.metadata.name, replicasOf(rs)]));
  for (const rs of oldest) {
    const unhealthy = Math.max(0, replicasOf(rs) - availableOf(rs));
    const cut = Math.min(unhealthy, cleanupBudget);
    remaining.set(rs.metadata.name, replicasOf(rs) - cut);
    cleanupBudget -= cut;
  }
  const totalAvailable =
    availableOf(newRS) +
    activeOld.reduce((s, rs) => s + Math.min(availableOf(rs), remaining.get(rs.metadata.name) ?? 0), 0);
  let scaleDownBudget = Math.max(0, totalAvailable - minAvailable);
  for (const rs of oldest) {
    const current = remaining.get(rs.metadata.name) ?? 0;
    const cut = Math.min(current, scaleDownBudget);
    remaining.set(rs.metadata.name, current - cut);
    scaleDownBudget -= cut;
  }
  for (const [name, replicas] of remaining) target.set(name, replicas);
  return target;
}

export function isOldPodPresent(pods: KubeObject[]): boolean {
  return pods.some((p) => isPodActive(p) || p.metadata.deletionTimestamp);
}

export interface DeploymentStatusInput {
  deploy: KubeObject;
  newRS: KubeObject;
  allRSs: KubeObject[];
  createdNewRS: boolean;
  now: number;
  nowIso: string;
}

export function deploymentStatus(input: DeploymentStatusInput): Record<string, unknown> {
  const { deploy, newRS, allRSs, createdNewRS, now, nowIso } = input;
  const { desired, maxUnavailable } = rolloutParams(deploy);
  const sum = (f: (rs: KubeObject) => number) => allRSs.reduce((s, rs) => s + f(rs), 0);
  const replicas = sum((rs) => rs.status?.replicas ?? 0);
  const updatedReplicas = newRS.status?.replicas ?? 0;
  const readyReplicas = sum((rs) => rs.status?.readyReplicas ?? 0);
  const availableReplicas = sum((rs) => rs.status?.availableReplicas ?? 0);
  const old = deploy.status ?? {};
  let conditions: Condition[] = old.conditions ?? [];

  conditions = setCondition(
    conditions,
    availableReplicas >= desired - maxUnavailable
      ? {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        }
      : {
          type: 'Available',
          status: 'False',
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        },
    nowIso,
  );
  conditions = withUpdateTime(conditions, 'Available', findCondition(old.conditions, 'Available'), nowIso);

  const rsName = newRS.metadata.name;
  const complete =
    updatedReplicas === desired &&
    replicas === desired &&
    availableReplicas === desired &&
    (newRS.spec?.replicas ?? 0) === desired;
  const countsMoved =
    old.updatedReplicas !== updatedReplicas ||
    old.readyReplicas !== readyReplicas ||
    old.availableReplicas !== availableReplicas ||
    old.replicas !== replicas;
  const prevProgressing = findCondition(old.conditions, 'Progressing');
  let progressing: Condition | undefined;
  if (complete)
    progressing = {
      type: 'Progressing',
      status: 'True',
      reason: 'NewReplicaSetAvailable',
      message: `ReplicaSet "${rsName}" has successfully progressed.`,
    };
  else if (createdNewRS)
    progressing = {
      type: 'Progressing',
      status: 'True',
      reason: 'NewReplicaSetCreated',
      message: `Created new replica set "${rsName}"`,
    };
  else if (countsMoved || !prevProgressing)
    progressing = {
      type: 'Progressing',
      status: 'True',
      reason: 'ReplicaSetUpdated',
      message: `ReplicaSet "${rsName}" is progressing.`,
    };
  else if (prevProgressing.reason !== 'NewReplicaSetAvailable' && prevProgressing.status === 'True') {
    const deadline = (deploy.spec?.progressDeadlineSeconds ?? 600) * 1000;
    const since = Date.parse(prevProgressing.lastUpdateTime ?? prevProgressing.lastTransitionTime ?? '') || now;
    if (now - since > deadline)
      progressing = {
        type: 'Progressing',
        status: 'False',
        reason: 'ProgressDeadlineExceeded',
        message: `ReplicaSet "${rsName}" has timed out progressing.`,
      };
  }
  if (progressing) {
    const changed =
      !prevProgressing ||
      prevProgressing.reason !== progressing.reason ||
      prevProgressing.status !== progressing.status ||
      prevProgressing.message !== progressing.message ||
      countsMoved;
    conditions = setCondition(conditions, progressing, nowIso);
    const c = conditions.find((x) => x.type === 'Progressing')!;
    c.lastUpdateTime = changed ? nowIso : (prevProgressing?.lastUpdateTime ?? nowIso);
  }

  const status: Record<string, unknown> = {
    observedGeneration: deploy.metadata.generation ?? 1,
    replicas,
    updatedReplicas,
    readyReplicas,
    availableReplicas,
    conditions,
  };
  const unavailable = Math.max(0, desired - availableReplicas);
  if (unavailable > 0) status.unavailableReplicas = unavailable;
  if (old.collisionCount !== undefined) status.collisionCount = old.collisionCount;
  return status;
}

function withUpdateTime(
  conditions: Condition[],
  type: string,
  previous: Condition | undefined,
  nowIso: string,
): Condition[] {
  return conditions.map((c) => {
    if (c.type !== type) return c;
    const same =
      previous && previous.status === c.status && previous.reason === c.reason && previous.message === c.message;
    return { ...c, lastUpdateTime: same ? (previous.lastUpdateTime ?? nowIso) : nowIso };
  });
}
