// Spec → the numbers the state machine and the timers use (pure). Every reader gets the spec
// through withInferenceServiceDefaults (generated from the CRD), so no default is repeated here.
import {
  parseDuration,
  withInferenceServiceDefaults,
  type InferenceService,
  type ModelVersion,
} from '../../api/index.js';
import type { RolloutPolicy, VersionRef } from './phases.js';

export function rolloutPolicy(isvc: InferenceService): RolloutPolicy {
  const spec = withInferenceServiceDefaults(isvc.spec);
  const c = spec.canary;
  return {
    steps: c.steps,
    intervalMs: parseDuration(c.interval),
    failureLimit: c.failureLimit,
    progressDeadline: c.progressDeadline,
    progressDeadlineMs: parseDuration(c.progressDeadline),
    guardWindowMs: parseDuration(spec.monitoring.guardWindow),
    generation: isvc.metadata.generation ?? 0,
    replicas: spec.autoscaling ? spec.autoscaling.minReplicas : spec.replicas,
    ...(c.shadow ? { shadow: { durationMs: parseDuration(c.shadow.duration) } } : {}),
  };
}

export const monitoringIntervalMs = (isvc: InferenceService): number =>
  parseDuration(withInferenceServiceDefaults(isvc.spec).monitoring.interval);

/** The Ready, not deleted versions of spec.model, newest first; only spec.version when pinned. */
export function readyVersions(isvc: InferenceService, versions: readonly ModelVersion[]): VersionRef[] {
  const pinned = isvc.spec.version;
  return versions
    .filter((mv) => mv.spec.model === isvc.spec.model && mv.status?.phase === 'Ready' && !mv.metadata.deletionTimestamp)
    .filter((mv) => pinned === undefined || mv.spec.version === pinned)
    .sort((a, b) => b.spec.version - a.spec.version)
    .map((mv) => ({ version: mv.spec.version, modelVersion: mv.metadata.name ?? '' }));
}
