// Graceful deletion of Pods, as kube-apiserver's pod strategy and its generic BeforeDelete do:
// a DELETE of a pod that a kubelet runs does not remove it but sets `deletionTimestamp` (now +
// grace) and `deletionGracePeriodSeconds`; the kubelet stops the containers (SIGTERM, SIGKILL
// after the grace) and then deletes the pod with grace 0. Meanwhile the pod is `Terminating`:
// controllers count it out (ReplicaSets replace it, endpoints drop it) while its processes and
// its volumes are still there. A later DELETE may only shorten the grace. Pure.
import type { KObject } from './registry.js';

/**
 * Seconds the kubelet gets before the pod goes, 0 for at once: the request's gracePeriodSeconds,
 * else the pod's terminationGracePeriodSeconds (defaulted to 30). Pods no kubelet runs go at
 * once: never scheduled, already finished (Succeeded/Failed), or bound to a Node that does not
 * exist (upstream, the pod garbage collector force-deletes those after a 40 s quarantine).
 */
export function podDeletionGrace(
  pod: KObject,
  requested: number | undefined,
  nodeExists: (name: string) => boolean,
): number {
  const nodeName: string | undefined = pod.spec?.nodeName;
  if (!nodeName || !nodeExists(nodeName)) return 0;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, Math.floor(grace));
}

/**
 * The metadata of a pod being deleted with `grace` seconds, or undefined when nothing changes
 * (a deletion already under way with a grace no longer than this one). A shorter grace counts
 * from when the deletion was first asked for, as upstream.
 */
export function gracefulDeletionMeta(meta: KObject, grace: number, nowMs: number): KObject | undefined {
  const current: number | undefined = meta.deletionGracePeriodSeconds;
  if (meta.deletionTimestamp && current !== undefined && grace >= current) return undefined;
  const askedAt = meta.deletionTimestamp ? Date.parse(meta.deletionTimestamp) - (current ?? 0) * 1000 : nowMs;
  const at = new Date(askedAt + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  return { ...meta, deletionTimestamp: at, deletionGracePeriodSeconds: grace };
}
