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
  return {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': name,
    'controller-uid': uid,
    'job-name': name,
  };
}

/**
 * The counts and inputs one sync decides from. The phase planners below update `conditions` and
 * `failed` in place, so that the status written at the end reflects what they decided.
 */
interface JobSync {
  spec: Record<string, any>;
  status: Record<string, any>;
  pods: KubeObject[];
  active: KubeObject[];
  succeeded: number;
  failed: number;
  conditions: Condition[];
  /** Container restarts of active pods; they count against backoffLimit under restartPolicy OnFailure. */
  restarts: number;
  deadlineMs: number | undefined;
  completions: number | undefined;
  parallelism: number;
  now: number;
  nowIso: string;
}

type JobFailure = { reason: string; message: string };

export function planJob(
  job: KubeObject,
  pods: KubeObject[],
  counted: JobCounted,
  now: number,
  nowIso: string,
  options: JobPlanOptions,
): JobPlan {
  const plan: JobPlan = {
    create: 0,
    remove: [],
    status: structuredClone(job.status ?? {}),
    newlyCounted: { succeeded: [], failed: [] },
    deleteJob: false,
  };
  if (isJobFinished(job)) return planFinished(job, plan, now);

  const sync = beginSync(job, pods, counted, plan, now, nowIso);
  const failure = failureOf(sync);
  const successMet = isSuccessMet(sync);
  // One phase per sync, in the controller's order of precedence: failure wins over success,
  // and both win over suspension.
  if (failure) planFailure(sync, plan, counted, failure);
  else if (successMet) planSuccess(sync, plan);
  else if (sync.spec.suspend) planSuspended(sync, plan);
  else planRunning(sync, plan, options);
  writeStatus(sync, plan, !!failure || successMet);
  return plan;
}

/** Counts newly terminated pods, stamps startTime and gathers what the phase decision needs. */
function beginSync(
  job: KubeObject,
  pods: KubeObject[],
  counted: JobCounted,
  plan: JobPlan,
  now: number,
  nowIso: string,
): JobSync {
  const spec = job.spec ?? {};
  const status = plan.status;
  const active = pods.filter(isPodActive);
  countTerminated(pods, counted, plan);
  const succeeded = (status.succeeded ?? 0) + plan.newlyCounted.succeeded.length;
  const failed = (status.failed ?? 0) + plan.newlyCounted.failed.length;
  // A suspended Job has not started: startTime is set on the first unsuspended sync.
  status.startTime ??= spec.suspend ? undefined : nowIso;
  if (status.startTime === undefined) delete status.startTime;

  const conditions: Condition[] = status.conditions ?? [];
  const restarts = spec.template?.spec?.restartPolicy === 'OnFailure' ? countRestarts(active) : 0;
  const startedAt = Date.parse(status.startTime ?? '') || now;
  const deadlineMs =
    spec.activeDeadlineSeconds !== undefined ? startedAt + spec.activeDeadlineSeconds * 1000 : undefined;
  const completions: number | undefined = spec.completions ?? undefined;
  const parallelism: number = spec.parallelism ?? 1;
  return {
    spec,
    status,
    pods,
    active,
    succeeded,
    failed,
    conditions,
    restarts,
    deadlineMs,
    completions,
    parallelism,
    now,
    nowIso,
  };
}

/** Records the uids of terminal pods not yet in status.succeeded / status.failed. */
function countTerminated(pods: KubeObject[], counted: JobCounted, plan: JobPlan): void {
  for (const pod of pods) {
    const uid = pod.metadata.uid ?? '';
    if (pod.status?.phase === 'Succeeded' && !counted.succeeded.has(uid)) plan.newlyCounted.succeeded.push(uid);
    if (pod.status?.phase === 'Failed' && !counted.failed.has(uid)) plan.newlyCounted.failed.push(uid);
  }
}

function countRestarts(active: KubeObject[]): number {
  return active.reduce(
    (s, p) => s + (p.status?.containerStatuses ?? []).reduce((c: number, cs: any) => c + (cs.restartCount ?? 0), 0),
    0,
  );
}

/** Why the Job fails: an earlier FailureTarget sticks, then backoffLimit, then activeDeadlineSeconds. */
function failureOf(sync: JobSync): JobFailure | undefined {
  const { spec, now, deadlineMs } = sync;
  const backoffLimit = spec.backoffLimit ?? 6;
  const target = findCondition(sync.conditions, 'FailureTarget');
  if (target?.status === 'True') return { reason: target.reason ?? '', message: target.message ?? '' };
  if (sync.failed + sync.restarts > backoffLimit) return JOB_REASONS.backoff;
  if (deadlineMs !== undefined && now >= deadlineMs && !spec.suspend) return JOB_REASONS.deadline;
  return undefined;
}

/** Without completions, the first success completes the Job once no pod is left running. */
function isSuccessMet(sync: JobSync): boolean {
  const { completions, succeeded } = sync;
  return (
    findCondition(sync.conditions, 'SuccessCriteriaMet')?.status === 'True' ||
    (completions !== undefined ? succeeded >= completions : succeeded >= 1 && sync.active.length === 0)
  );
}

/** FailureTarget first; Failed only once every active pod is gone. */
function planFailure(sync: JobSync, plan: JobPlan, counted: JobCounted, failure: JobFailure): void {
  const { active, nowIso } = sync;
  sync.conditions = setCondition(sync.conditions, { type: 'FailureTarget', status: 'True', ...failure }, nowIso);
  plan.remove = active;
  // Pods killed because the Job failed count as failed, as in Kubernetes.
  for (const p of active)
    if (!counted.failed.has(p.metadata.uid ?? '')) plan.newlyCounted.failed.push(p.metadata.uid ?? '');
  sync.failed += active.length;
  if (active.length === 0)
    sync.conditions = setCondition(sync.conditions, { type: 'Failed', status: 'True', ...failure }, nowIso);
  else plan.requeueAfterMs = 200;
}

/** SuccessCriteriaMet first; Complete only once every active pod is gone. */
function planSuccess(sync: JobSync, plan: JobPlan): void {
  const { active, nowIso } = sync;
  sync.conditions = setCondition(
    sync.conditions,
    { type: 'SuccessCriteriaMet', status: 'True', ...JOB_REASONS.complete },
    nowIso,
  );
  plan.remove = active;
  if (active.length === 0) {
    sync.conditions = setCondition(
      sync.conditions,
      { type: 'Complete', status: 'True', ...JOB_REASONS.complete },
      nowIso,
    );
    sync.status.completionTime = nowIso;
  } else plan.requeueAfterMs = 200;
}

function planSuspended(sync: JobSync, plan: JobPlan): void {
  plan.remove = sync.active;
  sync.conditions = setCondition(
    sync.conditions,
    { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' },
    sync.nowIso,
  );
}

/** Scales active pods toward the wanted count, creating only once the failure back-off has passed. */
function planRunning(sync: JobSync, plan: JobPlan, options: JobPlanOptions): void {
  const { active, now, deadlineMs } = sync;
  if (findCondition(sync.conditions, 'Suspended')?.status === 'True') {
    sync.conditions = setCondition(
      sync.conditions,
      { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' },
      sync.nowIso,
    );
  }
  const wanted = wantedActive(sync);
  if (active.length > wanted) plan.remove = active.slice(wanted);
  else if (active.length < wanted) {
    const readyAt = nextCreationTime(sync.pods, sync.failed, options.backoffBaseMs);
    if (readyAt <= now) plan.create = wanted - active.length;
    else plan.requeueAfterMs = readyAt - now;
  }
  // Wake up for the deadline even when nothing else would requeue the Job.
  if (deadlineMs !== undefined)
    plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? Infinity, Math.max(10, deadlineMs - now));
}

/** Pods to keep running: up to parallelism, never more than the completions still missing. */
function wantedActive(sync: JobSync): number {
  const { completions, parallelism, succeeded } = sync;
  return Math.max(
    0,
    completions !== undefined ? Math.min(parallelism, completions - succeeded) : succeeded > 0 ? 0 : parallelism,
  );
}

/** A terminating Job reports no active or ready pods, though removal may still be in progress. */
function writeStatus(sync: JobSync, plan: JobPlan, terminating: boolean): void {
  const { status, active, conditions } = sync;
  const remaining = active.length - plan.remove.length;
  setCount(status, 'active', terminating ? 0 : remaining);
  setCount(status, 'succeeded', sync.succeeded);
  setCount(status, 'failed', sync.failed);
  status.ready = terminating ? 0 : active.filter((p) => !plan.remove.includes(p) && isPodReady(p)).length;
  status.uncountedTerminatedPods = {};
  if (conditions.length) status.conditions = conditions;
}

function planFinished(job: KubeObject, plan: JobPlan, now: number): JobPlan {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null) return plan;
  const finishedCondition = job.status?.conditions?.find(
    (c: Condition) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
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
  const times = (pod.status?.containerStatuses ?? []).map(
    (cs: any) => Date.parse(cs.state?.terminated?.finishedAt ?? '') || 0,
  );
  return Math.max(0, ...times);
}

function setCount(status: Record<string, any>, field: string, value: number): void {
  if (value > 0) status[field] = value;
  else delete status[field];
}
