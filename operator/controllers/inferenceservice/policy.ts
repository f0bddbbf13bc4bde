// Spec → the numbers the state machine and the timers use (pure). The API server applies the
// CRD defaults; the fallbacks here repeat them for objects that bypassed defaulting (tests,
// older stored versions).
import { parseDuration, type InferenceService, type ModelVersion } from '../../api/index.js';
import type { RolloutPolicy, VersionRef } from './phases.js';

export const DEFAULT_STEPS = [10, 25, 50];

export function rolloutPolicy(isvc: InferenceService): RolloutPolicy {
  const c = isvc.spec.canary;
  const progressDeadline = c?.progressDeadline ?? '30m';
  return {
    steps: c?.steps?.length ? c.steps : DEFAULT_STEPS,
    intervalMs: parseDuration(c?.interval ?? '1m'),
    failureLimit: c?.failureLimit ?? 2,
    progressDeadline,
    progressDeadlineMs: parseDuration(progressDeadline),
    guardWindowMs: parseDuration(isvc.spec.monitoring?.guardWindow ?? '10m'),
    generation: isvc.metadata.generation ?? 0,
  };
}

export const monitoringIntervalMs = (isvc: InferenceService): number => parseDuration(isvc.spec.monitoring?.interval ?? '5m');

/**
 * The version that should serve: spec.version when pinned (and Ready), else the newest Ready
 * ModelVersion of spec.model that is not blocked (rolled back at this generation). Undefined
 * while no such version exists.
 */
export function selectTarget(isvc: InferenceService, versions: readonly ModelVersion[], blocked: ReadonlySet<number>): VersionRef | undefined {
  const ready = versions
    .filter((mv) => mv.spec.model === isvc.spec.model && mv.status?.phase === 'Ready' && !mv.metadata.deletionTimestamp)
    .sort((a, b) => b.spec.version - a.spec.version);
  const pinned = isvc.spec.version;
  const pick = pinned !== undefined ? ready.find((mv) => mv.spec.version === pinned && !blocked.has(pinned)) : ready.find((mv) => !blocked.has(mv.spec.version));
  return pick ? { version: pick.spec.version, modelVersion: pick.metadata.name ?? '' } : undefined;
}
