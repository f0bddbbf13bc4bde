// Job controller: creates the Job's pods, counts successes and failures exactly once, and
// drives the Job to Complete or Failed (see job-logic.ts); deletes finished Jobs after their TTL.
import type { KubeObject } from './kube-client.js';
import type { Informers } from './controllers.js';
import type { CacheWriter } from './cache-writer.js';
import type { EventRecorder } from './events.js';
import { JOBS, PODS } from './resources.js';
import { controllerRef, findCondition, nowIso } from './util.js';
import { podFromTemplate } from './replicaset-logic.js';
import { isJobFinished, jobPodLabels, planJob, type JobCounted } from './job-logic.js';

/** Jobs whose writes one pass keeps in flight at once. */
const JOB_SYNC_CONCURRENCY = 16;

/** Pods grouped by the uid of their controller, built once per pass (not one scan of every pod per Job). */
export function podsByController(pods: KubeObject[]): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const pod of pods) {
    const uid = controllerRef(pod)?.uid;
    if (!uid) continue;
    const list = out.get(uid);
    if (list) list.push(pod);
    else out.set(uid, [pod]);
  }
  return out;
}

/** Runs `fn` over `items` with at most `limit` calls pending; rejects with the first error once all have settled. */
export async function forEachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let firstError: { err: unknown } | undefined;
  const lane = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        firstError ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (firstError) throw firstError.err;
}

export class JobController {
  readonly name = 'jobs';
  private readonly jobCounted = new Map<string, JobCounted>();

  constructor(
    private readonly inf: Informers,
    private readonly w: CacheWriter,
    private readonly events: EventRecorder,
    private readonly backoffBaseMs: number,
    private readonly requeue: (delayMs: number) => void,
  ) {}

  async sync(): Promise<void> {
    const { jobs } = this.inf;
    const now = Date.now();
    const live = new Set<string>();
    const podsByJob = podsByController(this.inf.pods.list());
    const active: KubeObject[] = [];
    for (const job of jobs.list()) {
      live.add(job.metadata.uid ?? '');
      if (!job.metadata.deletionTimestamp) active.push(job);
    }
    // Jobs are independent (each touches only its own pods and status), so their writes overlap:
    // one at a time, a pass over hundreds of Jobs waited out hundreds of round-trips in a row.
    await forEachBounded(active, JOB_SYNC_CONCURRENCY, (job) =>
      this.syncJob(job, podsByJob.get(job.metadata.uid ?? '') ?? [], now),
    );
    for (const uid of this.jobCounted.keys()) if (!live.has(uid)) this.jobCounted.delete(uid);
  }

  private async syncJob(job: KubeObject, owned: KubeObject[], now: number): Promise<void> {
    const { jobs, pods } = this.inf;
    const counted = this.countedFor(job, owned);
    const plan = planJob(job, owned, counted, now, nowIso(now), { backoffBaseMs: this.backoffBaseMs });
    if (plan.deleteJob) {
      await this.w.remove(JOBS, jobs, job, 'Background');
      return;
    }
    for (const pod of plan.remove) {
      await this.w.remove(PODS, pods, pod);
      this.events.normal(job, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    }
    for (let i = 0; i < plan.create; i++) {
      const pod = await this.w.create(PODS, pods, podFromTemplate(job, 'batch/v1', 'Job', jobPodLabels(job)));
      this.events.normal(job, 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    }
    await this.w.writeStatus(JOBS, jobs, job, plan.status);
    this.jobTransitionEvents(job, plan.status);
    for (const u of plan.newlyCounted.succeeded) counted.succeeded.add(u);
    for (const u of plan.newlyCounted.failed) counted.failed.add(u);
    if (plan.requeueAfterMs !== undefined && plan.requeueAfterMs < 1_000)
      this.requeue(Math.max(10, plan.requeueAfterMs));
  }

  private jobTransitionEvents(job: KubeObject, status: Record<string, any>): void {
    const became = (type: string) =>
      findCondition(status.conditions, type)?.status === 'True' &&
      findCondition(job.status?.conditions, type)?.status !== 'True';
    if (became('Complete')) this.events.normal(job, 'Completed', 'Job completed');
    const failed = findCondition(status.conditions, 'Failed');
    if (became('Failed') && failed) this.events.warning(job, failed.reason ?? 'Failed', failed.message ?? 'Job failed');
  }

  /**
   * Pods already reflected in status.succeeded/failed. After an agent restart, a Job whose
   * status we wrote before has counted every pod that was terminal then.
   */
  private countedFor(job: KubeObject, owned: KubeObject[]): JobCounted {
    const uid = job.metadata.uid ?? '';
    let counted = this.jobCounted.get(uid);
    if (!counted) {
      counted = { succeeded: new Set(), failed: new Set() };
      if (job.status?.startTime || isJobFinished(job)) {
        for (const p of owned) {
          if (p.status?.phase === 'Succeeded') counted.succeeded.add(p.metadata.uid ?? '');
          if (p.status?.phase === 'Failed') counted.failed.add(p.metadata.uid ?? '');
        }
      }
      this.jobCounted.set(uid, counted);
    }
    return counted;
  }
}
