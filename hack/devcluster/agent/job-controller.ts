// Job controller: creates the Job's pods, counts successes and failures exactly once, and
// drives the Job to Complete or Failed (see job-logic.ts); deletes finished Jobs after their TTL.
import type { KubeObject } from './kube-client.js';
import type { Informers } from './controllers.js';
import type { CacheWriter } from './cache-writer.js';
import type { EventRecorder } from './events.js';
import { JOBS, PODS } from './resources.js';
import { findCondition, isControlledBy, nowIso } from './util.js';
import { podFromTemplate } from './replicaset-logic.js';
import { isJobFinished, jobPodLabels, planJob, type JobCounted } from './job-logic.js';

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
    const { jobs, pods } = this.inf;
    const now = Date.now();
    const live = new Set<string>();
    for (const job of jobs.list()) {
      const uid = job.metadata.uid ?? '';
      live.add(uid);
      if (job.metadata.deletionTimestamp) continue;
      const owned = pods.list(job.metadata.namespace).filter((p) => isControlledBy(p, job));
      const counted = this.countedFor(job, owned);
      const plan = planJob(job, owned, counted, now, nowIso(now), { backoffBaseMs: this.backoffBaseMs });
      if (plan.deleteJob) {
        await this.w.remove(JOBS, jobs, job, 'Background');
        continue;
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
      if (plan.requeueAfterMs !== undefined && plan.requeueAfterMs < 1_000) this.requeue(Math.max(10, plan.requeueAfterMs));
    }
    for (const uid of this.jobCounted.keys()) if (!live.has(uid)) this.jobCounted.delete(uid);
  }

  private jobTransitionEvents(job: KubeObject, status: Record<string, any>): void {
    const became = (type: string) => findCondition(status.conditions, type)?.status === 'True' && findCondition(job.status?.conditions, type)?.status !== 'True';
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
