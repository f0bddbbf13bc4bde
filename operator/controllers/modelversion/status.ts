// ModelVersion status as a pure function of the version and its validation Job. Phases move
// Pending → Validating → Ready | Rejected; Ready and Rejected are final, except that a spec no
// longer matching the one validated (specHash) always rejects: a validation is only worth
// something for the exact artifact and metrics it checked.
import {
  ConditionTypes,
  type Condition,
  type ModelVersion,
  type ModelVersionPhase,
  type ModelVersionStatus,
  withModelVersionDefaults,
} from '../../api/index.js';
import { stableHash } from '../common/names.js';
import type { JobObservation } from '../common/observe.js';
import { isoSeconds, setConditionAt, type StatusEvent } from '../common/status.js';
import { profileUri } from './job.js';
import { classifyValidationError, parseValidationReport, type CompactValidationReport } from './report.js';

const C = ConditionTypes.ModelVersion;
export const SKEW_METRIC = 'accuracy';

export const isFinal = (phase: ModelVersionPhase | undefined): boolean => phase === 'Ready' || phase === 'Rejected';

export const specHashOf = (mv: ModelVersion): string => stableHash(mv.spec);

/** Phase after observing `observed` (pure): final phases stay, except a spec change rejects. */
export function nextModelVersionPhase(
  current: ModelVersionPhase | undefined,
  observed: ModelVersionPhase,
  specChanged = false,
): ModelVersionPhase {
  if (specChanged) return 'Rejected';
  if (current && isFinal(current)) return current;
  if (current === 'Validating' && observed === 'Pending') return 'Validating';
  return observed;
}

export interface Verdict {
  phase: ModelVersionPhase;
  reason: string;
  message: string;
  report?: CompactValidationReport;
  skew?: ModelVersionStatus['skew'];
}

export interface ValidationObservation {
  job?: JobObservation;
  /** The version cannot be validated as specified (e.g. an artifact location that cannot be mounted). */
  invalidSpec?: string;
  /** The spec differs from the one validation started for. */
  specChanged?: boolean;
}

const r4 = (v: number) => Math.round(v * 10_000) / 10_000;

/** Training/serving skew: how far the serving-path accuracy falls below the offline one. */
export function skewCheck(mv: ModelVersion, report: CompactValidationReport): ModelVersionStatus['skew'] | undefined {
  const offline = mv.spec.metrics?.[SKEW_METRIC] ?? report.trainingAccuracy ?? undefined;
  const serving = report.accuracy;
  if (offline === undefined || serving === undefined) return undefined;
  const tolerance = withModelVersionDefaults(mv.spec).validation.skewTolerance;
  const gap = r4(offline - serving);
  return { metric: SKEW_METRIC, offline, serving, gap, tolerance, passed: gap <= tolerance + 1e-9 };
}

/** The verdict on a validation Job's observation (pure). */
export function verdictOf(mv: ModelVersion, obs: ValidationObservation): Verdict {
  if (obs.specChanged) {
    return {
      phase: 'Rejected',
      reason: 'SpecChangedAfterValidation',
      message: 'spec changed after validation started; ModelVersions are immutable, register a new version instead',
    };
  }
  if (obs.invalidSpec) return { phase: 'Rejected', reason: 'UnsupportedArtifactLocation', message: obs.invalidSpec };
  const job = obs.job;
  if (!job) return { phase: 'Pending', reason: 'ValidationPending', message: 'creating the validation Job' };
  if (job.state === 'Pending' || job.state === 'Running') {
    return {
      phase: 'Validating',
      reason: job.state === 'Running' ? 'Validating' : job.reason === 'JobPending' ? 'ValidationPending' : job.reason,
      message: job.message,
    };
  }
  return finishedVerdict(mv, job);
}

/** The verdict on a finished validation Job: a failed fetch step's reason, else its report decides. */
function finishedVerdict(mv: ModelVersion, job: JobObservation): Verdict {
  // The artifact never reached the validator (digest mismatch, credentials, bucket, network).
  if (job.stepFailure) return { phase: 'Rejected', reason: job.stepFailure.reason, message: job.message };
  const parsed = parseValidationReport(job.terminationMessage);
  if (!parsed.ok) {
    const why = job.state === 'Failed' ? `${job.message}; ${parsed.message}` : parsed.message;
    return {
      phase: 'Rejected',
      reason: job.state === 'Failed' ? 'ValidationJobFailed' : 'InvalidValidationReport',
      message: why,
    };
  }
  const report = parsed.report;
  if (!report.ok) {
    const error = report.error ?? job.message;
    return { phase: 'Rejected', reason: classifyValidationError(error), message: error, report };
  }
  if (mv.spec.artifact.digest && report.digest && report.digest !== mv.spec.artifact.digest) {
    return {
      phase: 'Rejected',
      reason: 'DigestMismatch',
      message: `model.onnx has digest ${report.digest}, the ModelVersion declares ${mv.spec.artifact.digest}`,
      report,
    };
  }
  const skew = skewCheck(mv, report);
  if (skew && !skew.passed) {
    return {
      phase: 'Rejected',
      reason: 'TrainingServingSkew',
      report,
      skew,
      message: `training/serving skew: serving-path ${SKEW_METRIC} ${skew.serving} is ${skew.gap} below the offline ${skew.offline} (tolerance ${skew.tolerance})`,
    };
  }
  const how = skew
    ? `serving-path ${SKEW_METRIC} ${skew.serving} vs offline ${skew.offline} (gap ${skew.gap}, tolerance ${skew.tolerance})`
    : `serving-path ${SKEW_METRIC} ${report.accuracy ?? 'unknown'} (no offline ${SKEW_METRIC} to compare with)`;
  return {
    phase: 'Ready',
    reason: 'Validated',
    message: `validated on ${report.samples ?? 0} reference samples: ${how}`,
    report,
    skew,
  };
}

/** Status fields measured by validation (signature heads, profile, serving metrics, latency, skew). */
function measured(
  mv: ModelVersion,
  report: CompactValidationReport | undefined,
  skew: ModelVersionStatus['skew'],
): Partial<ModelVersionStatus> {
  if (!report) return skew ? { skew } : {};
  const heads = report.heads ?? {};
  const servingMetrics: Record<string, number> = {};
  if (report.accuracy !== undefined) servingMetrics.accuracy = report.accuracy;
  for (const [h, a] of Object.entries(heads)) servingMetrics[`${h}.accuracy`] = a;
  return {
    ...(report.signature
      ? { signature: report.signature }
      : Object.keys(heads).length
        ? { signature: { heads: Object.keys(heads).map((name) => ({ name })) } }
        : {}),
    ...(report.samples !== undefined
      ? { profile: { samples: report.samples, uri: profileUri(mv), ...report.distributions } }
      : {}),
    ...(report.accuracy !== undefined ? { servingAccuracy: Math.min(1, Math.max(0, report.accuracy)) } : {}),
    ...(Object.keys(servingMetrics).length ? { servingMetrics } : {}),
    ...(report.latencyMs ? { servingLatencyMs: report.latencyMs } : {}),
    ...(report.calibration ? { calibration: report.calibration } : {}),
    ...(skew ? { skew } : {}),
  };
}

/** The status after this observation (pure). Other writers' fields (servedBy) are kept. */
export function computeModelVersionStatus(
  mv: ModelVersion,
  obs: ValidationObservation,
  now: Date,
  record: Pick<ModelVersionStatus, 'jobName' | 'specHash'> = {},
): ModelVersionStatus {
  const prev = mv.status ?? {};
  const generation = mv.metadata.generation;
  const next: ModelVersionStatus = { ...prev, ...stripUndefined(record), observedGeneration: generation };
  if (isFinal(prev.phase) && !obs.specChanged) return next;
  const v = verdictOf(mv, obs);
  const phase = nextModelVersionPhase(prev.phase, v.phase, obs.specChanged);
  next.phase = phase;
  if (isFinal(phase) && !obs.specChanged) {
    Object.assign(next, measured(mv, v.report, v.skew));
    next.validatedAt = isoSeconds(now);
  }
  const validated: Omit<Condition, 'lastTransitionTime'> = {
    type: C.Validated,
    reason: v.reason,
    message: v.message,
    observedGeneration: generation,
    status: phase === 'Ready' ? 'True' : phase === 'Rejected' ? 'False' : 'Unknown',
  };
  const ready: Omit<Condition, 'lastTransitionTime'> = {
    type: C.Ready,
    observedGeneration: generation,
    status: phase === 'Ready' ? 'True' : 'False',
    reason: phase === 'Ready' ? 'Validated' : phase === 'Rejected' ? v.reason : 'NotYetValidated',
    message:
      phase === 'Ready'
        ? 'the version may take traffic'
        : phase === 'Rejected'
          ? `rejected: ${v.message}`
          : 'validation has not finished',
  };
  next.conditions = setConditionAt(
    setConditionAt(prev.conditions, { ...validated, lastTransitionTime: '' }, now),
    { ...ready, lastTransitionTime: '' },
    now,
  );
  return next;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Events for what changed between two statuses (pure). */
export function modelVersionEvents(prev: ModelVersionStatus | undefined, next: ModelVersionStatus): StatusEvent[] {
  const before = prev?.conditions?.find((c) => c.type === C.Validated);
  const after = next.conditions?.find((c) => c.type === C.Validated);
  if (!after || (before && before.reason === after.reason && before.status === after.status)) return [];
  if (next.phase === 'Ready') return [{ type: 'Normal', reason: 'Validated', message: `Validated: ${after.message}` }];
  if (next.phase === 'Rejected')
    return [{ type: 'Warning', reason: after.reason, message: `Rejected: ${after.message}` }];
  if (after.reason === 'Validating')
    return [{ type: 'Normal', reason: 'Validating', message: 'Validation pod is running' }];
  if (after.reason !== 'ValidationPending') return [{ type: 'Warning', reason: after.reason, message: after.message }];
  return [];
}
