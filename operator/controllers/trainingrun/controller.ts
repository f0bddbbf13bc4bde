// The TrainingRun controller: one Job per run (created once from the spec, never changed),
// status from the Job and its Pods, and registration of the result as a ModelVersion.
// Level-triggered: every reconcile recomputes the status from the cache and writes it only when
// it changed; a terminal run costs no API calls at all.
import { ConditionTypes, Labels, modelVersionName, parseModelVersionName, type ModelVersion, type TrainingRun, type TrainingRunStatus } from '../../api/index.js';
import type { Controller, ReconcileContext, ReconcileResult } from '../../runtime/controller.js';
import { ignoreNotFound, isAlreadyExists } from '../../runtime/errors.js';
import { Kinds, type KubeObject, type ObjectKey } from '../../runtime/kinds.js';
import { getCondition } from '../../runtime/status.js';
import { describeFailedGates, evaluateGates } from './gates.js';
import { buildTrainingJob, lineageFromJob, lineageOf, TRAINER_CONTAINER, TRAINING_RUN_ANNOTATION, trainingJobName } from './job.js';
import type { Job, Pod } from './k8s.js';
import { observeJob } from './observe.js';
import { buildModelVersion, registeredBy, VersionAllocator } from './register.js';
import { computeTrainingStatus, isTerminal, transitionEvents, withRegistration, type TrainingObservation } from './status.js';
import { StorageUriError } from './storage.js';

export interface TrainingRunControllerOptions {
  /** Reconciles of different runs at once (default 8). */
  concurrency?: number;
  /** Clock (tests). */
  now?: () => Date;
}

/** How long to wait for a Job of an older run with the same name to be garbage-collected. */
const FOREIGN_JOB_RETRY_MS = 2_000;
/** Attempts to find a free version number when other runs register at the same time. */
const MAX_REGISTRATION_ATTEMPTS = 20;

export class RegistrationError extends Error {
  override name = 'RegistrationError';
}

/** Key of the run a pod or ModelVersion belongs to (annotation / lineage), for watches. */
export function podToRun(obj: KubeObject): ObjectKey[] {
  const name = obj.metadata?.annotations?.[TRAINING_RUN_ANNOTATION];
  return name ? [{ namespace: obj.metadata?.namespace ?? '', name }] : [];
}

function modelVersionToRun(obj: KubeObject): ObjectKey[] {
  const name = (obj as ModelVersion).spec?.source?.trainingRun;
  return name && obj.metadata?.labels?.[Labels.managedBy] === 'modelship' ? [{ namespace: obj.metadata?.namespace ?? '', name }] : [];
}

export function trainingRunController(opts: TrainingRunControllerOptions = {}): Controller {
  const allocator = new VersionAllocator();
  const now = opts.now ?? (() => new Date());
  return {
    name: 'trainingrun',
    forKind: Kinds.TrainingRun,
    owns: [Kinds.Job],
    watches: [{ kind: Kinds.Pod, mapToKeys: podToRun }, { kind: Kinds.ModelVersion, mapToKeys: modelVersionToRun }],
    concurrency: opts.concurrency ?? 8,
    async reconcile(key, ctx) {
      const run = ctx.cache.get<TrainingRun>(Kinds.TrainingRun, key.namespace, key.name);
      if (!run || run.metadata.deletionTimestamp) return undefined; // the Job goes with it (ownerReference)
      return reconcileRun(run, ctx, allocator, now());
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

async function observeRun(run: TrainingRun, ctx: ReconcileContext): Promise<Observed> {
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
    let desired: Job;
    try {
      desired = buildTrainingJob(run);
    } catch (e) {
      if (e instanceof StorageUriError) return { obs: { invalidSpec: e.message }, jobRecord };
      throw e;
    }
    job = await createJob(desired, ctx);
    void ctx.recorder.event(run, 'Normal', 'JobCreated', `Created Job ${jobName} (image ${run.spec.image})`);
    jobRecord.jobName = jobName;
    jobRecord.jobGeneration = run.metadata.generation;
  }
  const ownedByRun = job.metadata?.ownerReferences?.some((r) => r.uid === run.metadata.uid);
  if (!ownedByRun) {
    return { obs: { job: { state: 'Pending', reason: 'JobNameTaken', message: `Job ${jobName} belongs to another object; waiting for it to go away` } }, jobRecord, retryAfterMs: FOREIGN_JOB_RETRY_MS };
  }
  if (!jobRecord.jobName) {
    // Created by an earlier attempt whose status write did not land.
    jobRecord.jobName = jobName;
    jobRecord.jobGeneration = run.metadata.generation;
  }
  const pods = ctx.cache.list<Pod>(Kinds.Pod, ns, { 'job-name': jobName })
    .filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === job!.metadata?.uid));
  return { obs: { job: observeJob(job, pods, TRAINER_CONTAINER) }, job, jobRecord };
}

async function createJob(desired: Job, ctx: ReconcileContext): Promise<Job> {
  try {
    return await ctx.client.create(desired);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    return ctx.client.get<Job>(Kinds.Job, desired.metadata?.namespace, desired.metadata?.name ?? '');
  }
}

export async function reconcileRun(run: TrainingRun, ctx: ReconcileContext, allocator: VersionAllocator, now: Date): Promise<ReconcileResult | undefined> {
  let retryAfterMs: number | undefined;
  let job: Job | undefined;
  if (!isTerminal(run.status?.phase)) {
    const observed = await observeRun(run, ctx);
    retryAfterMs = observed.retryAfterMs;
    job = observed.job;
    const base = { ...run, status: { ...run.status, ...observed.jobRecord } };
    run = await writeStatus(run, computeTrainingStatus(base, observed.obs, now), ctx);
  } else {
    run = await writeStatus(run, computeTrainingStatus(run, {}, now), ctx);
  }
  if (run.status?.phase === 'Succeeded' && needsRegistration(run)) await register(run, job, ctx, allocator, now);
  return retryAfterMs ? { requeueAfterMs: retryAfterMs } : undefined;
}

function needsRegistration(run: TrainingRun): boolean {
  const c = getCondition(run.status?.conditions, ConditionTypes.TrainingRun.Registered);
  return !c || c.status === 'Unknown';
}

/** Writes the status when it changed and records Events for the transitions. */
async function writeStatus(run: TrainingRun, status: TrainingRunStatus, ctx: ReconcileContext): Promise<TrainingRun> {
  const { obj, written } = await ctx.client.setStatus(run, status);
  if (written) for (const e of transitionEvents(run.status, status)) void ctx.recorder.event(obj, e.type, e.reason, e.message);
  return obj;
}

async function register(run: TrainingRun, job: Job | undefined, ctx: ReconcileContext, allocator: VersionAllocator, now: Date): Promise<TrainingRun> {
  const generation = run.metadata.generation;
  const status = run.status ?? {};
  if (run.spec.registration?.enabled === false) return writeStatus(run, withRegistration(status, { kind: 'disabled' }, generation, now), ctx);
  const gates = evaluateGates(run.spec.registration?.gates, status.metrics ?? {});
  if (gates.some((g) => !g.passed)) {
    return writeStatus(run, withRegistration(status, { kind: 'gatesFailed', gates, message: describeFailedGates(gates) }, generation, now), ctx);
  }
  if (!status.artifact?.uri) throw new RegistrationError('succeeded run has no artifact in its status');
  const ns = run.metadata.namespace ?? '';
  const lineage = lineageFromJob(job) ?? lineageOf(run);
  let name = status.modelVersion; // recorded by an earlier attempt (Registering)
  for (let attempt = 0; attempt < MAX_REGISTRATION_ATTEMPTS; attempt++) {
    if (!name) {
      const seen = ctx.cache.list<ModelVersion>(Kinds.ModelVersion, ns).map((mv) => mv.metadata.name ?? '');
      name = modelVersionName(run.spec.model, allocator.next(ns, run.spec.model, seen));
      // Record the name before creating, so that a restart continues with it instead of registering again.
      run = await writeStatus(run, withRegistration(run.status ?? {}, { kind: 'registering', gates, name }, generation, now), ctx);
    }
    const version = parseModelVersionName(name)?.version;
    if (!version) throw new RegistrationError(`recorded ModelVersion name ${name} does not follow <model>-v<N>`);
    const mv = buildModelVersion({ run, version, lineage, artifact: { uri: status.artifact.uri, digest: status.artifact.digest }, metrics: status.metrics ?? {} });
    try {
      await ctx.client.create(mv);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const existing = await ignoreNotFound(ctx.client.get<ModelVersion>(Kinds.ModelVersion, ns, name));
      if (!registeredBy(existing, run)) {
        allocator.taken(ns, run.spec.model, version);
        name = undefined;
        continue;
      }
    }
    return writeStatus(run, withRegistration(run.status ?? {}, { kind: 'registered', gates, name }, generation, now), ctx);
  }
  throw new RegistrationError(`no free version of model ${run.spec.model} after ${MAX_REGISTRATION_ATTEMPTS} attempts`);
}
