// Step 1 of a reconcile: what the cache shows, as rollout events (no API calls). Manual
// annotations, the Ready versions, the serving pods and the clock; the state machine decides
// what they mean for the status.
import { Annotations, Labels, type InferenceService, type TrainingRun, type VersionRole } from '../../api/index.js';
import { Kinds, type KubeObject } from '../../runtime/kinds.js';
import type { ContainerStatus } from '../common/k8s.js';
import { parseStepMessage, unschedulableMessage } from '../common/observe.js';
import { ROLE_SERVICE_PORT, roleName } from './builders.js';
import type { RolloutContext } from './context.js';
import type { PodCounts, RolePods, RolloutEvent } from './phases.js';
import { readyVersions } from './policy.js';

interface PodLike extends KubeObject {
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
}

const isReady = (p: PodLike): boolean =>
  p.status?.phase === 'Running' && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/**
 * Why a pod does not serve: no node can take it (the scheduler's words; not permanent, a node
 * may be added), or its fetch step or server exited with an error, from its termination
 * message (the serving image writes `{"reason","message"}`: DigestMismatch, StorageAccessDenied, ...).
 */
export function podFailure(pod: PodLike): { reason: string; message: string } | undefined {
  const unschedulable = unschedulableMessage(pod);
  if (unschedulable) return { reason: 'Unschedulable', message: unschedulable };
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const cs of statuses) {
    const t = cs.state?.terminated ?? cs.lastState?.terminated;
    if (!t || t.exitCode === 0) continue;
    const failure = parseStepMessage(cs.name, t.message, t.exitCode);
    return { reason: failure.reason, message: `pod ${pod.metadata?.name}: ${cs.name}: ${failure.message}` };
  }
  return undefined;
}

function rolePods(ctx: RolloutContext, role: VersionRole): RolePods {
  const { isvc } = ctx;
  const labels = { [Labels.inferenceService]: isvc.metadata.name ?? '', [Labels.role]: role };
  const out: Record<string, { pods: number; ready: number; failure?: { reason: string; message: string } }> = {};
  for (const pod of ctx.kube.cache.list<PodLike>(Kinds.Pod, isvc.metadata.namespace, labels)) {
    if (pod.metadata?.deletionTimestamp) continue;
    const version = pod.metadata?.labels?.[Labels.version] ?? '';
    const seen = (out[version] ??= { pods: 0, ready: 0 });
    seen.pods++;
    if (isReady(pod)) seen.ready++;
    else seen.failure ??= podFailure(pod);
  }
  return out;
}

export function podCounts(ctx: RolloutContext): PodCounts {
  return { stable: rolePods(ctx, 'stable'), canary: rolePods(ctx, 'canary') };
}

/** Manual annotations whose value this service has not acted on yet. */
export function manualEvents(isvc: InferenceService): RolloutEvent[] {
  const out: RolloutEvent[] = [];
  for (const action of ['abort', 'rollback', 'promote'] as const) {
    const value = isvc.metadata.annotations?.[Annotations[action]];
    if (value && value !== isvc.status?.manual?.[action]) out.push({ type: 'Manual', action, value });
  }
  return out;
}

/** In order: manual actions first (a promote forgives failed versions before the target is picked). */
export function observe(ctx: RolloutContext, pods: PodCounts): RolloutEvent[] {
  return [
    ...manualEvents(ctx.isvc),
    { type: 'Versions', ready: readyVersions(ctx.isvc, ctx.versions) },
    { type: 'Pods', pods },
    { type: 'Clock' },
  ];
}

/** A TrainingRun this service triggered has not finished. */
export function retrainInFlight(ctx: RolloutContext): boolean {
  const runs = ctx.kube.cache.list<TrainingRun>(Kinds.TrainingRun, ctx.isvc.metadata.namespace, {
    [Labels.inferenceService]: ctx.isvc.metadata.name ?? '',
  });
  return runs.some((r) => r.status?.phase !== 'Succeeded' && r.status?.phase !== 'Failed');
}

/** Base URLs of the role Services by their cluster IPs (undefined until the Service has one). */
export function roleUrls(ctx: RolloutContext): Record<VersionRole, string | undefined> {
  const url = (role: VersionRole) => {
    const svc = ctx.kube.cache.get<KubeObject & { spec?: { clusterIP?: string } }>(
      Kinds.Service,
      ctx.isvc.metadata.namespace ?? '',
      roleName(ctx.isvc, role),
    );
    const ip = svc?.spec?.clusterIP;
    return ip && ip !== 'None' ? `http://${ip}:${ROLE_SERVICE_PORT}` : undefined;
  };
  return { stable: url('stable'), canary: url('canary') };
}
