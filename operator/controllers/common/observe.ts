// What a Job and its Pods say about a one-pod batch step (pure), shared by the training and the
// validation Jobs: which state it is in, why, and the termination message of the container that
// decides the outcome. Image pull and container config problems only show on the Pods, so they
// are read from there while the Job is still active.
import { jobCondition, type ContainerStatus, type Job, type JobCondition, type Pod, type PodSpec } from './k8s.js';

export type JobState = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface JobObservation {
  state: JobState;
  /** CamelCase reason: JobPending, Unschedulable, JobRunning, Completed, BackoffLimitExceeded, ImagePullBackOff, ... */
  reason: string;
  message: string;
  startTime?: string;
  completionTime?: string;
  /** Termination message of the container on the pod that decided the outcome. */
  terminationMessage?: string;
  exitCode?: number;
  /** A step other than the container (a fetch before it, an upload after it) that failed: its reason and message. */
  stepFailure?: StepFailure;
}

export interface StepFailure {
  /** The step's container name, e.g. fetch-model or upload. */
  step: string;
  /** CamelCase, from the step's termination message (DigestMismatch, StorageAccessDenied, ...). */
  reason: string;
  message: string;
}

/** Waiting reasons that mean the container cannot start until someone fixes something. */
export const STUCK_REASONS = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

const byNewest = (a: Pod, b: Pod) =>
  (b.metadata?.creationTimestamp ?? '').localeCompare(a.metadata?.creationTimestamp ?? '');

/** The container's status, whether it runs as a container or as an init container (a trainer before its upload step). */
function containerOf(pod: Pod, container: string): ContainerStatus | undefined {
  const all = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  return all.find((c) => c.name === container);
}

function terminatedOf(pod: Pod, container: string) {
  const cs = containerOf(pod, container);
  return cs?.state?.terminated ?? cs?.lastState?.terminated;
}

/** The newest pod of the job whose container terminated with the wanted outcome. */
function decidingPod(pods: Pod[], container: string, succeeded: boolean): Pod | undefined {
  return [...pods].sort(byNewest).find((p) => {
    const t = terminatedOf(p, container);
    return t !== undefined && (t.exitCode === 0) === succeeded;
  });
}

function completedObservation(job: Job, complete: JobCondition, pods: Pod[], container: string): JobObservation {
  const pod = decidingPod(pods, container, true);
  const t = pod ? terminatedOf(pod, container) : undefined;
  return {
    state: 'Succeeded',
    reason: 'Completed',
    message: 'the Job completed',
    startTime: job.status?.startTime,
    completionTime: job.status?.completionTime ?? complete.lastTransitionTime,
    terminationMessage: t?.message,
    exitCode: t?.exitCode,
  };
}

/**
 * A step's termination message: `{"reason": ..., "message": ...}` from the serving image's steps,
 * or any text (a crash's log tail) as the message of a generic reason.
 */
export function parseStepMessage(step: string, text: string | undefined, exitCode: number): StepFailure {
  try {
    const v = JSON.parse(text ?? '') as { reason?: unknown; message?: unknown };
    if (typeof v.reason === 'string' && /^[A-Z][A-Za-z]*$/.test(v.reason) && typeof v.message === 'string') {
      return { step, reason: v.reason, message: v.message.slice(0, 1024) };
    }
  } catch {
    // not the structured line: fall through to the raw text
  }
  const tail = (text ?? '').trim().slice(-512);
  return { step, reason: 'StepFailed', message: `${step} exited with code ${exitCode}${tail ? `: ${tail}` : ''}` };
}

/**
 * The newest pod's step that failed, other than the observed container: a fetch step before it
 * or an upload step after it. The observed container's own failure is reported as before.
 */
function failedStep(pods: Pod[], container: string): { failure: StepFailure; exitCode: number } | undefined {
  for (const pod of [...pods].sort(byNewest)) {
    const steps = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    for (const cs of steps.filter((c) => c.name !== container)) {
      const t = cs.state?.terminated ?? cs.lastState?.terminated;
      if (!t || t.exitCode === 0) continue;
      const failure =
        t.reason === OOM_KILLED
          ? { step: cs.name, reason: OOM_KILLED, message: outOfMemory(pod, cs.name, t.exitCode) }
          : parseStepMessage(cs.name, t.message, t.exitCode);
      return { failure, exitCode: t.exitCode };
    }
  }
  return undefined;
}

/** The kubelet's reason for a container the kernel killed at its memory limit. */
const OOM_KILLED = 'OOMKilled';

/** What to tell a user whose container went past its memory limit: which, the limit, the way out. */
function outOfMemory(pod: Pod, container: string, exitCode: number): string {
  const specs = [...(pod.spec?.containers ?? []), ...((pod.spec?.initContainers as PodSpec['containers']) ?? [])];
  const limit = (specs.find((c) => c.name === container)?.resources as { limits?: { memory?: string } } | undefined)
    ?.limits?.memory;
  return `container ${container} went past its memory limit${limit ? ` of ${limit}` : ''} and was killed (OOMKilled, exit code ${exitCode}); give it more memory or make it use less`;
}

function failedObservation(job: Job, failed: JobCondition, pods: Pod[], container: string): JobObservation {
  const init = decidingPod(pods, container, false) ? undefined : failedStep(pods, container);
  if (init) {
    const { failure } = init;
    return {
      state: 'Failed',
      reason: failure.reason,
      message: `${failure.step}: ${failure.message}`,
      startTime: job.status?.startTime,
      completionTime: failed.lastTransitionTime,
      exitCode: init.exitCode,
      stepFailure: failure,
    };
  }
  const pod = decidingPod(pods, container, false);
  const t = pod ? terminatedOf(pod, container) : undefined;
  const exit = t ? ` (last exit code ${t.exitCode}${t.reason ? `, ${t.reason}` : ''})` : '';
  const oom = pod && t?.reason === OOM_KILLED;
  return {
    state: 'Failed',
    reason: oom ? OOM_KILLED : failed.reason || 'JobFailed',
    message: oom
      ? `${outOfMemory(pod, container, t.exitCode)}. ${failed.message || 'the Job failed'}`
      : `${failed.message || 'the Job failed'}${exit}`,
    startTime: job.status?.startTime,
    completionTime: failed.lastTransitionTime,
    terminationMessage: t?.message,
    exitCode: t?.exitCode,
  };
}

/**
 * When no node can take the pod, the scheduler's word on it ("0/3 nodes are available: ..."),
 * for a Job's pod and a serving pod alike.
 */
export function unschedulableMessage(pod: {
  metadata?: { name?: string };
  status?: { conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> };
}): string | undefined {
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status !== 'False' || scheduled.reason !== 'Unschedulable') return undefined;
  return `pod ${pod.metadata?.name} cannot be scheduled: ${scheduled.message ?? 'no node fits it'}`;
}

function unschedulablePod(pods: Pod[]): string | undefined {
  const [newest] = [...pods].filter((p) => !p.metadata?.deletionTimestamp).sort(byNewest);
  return newest && unschedulableMessage(newest);
}

/** A Job still active: stuck on a pod that cannot start, running, waiting for a node, or to be scheduled. */
function activeObservation(pods: Pod[], container: string, startTime: string | undefined): JobObservation {
  for (const pod of [...pods].sort(byNewest)) {
    const waiting = containerOf(pod, container)?.state?.waiting;
    if (waiting?.reason && STUCK_REASONS.has(waiting.reason)) {
      return {
        state: 'Pending',
        reason: waiting.reason,
        message: `pod ${pod.metadata?.name}: ${waiting.message ?? waiting.reason}`,
        startTime,
      };
    }
  }
  const running = pods.some((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
  if (running) return { state: 'Running', reason: 'JobRunning', message: 'the pod is running', startTime };
  const unschedulable = unschedulablePod(pods);
  // Not a failure: a node may be added (an autoscaler) or freed; but the user must see why it waits.
  if (unschedulable) return { state: 'Pending', reason: 'Unschedulable', message: unschedulable, startTime };
  return {
    state: 'Pending',
    reason: 'JobPending',
    message: 'waiting for the pod to be scheduled and started',
    startTime,
  };
}

export function observeJob(job: Job, pods: Pod[], container: string): JobObservation {
  const complete = jobCondition(job, 'Complete');
  if (complete) return completedObservation(job, complete, pods, container);
  const failed = jobCondition(job, 'Failed');
  if (failed) return failedObservation(job, failed, pods, container);
  return activeObservation(pods, container, job.status?.startTime);
}

/**
 * A finished Job whose deciding pod is not (yet) in the cache: the Job and Pod watches are
 * separate streams, so the Job's condition can arrive before the pod's final status. Such an
 * observation must be confirmed from a live read before it becomes a (final) outcome.
 */
export const needsLivePods = (obs: JobObservation): boolean =>
  (obs.state === 'Succeeded' || obs.state === 'Failed') && obs.exitCode === undefined;
