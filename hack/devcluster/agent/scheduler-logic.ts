// Pure decisions of the dev cluster's scheduler, a small kube-scheduler: the filters of its
// default profile that matter here (NodeUnschedulable, TaintToleration, NodeAffinity with
// nodeSelector, NodeResourcesFit, VolumeRestrictions for ReadWriteOncePod, VolumeBinding's
// wait for unbound claims), then a score that spreads pods, and kube-scheduler's
// FailedScheduling wording when no node fits.
import type { KubeObject } from './kube-client.js';
import type { ClaimLookup } from './attach-logic.js';
import { holdsVolumes } from './attach-logic.js';
import { resourceFitReasons } from './resource-fit.js';

export const DEFAULT_SCHEDULER = 'default-scheduler';

export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_RWOP =
  'node(s) unavailable due to PersistentVolumeClaim with ReadWriteOncePod access mode already in-use by another pod';
export const REASON_UNBOUND = 'pod has unbound immediate PersistentVolumeClaims';
const NOT_HELPFUL = 'Preemption is not helpful for scheduling';
const NO_VICTIMS = 'No preemption victims found for incoming pod';

interface Taint {
  key: string;
  value?: string;
  effect: string;
}
interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
}

/** ToleratesTaint of k8s.io/api/core/v1: empty effect matches every effect, empty key with Exists every key. */
export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.key && t.key !== taint.key) return false;
    if (!t.key && t.operator !== 'Exists') return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}
interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[];
  matchFields?: NodeSelectorRequirement[];
}

function requirementMatches(req: NodeSelectorRequirement, fields: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(fields, req.key);
  const value = fields[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
      return has && values.length === 1 && /^-?\d+$/.test(value) && Number(value) > Number(values[0]);
    case 'Lt':
      return has && values.length === 1 && /^-?\d+$/.test(value) && Number(value) < Number(values[0]);
    default:
      return false;
  }
}

/** Terms are ORed, requirements of a term ANDed; a term with no requirement matches nothing. */
function termMatches(term: NodeSelectorTerm, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  return (
    exprs.every((r) => requirementMatches(r, node.metadata.labels ?? {})) &&
    fields.every((r) => requirementMatches(r, { 'metadata.name': node.metadata.name }))
  );
}

/** The NodeAffinity filter: spec.nodeSelector and the required node affinity must both match. */
export function matchesNodeAffinity(pod: KubeObject, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries<string>(pod.spec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms: NodeSelectorTerm[] | undefined =
    pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return !terms || terms.some((t) => termMatches(t, node));
}

/** Why the pod cannot go to this node (the first failing filter, as the framework records it), or undefined. */
export function nodeFilterReason(pod: KubeObject, node: KubeObject): string | undefined {
  const taints: Taint[] = node.spec?.taints ?? [];
  if (
    node.spec?.unschedulable &&
    !tolerates(pod.spec?.tolerations, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })
  )
    return REASON_UNSCHEDULABLE;
  const untolerated = taints.find(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(pod.spec?.tolerations, t),
  );
  if (untolerated) return `node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`;
  if (!matchesNodeAffinity(pod, node)) return REASON_AFFINITY;
  return undefined;
}

/**
 * Pod-level checks kube-scheduler makes before looking at nodes: a claim not bound yet
 * (VolumeBinding waits for it), a ReadWriteOncePod claim another unfinished pod uses
 * (VolumeRestrictions). Claims that do not exist are not checked (see the README).
 */
export function podVolumeReason(pod: KubeObject, pods: KubeObject[], claims: ClaimLookup): string | undefined {
  const ns = pod.metadata.namespace ?? 'default';
  const names: string[] = (pod.spec?.volumes ?? []).map((v: any) => v.persistentVolumeClaim?.claimName).filter(Boolean);
  for (const name of names) {
    const pvc = claims(ns, name);
    if (pvc && pvc.status?.phase !== 'Bound') return REASON_UNBOUND;
  }
  const rwop = names.filter((name) => (claims(ns, name)?.spec?.accessModes ?? []).includes('ReadWriteOncePod'));
  if (rwop.length === 0) return undefined;
  const inUse = pods.some(
    (p) =>
      p.metadata.uid !== pod.metadata.uid &&
      p.metadata.namespace === ns &&
      holdsVolumes(p) &&
      (p.spec?.volumes ?? []).some((v: any) => rwop.includes(v.persistentVolumeClaim?.claimName)),
  );
  return inUse ? REASON_RWOP : undefined;
}

/** kube-scheduler's FitError text: reasons counted per node, "N reason" sorted, then the preemption part. */
export function failedSchedulingMessage(nodeCount: number, reasons: string[], preemption: string[]): string {
  if (nodeCount === 0) return 'no nodes available to schedule pods';
  const counted = (list: string[]) => {
    const counts = new Map<string, number>();
    for (const r of list) counts.set(r, (counts.get(r) ?? 0) + 1);
    return [...counts]
      .map(([r, n]) => `${n} ${r}`)
      .sort()
      .join(', ');
  };
  return `0/${nodeCount} nodes are available: ${counted(reasons)}. preemption: 0/${nodeCount} nodes are available: ${counted(preemption)}.`;
}

export type ScheduleResult = { node: string } | { unschedulable: string };

const controllerUid = (p: KubeObject) => p.metadata.ownerReferences?.find((o) => o.controller)?.uid;

/**
 * Filters every node, then picks the one with the fewest unfinished pods of the same controller
 * (replicas of one Deployment or Job spread, like the default topology spread on hostname),
 * then the fewest unfinished pods, then the name: a deterministic choice.
 */
export function schedulePod(
  pod: KubeObject,
  nodes: KubeObject[],
  pods: KubeObject[],
  claims: ClaimLookup,
): ScheduleResult {
  const volumeReason = podVolumeReason(pod, pods, claims);
  if (volumeReason) {
    const resolvable = volumeReason === REASON_RWOP;
    const msg =
      volumeReason === REASON_UNBOUND
        ? `0/${nodes.length} nodes are available: ${volumeReason}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} ${NOT_HELPFUL}.`
        : failedSchedulingMessage(
            nodes.length,
            nodes.map(() => volumeReason),
            nodes.map(() => (resolvable ? NO_VICTIMS : NOT_HELPFUL)),
          );
    return { unschedulable: nodes.length ? msg : 'no nodes available to schedule pods' };
  }
  const reasons: string[] = [];
  const preemption: string[] = [];
  const feasible: KubeObject[] = [];
  for (const node of nodes) {
    const reason = nodeFilterReason(pod, node);
    // Resources are checked after the filters above (NodeResourcesFit comes after NodeAffinity),
    // and only resources could be freed by preemption, which finds no victims here.
    const unfit = reason ? [] : resourceFitReasons(pod, node, pods);
    if (reason) {
      reasons.push(reason);
      preemption.push(NOT_HELPFUL);
    } else if (unfit.length) {
      reasons.push(...unfit);
      preemption.push(NO_VICTIMS);
    } else feasible.push(node);
  }
  if (feasible.length === 0) return { unschedulable: failedSchedulingMessage(nodes.length, reasons, preemption) };
  const owner = controllerUid(pod);
  const live = pods.filter((p) => p.metadata.uid !== pod.metadata.uid && holdsVolumes(p));
  const score = (node: KubeObject) => {
    const on = live.filter((p) => p.spec.nodeName === node.metadata.name);
    return [owner ? on.filter((p) => controllerUid(p) === owner).length : 0, on.length];
  };
  const scored = feasible.map((n) => ({ name: n.metadata.name, s: score(n) }));
  scored.sort((a, b) => a.s[0] - b.s[0] || a.s[1] - b.s[1] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { node: scored[0].name };
}

/** Pods this scheduler places: unbound, not being deleted, not finished, asking for the default scheduler. */
export function needsScheduling(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return (
    !pod.spec?.nodeName &&
    !pod.metadata.deletionTimestamp &&
    phase !== 'Succeeded' &&
    phase !== 'Failed' &&
    (pod.spec?.schedulerName ?? DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER
  );
}
