// Pure decisions of the Job controller, following Kubernetes 1.31: pods are created up to
// parallelism, failures are counted against backoffLimit (pods for restartPolicy Never,
// container restarts for OnFailure), activeDeadlineSeconds ends the Job, and terminal states
// are reached in two steps: FailureTarget / SuccessCriteriaMet first (while remaining pods are
// terminated), then Failed / Complete.
import type { KubeObject } from './kube-client.js';
import { findCondition, isPodActive, isPodReady, setCondition, type Condition } from './util.js';

export const JOB_REASONS = {
  backoff: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
  deadline: { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' },
  complete: { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
} as const;

export interface JobCounted {
  succeeded: Set<string>;
  failed: Set<string>;
}

export interface JobPlan {
  create: number;
  remove: KubeObject[];
  status: Record<string, any>;
  /** Pod uids whose terminal phase this plan adds to status.succeeded / status.failed. */
  newlyCounted: { succeeded: string[]; failed: string[] };
  deleteJob: boolean;
  requeueAfterMs?: number;
}

export interface JobPlanOptions {
  /** First delay before re-creating a failed pod; doubles per failure (k8s: 10 s, capped 6 min). */
  backoffBaseMs: number;
}

export function isJobFinished(job: KubeObject): boolean {
  return ['Complete', 'Failed'].some((t) => findCondition(job.status?.conditions, t)?.status === 'True');
}

export function jobPodLabels(job: KubeObject): Record<string, string> {
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name;
  return { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': name, 'controller-uid': uid, 'job-name': name };
}

export function planJob(job: KubeObject, pods: KubeObject[], counted: JobCounted, now: number, nowIso: string, options: JobPlanOptions): JobPlan {
  const plan: JobPlan = { create: 0, remove: [], status: structuredClone(job.status ?? {}), newlyCounted: { succeeded: [], failed: [] }, deleteJob: false };
  if (isJobFinished(job)) return planFinished(job, plan, now);

  const spec = job.spec ?? {};
  const status = plan.status;
  const active = pods.filter(isPodActive);
  for (const pod of pods) {
    const uid = pod.metadata.uid ?? '';
    if (pod.status?.phase === 'Succeeded' && !counted.succeeded.has(uid)) plan.newlyCounted.succeeded.push(uid);
    if (pod.status?.phase === 'Failed' && !counted.failed.has(uid)) plan.newlyCounted.failed.push(uid);
  }
  const succeeded = (status.succeeded ?? 0) + plan.newlyCounted.succeeded.length;
  let failed = (status.failed ?? 0) + plan.newlyCounted.failed.length;
  status.startTime ??= spec.suspend ? undefined : nowIso;
  if (status.startTime === undefined) delete status.startTime;

  let conditions: Condition[] = status.conditions ?? [];
  const restarts = spec.template?.spec?.restartPolicy === 'OnFailure'
    ? active.reduce((s, p) => s + (p.status?.containerStatuses ?? []).reduce((c: number, cs: any) => c + (cs.restartCount ?? 0), 0), 0)
    : 0;
  const backoffLimit = spec.backoffLimit ?? 6;
  const startedAt = Date.parse(status.startTime ?? '') || now;
  const deadlineMs = spec.activeDeadlineSeconds !== undefined ? startedAt + spec.activeDeadlineSeconds * 1000 : undefined;

  let failure: { reason: string; message: string } | undefined;
  const target = findCondition(conditions, 'FailureTarget');
  if (target?.status === 'True') failure = { reason: target.reason ?? '', message: target.message ?? '' };
  else if (failed + restarts > backoffLimit) failure = JOB_REASONS.backoff;
  else if (deadlineMs !== undefined && now >= deadlineMs && !spec.suspend) failure = JOB_REASONS.deadline;

  const completions: number | undefined = spec.completions ?? undefined;
  const parallelism: number = spec.parallelism ?? 1;
  const successMet = findCondition(conditions, 'SuccessCriteriaMet')?.status === 'True'
    || (completions !== undefined ? succeeded >= completions : succeeded >= 1 && active.length === 0);

  if (failure) {
    conditions = setCondition(conditions, { type: 'FailureTarget', status: 'True', ...failure }, nowIso);
    plan.remove = active;
    // Pods killed because the Job failed count as failed, as in Kubernetes.
    for (const p of active) if (!counted.failed.has(p.metadata.uid ?? '')) plan.newlyCounted.failed.push(p.metadata.uid ?? '');
    failed += active.length;
    if (active.length === 0) conditions = setCondition(conditions, { type: 'Failed', status: 'True', ...failure }, nowIso);
    else plan.requeueAfterMs = 200;
  } else if (successMet) {
    conditions = setCondition(conditions, { type: 'SuccessCriteriaMet', status: 'True', ...JOB_REASONS.complete }, nowIso);
    plan.remove = active;
    if (active.length === 0) {
      conditions = setCondition(conditions, { type: 'Complete', status: 'True', ...JOB_REASONS.complete }, nowIso);
      status.completionTime = nowIso;
    } else plan.requeueAfterMs = 200;
  } else if (spec.suspend) {
    plan.remove = active;
    conditions = setCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, nowIso);
  } else {
    if (findCondition(conditions, 'Suspended')?.status === 'True') {
      conditions = setCondition(conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, nowIso);
    }
    const wanted = Math.max(0, completions !== undefined ? Math.min(parallelism, completions - succeeded) : succeeded > 0 ? 0 : parallelism);
    if (active.length > wanted) plan.remove = active.slice(wanted);
    else if (active.length < wanted) {
      const readyAt = nextCreationTime(pods, failed, options.backoffBaseMs);
      if (readyAt <= now) plan.create = wanted - active.length;
      else plan.requeueAfterMs = readyAt - now;
    }
    if (deadlineMs !== undefined) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(10, deadlineMs - now));
  }

  const remaining = active.length - plan.remove.length;
  setCount(status, 'active', failure || successMet ? 0 : remaining);
  setCount(status, 'succeeded', succeeded);
  setCount(status, 'failed', failed);
  status.ready = failure || successMet ? 0 : active.filter((p) => !plan.remove.includes(p) && isPodReady(p)).length;
  status.uncountedTerminatedPods = {};
  if (conditions.length) status.conditions = conditions;
  return plan;
}

function planFinished(job: KubeObject, plan: JobPlan, now: number): JobPlan {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null) return plan;
  const finishedCondition = job.status?.conditions?.find((c: Condition) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
  const finishedAt = Date.parse(job.status?.completionTime ?? finishedCondition?.lastTransitionTime ?? '') || now;
  const expiresAt = finishedAt + ttl * 1000;
  if (now >= expiresAt) plan.deleteJob = true;
  else plan.requeueAfterMs = expiresAt - now;
  return plan;
}

/** When the next replacement pod may be created: exponential back-off after pod failures. */
function nextCreationTime(pods: KubeObject[], failed: number, baseMs: number): number {
  if (failed === 0) return 0;
  const lastFailure = pods
    .filter((p) => p.status?.phase === 'Failed')
    .map((p) => finishedAt(p))
    .reduce((a, b) => Math.max(a, b), 0);
  if (!lastFailure) return 0;
  const delay = Math.min(baseMs * 2 ** (failed - 1), 360_000);
  return lastFailure + delay;
}

function finishedAt(pod: KubeObject): number {
  const times = (pod.status?.containerStatuses ?? []).map((cs: any) => Date.parse(cs.state?.terminated?.finishedAt ?? '') || 0);
  return Math.max(0, ...times);
}

function setCount(status: Record<string, any>, field: string, value: number): void {
  if (value > 0) status[field] = value;
  else delete status[field];
}
