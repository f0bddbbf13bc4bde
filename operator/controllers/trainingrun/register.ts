// Registration of a succeeded run as a ModelVersion `<model>-v<N>`.
//
// Pure parts: the ModelVersion (lineage in spec.source, no ownerReference: registry entries
// outlive runs) and the next free version number. The I/O part is race-safe and idempotent:
//   1. allocate N above every version this process has seen (cache + its own allocations),
//   2. record the name in the run's status (Registered=Unknown, "Registering") BEFORE creating
//      (in the same status write that records the run's success: withFirstRegistrationStep),
//   3. create with that deterministic name; AlreadyExists from another run means N was taken
//      meanwhile: allocate again. AlreadyExists of our own (same run uid label) means an earlier
//      attempt got through: adopt it.
// A restart between any two steps finds the recorded name and continues, so a run never
// registers twice.
import {
  API_VERSION,
  ConditionTypes,
  Labels,
  modelVersionName,
  parseModelVersionName,
  type ModelVersion,
  type TrainingRun,
  type TrainingRunStatus,
} from '../../api/index.js';
import { getCondition } from '../../runtime/status.js';
import { describeFailedGates, evaluateGates } from './gates.js';
import type { Lineage } from './job.js';
import { shortName } from '../common/names.js';
import { withRegistration, type RegistrationState } from './status.js';

/** The CRD's defaults, for runs read before defaulting (tests, old objects). */
export const DEFAULT_VALIDATION = { skewTolerance: 0.05, activeDeadlineSeconds: 600 } as const;

/** Label on a ModelVersion with the uid of the TrainingRun that registered it. */
export const TRAINING_RUN_UID_LABEL = 'modelship.dev/training-run-uid';

export interface RegistrationInput {
  run: TrainingRun;
  version: number;
  lineage: Lineage;
  artifact: { uri: string; digest?: string };
  metrics: Record<string, number>;
}

export function buildModelVersion(input: RegistrationInput): ModelVersion {
  const { run, version, lineage, artifact, metrics } = input;
  const runName = run.metadata.name ?? '';
  return {
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: {
      name: modelVersionName(run.spec.model, version),
      namespace: run.metadata.namespace,
      labels: {
        [Labels.model]: run.spec.model,
        [Labels.version]: String(version),
        [Labels.trainingRun]: shortName(runName),
        [TRAINING_RUN_UID_LABEL]: run.metadata.uid ?? '',
        [Labels.managedBy]: 'modelship',
      },
    },
    spec: {
      model: run.spec.model,
      version,
      artifact: {
        uri: artifact.uri,
        ...(artifact.digest ? { digest: artifact.digest } : {}),
        // The version is read with the credentials its run wrote it with.
        ...(artifact.uri.startsWith('s3://') && run.spec.output.secretRef
          ? { secretRef: { ...run.spec.output.secretRef } }
          : {}),
      },
      format: 'onnx',
      metrics: { ...metrics },
      source: {
        trainingRun: runName,
        image: lineage.image,
        hyperparameters: { ...lineage.hyperparameters },
        dataset: { uri: lineage.dataset.uri, ...(lineage.dataset.version ? { version: lineage.dataset.version } : {}) },
      },
      validation: { ...DEFAULT_VALIDATION, ...(run.spec.registration?.validation ?? {}) },
    },
  };
}

/** Whether a ModelVersion was registered by this run (matched by the run's uid). */
export const registeredBy = (mv: ModelVersion | undefined, run: TrainingRun): boolean =>
  !!mv && !!run.metadata.uid && mv.metadata.labels?.[TRAINING_RUN_UID_LABEL] === run.metadata.uid;

/**
 * Hands out version numbers per namespace/model without waiting for the cache to catch up with
 * this process's own creates: N is above both what the cache shows and what was handed out.
 * Synchronous, so concurrent reconciles in one process never get the same N.
 */
export class VersionAllocator {
  private readonly handedOut = new Map<string, number>();
  /** Numbers handed out whose recording write failed: handed out again first (no gaps). */
  private readonly returned = new Map<string, Set<number>>();

  next(namespace: string, model: string, seenNames: Iterable<string>): number {
    const key = `${namespace}/${model}`;
    const seen = new Set<number>();
    let highest = 0;
    for (const name of seenNames) {
      const parsed = parseModelVersionName(name);
      if (parsed?.model !== model) continue;
      seen.add(parsed.version);
      highest = Math.max(highest, parsed.version);
    }
    const returned = this.returned.get(key);
    for (const v of returned ?? []) if (seen.has(v)) returned!.delete(v);
    const again = [...(returned ?? [])].sort((a, b) => a - b)[0];
    if (again !== undefined) {
      returned!.delete(again);
      return again;
    }
    const n = Math.max(highest, this.handedOut.get(key) ?? 0) + 1;
    this.handedOut.set(key, n);
    return n;
  }

  /**
   * Takes back a number whose recording status write failed, so that the next run gets it and
   * versions stay 1..N without gaps. Should the write have landed after all, the AlreadyExists
   * protocol of register() still keeps the two runs apart (the loser draws again).
   */
  giveBack(namespace: string, model: string, version: number): void {
    const key = `${namespace}/${model}`;
    if (!this.returned.has(key)) this.returned.set(key, new Set());
    this.returned.get(key)!.add(version);
  }

  /** Remembers a version known to be taken (an AlreadyExists answer). */
  taken(namespace: string, model: string, version: number): void {
    const key = `${namespace}/${model}`;
    this.handedOut.set(key, Math.max(this.handedOut.get(key) ?? 0, version));
  }
}

/** Whether the run still has to register (no outcome recorded, or Registering). */
export function needsRegistration(run: TrainingRun): boolean {
  const c = getCondition(run.status?.conditions, ConditionTypes.TrainingRun.Registered);
  return !c || c.status === 'Unknown';
}

/**
 * `status` with the first registration step recorded when it makes the run Succeeded: the
 * outcome when registration is off or a gate fails, else the version name to create
 * (Registering), so that a restart continues with that name. Left as is otherwise, and for a
 * succeeded run without an artifact (register() reports that).
 */
export function withFirstRegistrationStep(
  run: TrainingRun,
  status: TrainingRunStatus,
  allocate: () => string,
  now: Date,
): TrainingRunStatus {
  if (status.phase !== 'Succeeded' || !needsRegistration({ ...run, status })) return status;
  const state = firstRegistrationState(run, status, allocate);
  return state ? withRegistration(status, state, run.metadata.generation, now) : status;
}

function firstRegistrationState(
  run: TrainingRun,
  status: TrainingRunStatus,
  allocate: () => string,
): RegistrationState | undefined {
  if (run.spec.registration?.enabled === false) return { kind: 'disabled' };
  const gates = evaluateGates(run.spec.registration?.gates, status.metrics ?? {});
  if (gates.some((g) => !g.passed)) return { kind: 'gatesFailed', gates, message: describeFailedGates(gates) };
  if (!status.artifact?.uri) return undefined;
  return { kind: 'registering', gates, name: status.modelVersion ?? allocate() };
}
