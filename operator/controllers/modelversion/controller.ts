// The ModelVersion controller: one validation Job per version (the serving image in validate
// mode), its report turned into status, phase Ready or Rejected with the reason. The spec is
// immutable (CEL on the CRD); where that was bypassed, the recorded specHash makes the
// controller reject the version rather than keep trusting a validation of something else.
import { Annotations, type ModelVersion, type ModelVersionStatus } from '../../api/index.js';
import type { Controller, ReconcileContext, ReconcileResult } from '../../runtime/controller.js';
import { ignoreNotFound } from '../../runtime/errors.js';
import { Kinds, type KubeObject, type ObjectKey } from '../../runtime/kinds.js';
import type { Job } from '../common/k8s.js';
import { createOwnedJob, FOREIGN_JOB_RETRY_MS, foreignJobObservation, observeOwnedJob } from '../common/owned-job.js';
import { isOwnedBy } from '../common/owner.js';
import { StorageUriError } from '../common/storage.js';
import { buildValidationJob, VALIDATE_CONTAINER, validationJobName, type ValidationJobOptions } from './job.js';
import {
  computeModelVersionStatus,
  isFinal,
  modelVersionEvents,
  specHashOf,
  type ValidationObservation,
} from './status.js';

export interface ModelVersionControllerOptions extends ValidationJobOptions {
  concurrency?: number;
  now?: () => Date;
}

/** Pod and Job events wait this long before the reconcile they trigger (batched, as the Job controller does). */
const CHILD_EVENT_BATCH_MS = 500;

export function podToModelVersion(obj: KubeObject): ObjectKey[] {
  const name = obj.metadata?.annotations?.[Annotations.modelVersion];
  return name ? [{ namespace: obj.metadata?.namespace ?? '', name }] : [];
}

export function modelVersionController(opts: ModelVersionControllerOptions = {}): Controller {
  const now = opts.now ?? (() => new Date());
  return {
    name: 'modelversion',
    forKind: Kinds.ModelVersion,
    owns: [Kinds.Job],
    watches: [{ kind: Kinds.Pod, mapToKeys: podToModelVersion }],
    concurrency: opts.concurrency ?? 16,
    // A reconcile from a cache older than our last status write would only meet a 409.
    waitForOwnWrites: true,
    // A pod's quick succession of states (created, running, done) is one reconcile, not three.
    childEventBatchMs: CHILD_EVENT_BATCH_MS,
    async reconcile(key, ctx) {
      const mv = ctx.cache.get<ModelVersion>(Kinds.ModelVersion, key.namespace, key.name);
      if (!mv || mv.metadata.deletionTimestamp) return undefined;
      return reconcileModelVersion(mv, ctx, opts, now());
    },
  };
}

interface Observed {
  obs: ValidationObservation;
  record: Pick<ModelVersionStatus, 'jobName' | 'specHash'>;
  retryAfterMs?: number;
}

async function observeValidation(
  mv: ModelVersion,
  ctx: ReconcileContext,
  opts: ValidationJobOptions,
): Promise<Observed> {
  const ns = mv.metadata.namespace ?? '';
  const hash = specHashOf(mv);
  const recordedHash = mv.status?.specHash;
  if (recordedHash && recordedHash !== hash) return { obs: { specChanged: true }, record: {} };
  if (isFinal(mv.status?.phase)) return { obs: {}, record: {} };
  const jobName = mv.status?.jobName ?? validationJobName(mv);
  const record = { jobName, specHash: hash };
  let job = ctx.cache.get<Job>(Kinds.Job, ns, jobName);
  if (!job && mv.status?.jobName) job = await ignoreNotFound(ctx.client.get<Job>(Kinds.Job, ns, jobName));
  if (!job) {
    // Not created yet, or deleted before it reported: (re)create; validation is repeatable.
    let desired: Job;
    try {
      desired = buildValidationJob(mv, opts);
    } catch (e) {
      if (e instanceof StorageUriError) return { obs: { invalidSpec: e.message }, record };
      throw e;
    }
    job = await createOwnedJob(desired, ctx);
    void ctx.recorder.event(
      mv,
      'Normal',
      'ValidationStarted',
      `Created validation Job ${jobName} for ${mv.spec.artifact.uri}`,
    );
  }
  if (!isOwnedBy(job, mv)) {
    return { obs: foreignJobObservation(jobName), record, retryAfterMs: FOREIGN_JOB_RETRY_MS };
  }
  return { obs: { job: await observeOwnedJob(job, VALIDATE_CONTAINER, ctx) }, record };
}

export async function reconcileModelVersion(
  mv: ModelVersion,
  ctx: ReconcileContext,
  opts: ValidationJobOptions,
  now: Date,
): Promise<ReconcileResult | undefined> {
  const { obs, record, retryAfterMs } = await observeValidation(mv, ctx, opts);
  // Recomputed from the fresh object on a conflict, so fields other writers own (servedBy) survive.
  const compute = (fresh: ModelVersion) => computeModelVersionStatus(fresh, obs, now, record);
  const status = compute(mv);
  const { obj, written } = await ctx.client.setStatus(mv, status, { recompute: compute });
  if (written)
    for (const e of modelVersionEvents(mv.status, obj.status ?? status))
      void ctx.recorder.event(obj, e.type, e.reason, e.message);
  return retryAfterMs ? { requeueAfterMs: retryAfterMs } : undefined;
}
