// The TrainingRun controller: one Job per run (created once from the spec, never changed),
// status from the Job and its Pods, and registration of the result as a ModelVersion.
// Level-triggered: every reconcile recomputes the status from the cache and writes it only when
// it changed; a terminal run costs no API calls at all.
import type { Registry } from 'prom-client';
import {
  Labels,
  modelVersionName,
  type ModelVersion,
  type TrainingRun,
  type TrainingRunStatus,
  type WorkloadDefaults,
} from '../../api/index.js';
import type { Controller, ReconcileContext, ReconcileResult } from '../../runtime/controller.js';
import { ignoreNotFound } from '../../runtime/errors.js';
import { Kinds, type KubeObject, type ObjectKey } from '../../runtime/kinds.js';
import type { Job } from '../common/k8s.js';
import { createOwnedJob, FOREIGN_JOB_RETRY_MS, foreignJobObservation, observeOwnedJob } from '../common/owned-job.js';
import { isOwnedBy } from '../common/owner.js';
import { StorageUriError } from '../common/storage.js';
import { buildTrainingJob, TRAINER_CONTAINER, TRAINING_RUN_ANNOTATION, trainingJobName } from './job.js';
import { TrainingRunMetrics } from './metrics.js';
import { register } from './registration.js';
import { writeStatus } from './write-status.js';
import { needsRegistration, VersionAllocator, withFirstRegistrationStep } from './register.js';
import { computeTrainingStatus, isTerminal, type TrainingObservation } from './status.js';
import { refusedReferences, type TrainingRunAllowlist } from './allowlist.js';

export interface TrainingRunControllerOptions {
  /** Reconciles of different runs at once (default 32: reconciles mostly wait on the API server). */
  concurrency?: number;
  /** Clock (tests). */
  now?: () => Date;
  /** Registry of the operator's /metrics for the TrainingRun/ModelVersion metrics (default: a private one). */
  registry?: Registry;
  /** Operator-wide pod placement (--workload-defaults), under each run's own fields. */
  workloadDefaults?: WorkloadDefaults;
  /** The image of the object-storage steps (data set download, output upload). */
  servingImage?: string;
  /** Service accounts, priority classes and Secrets runs may name (allowlist.ts); none when unset. */
  allowlist?: TrainingRunAllowlist;
}

/** How long to wait for a Job of an older run with the same name to be garbage-collected. */
/** Pod and Job events wait this long before the reconcile they trigger (batched, as the Job controller does). */
const CHILD_EVENT_BATCH_MS = 500;
/** Attempts to find a free version number when other runs register at the same time. */

/** Key of the run a pod or ModelVersion belongs to (annotation / lineage), for watches. */
export function podToRun(obj: KubeObject): ObjectKey[] {
  const name = obj.metadata?.annotations?.[TRAINING_RUN_ANNOTATION];
  return name ? [{ namespace: obj.metadata?.namespace ?? '', name }] : [];
}

function modelVersionToRun(obj: KubeObject): ObjectKey[] {
  const name = (obj as ModelVersion).spec?.source?.trainingRun;
  return name && obj.metadata?.labels?.[Labels.managedBy] === 'modelship'
    ? [{ namespace: obj.metadata?.namespace ?? '', name }]
    : [];
}

/** What the controller brings to every reconcile (built once, in trainingRunController). */
export interface TrainingRunDeps {
  readonly allocator: VersionAllocator;
  readonly metrics?: TrainingRunMetrics;
  readonly workloadDefaults?: WorkloadDefaults;
  readonly servingImage?: string;
  readonly allowlist: TrainingRunAllowlist;
}

/**
 * One reconcile's view of a run: the cluster, the time it decides at (read once, from the
 * controller's clock) and the controller's own parts. Every step of a reconcile takes it.
 */
export interface RunContext {
  readonly kube: ReconcileContext;
  readonly now: Date;
  readonly deps: TrainingRunDeps;
}

export function trainingRunController(opts: TrainingRunControllerOptions = {}): Controller {
  const now = opts.now ?? (() => new Date());
  const metrics = new TrainingRunMetrics(opts.registry);
  const { workloadDefaults, servingImage } = opts;
  const deps: TrainingRunDeps = {
    allocator: new VersionAllocator(),
    metrics,
    workloadDefaults,
    servingImage,
    allowlist: opts.allowlist ?? {},
  };
  return {
    name: 'trainingrun',
    forKind: Kinds.TrainingRun,
    owns: [Kinds.Job],
    watches: [
      { kind: Kinds.Pod, mapToKeys: podToRun },
      { kind: Kinds.ModelVersion, mapToKeys: modelVersionToRun },
    ],
    concurrency: opts.concurrency ?? 32,
    // A reconcile from a cache older than our last status write would only meet a 409.
    waitForOwnWrites: true,
    // A pod's quick succession of states (created, running, done) is one reconcile, not three.
    childEventBatchMs: CHILD_EVENT_BATCH_MS,
    async reconcile(key, ctx) {
      const run = ctx.cache.get<TrainingRun>(Kinds.TrainingRun, key.namespace, key.name);
      if (!run || run.metadata.deletionTimestamp) return undefined; // the Job goes with it (ownerReference)
      metrics.seen(run, ctx.cache);
      return reconcileRun(run, { kube: ctx, now: now(), deps });
    },
  };
}

interface Observed {
  obs: TrainingObservation;
  job?: Job;
  /** jobName/jobGeneration to record (set when this reconcile created the Job). */
  jobRecord: Pick<TrainingRunStatus, 'jobName' | 'jobGeneration'>;
  retryAfterMs?: number;
}

async function observeRun(run: TrainingRun, rc: RunContext): Promise<Observed> {
  const ctx = rc.kube;
  const ns = run.metadata.namespace ?? '';
  const recorded = run.status?.jobName;
  const jobName = recorded ?? trainingJobName(run);
  const jobRecord = { jobName: recorded, jobGeneration: run.status?.jobGeneration };
  let job = ctx.cache.get<Job>(Kinds.Job, ns, jobName);
  if (!job && recorded) {
    // The cache may lag behind our own create; only a live read tells "deleted".
    job = await ignoreNotFound(ctx.client.get<Job>(Kinds.Job, ns, jobName));
    if (!job) return { obs: { jobMissing: true }, jobRecord };
  }
  if (!job) {
    // Refused before any Job exists: the run never runs with what it may not use.
    const refused = refusedReferences(run.spec, rc.deps.allowlist);
    if (refused) return { obs: { notAllowed: refused }, jobRecord };
    let desired: Job;
    try {
      desired = buildTrainingJob(run, rc.deps.workloadDefaults, rc.deps.servingImage);
    } catch (e) {
      if (e instanceof StorageUriError) return { obs: { invalidSpec: e.message }, jobRecord };
      throw e;
    }
    job = await createOwnedJob(desired, ctx);
    void ctx.recorder.event(run, 'Normal', 'JobCreated', `Created Job ${jobName} (image ${run.spec.image})`);
    jobRecord.jobName = jobName;
    jobRecord.jobGeneration = run.metadata.generation;
  }
  if (!isOwnedBy(job, run)) {
    return { obs: foreignJobObservation(jobName), jobRecord, retryAfterMs: FOREIGN_JOB_RETRY_MS };
  }
  if (!jobRecord.jobName) {
    // Created by an earlier attempt whose status write did not land.
    jobRecord.jobName = jobName;
    jobRecord.jobGeneration = run.metadata.generation;
  }
  return { obs: { job: await observeOwnedJob(job, TRAINER_CONTAINER, ctx) }, job, jobRecord };
}

export async function reconcileRun(run: TrainingRun, rc: RunContext): Promise<ReconcileResult | undefined> {
  const { kube: ctx, now } = rc;
  let retryAfterMs: number | undefined;
  let job: Job | undefined;
  let fresh = false;
  if (!isTerminal(run.status?.phase)) {
    const observed = await observeRun(run, rc);
    retryAfterMs = observed.retryAfterMs;
    job = observed.job;
    // Recomputed from the stored object after a conflict (the cache may lag behind our own
    // writes), so a stale read never rolls back what an earlier reconcile recorded. The write
    // that records success also records the first registration step (one write, not two).
    const allocate = versionAllocation(run, ctx, rc.deps.allocator);
    const compute = (r: TrainingRun) =>
      withFirstRegistrationStep(
        r,
        computeTrainingStatus({ ...r, status: { ...r.status, ...definedOnly(observed.jobRecord) } }, observed.obs, now),
        allocate,
        now,
      );
    const cached = run;
    try {
      run = await writeStatus(run, compute, ctx, rc.deps.metrics);
    } catch (e) {
      allocate.giveBack(); // the name was not recorded: the next run takes the number (no gaps)
      throw e;
    }
    fresh = run !== cached; // written: the API server's answer, not the cache
  } else {
    run = await writeStatus(run, (r) => computeTrainingStatus(r, {}, now), ctx);
  }
  if (run.status?.phase === 'Succeeded' && needsRegistration(run)) await register(run, job, rc, fresh);
  return retryAfterMs ? { requeueAfterMs: retryAfterMs } : undefined;
}

/**
 * Draws the run's next version name once, however often it is asked (a conflict recomputes the
 * status): the allocator hands out each number only once.
 */
function versionAllocation(
  run: TrainingRun,
  ctx: ReconcileContext,
  allocator: VersionAllocator,
): (() => string) & { giveBack(): void } {
  const ns = run.metadata.namespace ?? '';
  let version: number | undefined;
  const allocate = () => {
    const seen = () => ctx.cache.list<ModelVersion>(Kinds.ModelVersion, ns).map((mv) => mv.metadata.name ?? '');
    version ??= allocator.next(ns, run.spec.model, seen());
    return modelVersionName(run.spec.model, version);
  };
  return Object.assign(allocate, {
    giveBack: () => {
      if (version !== undefined) allocator.giveBack(ns, run.spec.model, version);
    },
  });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
