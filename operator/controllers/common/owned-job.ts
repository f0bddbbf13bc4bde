// The one Job a resource owns (a training run, a validation): created once under a name derived
// from the resource, adopted when an earlier attempt already created it, and observed through
// its own pods only.
import type { ReconcileContext } from '../../runtime/controller.js';
import { isAlreadyExists } from '../../runtime/errors.js';
import { Kinds } from '../../runtime/kinds.js';
import type { Job, Pod } from './k8s.js';
import { needsLivePods, observeJob, type JobObservation } from './observe.js';
import { isOwnedBy } from './owner.js';

/**
 * Creates `desired`, or returns the Job already under its name: ours from an attempt whose status
 * write did not land, or another object's (callers check the owner before trusting it).
 */
export async function createOwnedJob(desired: Job, ctx: ReconcileContext): Promise<Job> {
  try {
    return await ctx.client.create(desired);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    return ctx.client.get<Job>(Kinds.Job, desired.metadata?.namespace, desired.metadata?.name ?? '');
  }
}

/** How soon to look again at a Job name another object holds. */
export const FOREIGN_JOB_RETRY_MS = 2_000;

/** The observation while the Job's name belongs to another object: wait, never adopt it. */
export function foreignJobObservation(jobName: string): { job: JobObservation } {
  return {
    job: {
      state: 'Pending',
      reason: 'JobNameTaken',
      message: `Job ${jobName} belongs to another object; waiting for it to go away`,
    },
  };
}

/**
 * What `job` and its pods say about `container` (see observeJob). Pods of an older Job with the
 * same name are left out. A finished Job is confirmed from a live Pod read when its deciding pod
 * is not in the cache yet.
 */
export async function observeOwnedJob(job: Job, container: string, ctx: ReconcileContext): Promise<JobObservation> {
  const ns = job.metadata?.namespace ?? '';
  const name = job.metadata?.name ?? '';
  const ownPods = (pods: Pod[]) => pods.filter((p) => isOwnedBy(p, job));
  const cached = observeJob(job, ownPods(ctx.cache.list<Pod>(Kinds.Pod, ns, { 'job-name': name })), container);
  if (!needsLivePods(cached)) return cached;
  const live = await ctx.client.list<Pod>(Kinds.Pod, { namespace: ns, labelSelector: `job-name=${name}` });
  return observeJob(job, ownPods(live.items), container);
}
