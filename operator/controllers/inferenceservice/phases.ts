// The rollout state machine (pure). Phases:
//   Initializing — no stable version serves yet (waiting for a Ready ModelVersion or for the
//                  first stable pods).
//   Serving      — the stable version takes all traffic; a guard window may be open after a
//                  promotion (status.monitoring.guard).
//   Progressing  — a canary walks through spec.canary.steps, one analysis per interval; with
//                  spec.canary.shadow it first gets a copy of every request and no traffic
//                  (status.canary.shadow without passedAt) until its shadow analysis passes.
//   Promoting    — every step passed (or a manual promote): the canary takes all traffic while
//                  the stable Deployment is moved to its version.
//   RolledBack   — the last canary (or a guarded promotion) was rolled back; stable serves.
//                  The version is in status.failedVersions and is not retried until the spec
//                  changes or a manual promote.
//   Degraded     — serving, but no stable pod is ready.
//   Failed       — the spec cannot be served (e.g. an artifact the pods cannot mount).
// `transition(status, event, policy, now)` returns the next status; it never does I/O, so every
// decision is table-tested and a restarted operator replays exactly the same decisions from status.
// Nothing else writes status.phase: observations (versions, pods, the clock) and measurements
// (analyses, monitoring) reach it as events.
import type {
  AnalysisCheck,
  InferenceServicePhase,
  InferenceServiceStatus,
  InferenceServiceStatusCanaryEstimatedAccuracy,
  InferenceServiceStatusCanaryShadowHead,
  InferenceServiceStatusMonitoring,
  Verdict,
  VersionRole,
} from '../../api/index.js';
import {
  completePromotion,
  endCanary,
  inShadow,
  onAnalysis,
  onGuardRegression,
  onManual,
  onTarget,
  withStableWeight,
} from './canary.js';

export const PHASES: readonly InferenceServicePhase[] = [
  'Initializing',
  'Serving',
  'Progressing',
  'Promoting',
  'RolledBack',
  'Degraded',
  'Failed',
];

export interface RolloutPolicy {
  steps: number[];
  intervalMs: number;
  failureLimit: number;
  progressDeadlineMs: number;
  /** spec.canary.progressDeadline as written, for messages. */
  progressDeadline: string;
  guardWindowMs: number;
  generation: number;
  /** Ready pods a promotion waits for on the stable Deployment (replicas or autoscaling.minReplicas). */
  replicas: number;
  /** spec.canary.shadow: a shadow phase before the steps, at least this long. */
  shadow?: { durationMs: number };
}

export interface VersionRef {
  version: number;
  modelVersion: string;
}

/** Pods of one role by the version label: how many exist and how many are ready. */
export type RolePods = Readonly<Record<string, { pods: number; ready: number; failure?: PodFailure }>>;

/** Why a version's pods exit before serving (a failed fetch step, a refused model file). */
export interface PodFailure {
  reason: string;
  message: string;
}

/** Failures no restart can mend: a canary that meets one is rolled back at once. */
export const PERMANENT_POD_FAILURES: ReadonlySet<string> = new Set([
  'DigestMismatch',
  'StorageAccessDenied',
  'StorageCertificateUntrusted',
  'NoSuchBucket',
  'ArtifactNotFound',
  'ArtifactTooLarge',
  'UnsupportedScheme',
]);
export type PodCounts = Readonly<Record<VersionRole, RolePods>>;

export type RolloutEvent =
  /** The version that should serve (pinned or newest Ready, failed versions already left out). */
  | { type: 'Target'; target: VersionRef }
  /** Ready pods of the stable Deployment running status.stable.version. */
  | { type: 'StableReady'; readyReplicas: number }
  /** Ready pods of the canary Deployment. */
  | { type: 'CanaryReady'; readyReplicas: number }
  /**
   * One analysis of the current step (or of the shadow phase, with its per-head summary);
   * `since`: start of its accumulated evidence.
   */
  | {
      type: 'Analysis';
      verdict: Verdict;
      checks: AnalysisCheck[];
      details?: string[];
      since?: string;
      shadow?: InferenceServiceStatusCanaryShadowHead[];
      /** The label-free accuracy estimate per head (or why none), for status.canary.estimatedAccuracy. */
      estimatedAccuracy?: InferenceServiceStatusCanaryEstimatedAccuracy[];
    }
  /** The stable Deployment runs the promoted version with all pods ready. */
  | { type: 'PromotionComplete' }
  /** A manual annotation with a new value. */
  | { type: 'Manual'; action: 'promote' | 'rollback' | 'abort'; value: string }
  /** The newly promoted stable regressed inside its guard window. */
  | { type: 'GuardRegression'; message: string }
  /** The spec cannot be served. */
  | { type: 'Invalid'; reason: string; message: string }
  /** The Ready versions of the model, newest first (only spec.version when pinned): a Target, unless all are blocked. */
  | { type: 'Versions'; ready: readonly VersionRef[] }
  /** Serving pods as the cache shows them: promotion completion and each role's readiness. */
  | { type: 'Pods'; pods: PodCounts }
  /** Time passed: a canary past its progress deadline rolls back (fail safe). */
  | { type: 'Clock' }
  /** A production-monitoring result of the stable version, with the guard-window verdict while one is open. */
  | {
      type: 'Monitored';
      monitoring: InferenceServiceStatusMonitoring;
      guard?: { verdict: Verdict; details: readonly string[] };
    };

export { inShadow };

const iso = (d: Date): string => d.toISOString();

/** When the next analysis of the current step is due; undefined while the canary is not ready. */
export function nextAnalysisAt(status: InferenceServiceStatus, policy: RolloutPolicy): Date | undefined {
  const c = status.canary;
  if (status.phase !== 'Progressing' || !c?.stepStartedAt) return undefined;
  let from = Date.parse(c.stepStartedAt);
  const last = status.analysis?.time ? Date.parse(status.analysis.time) : NaN;
  if (status.analysis?.step === c.step && last > from) from = last;
  return new Date(from + policy.intervalMs);
}

/**
 * When the canary must have finished (startedAt + progressDeadline); the one deadline rule. An
 * unreadable start time gives the epoch: a canary must never run forever on a corrupt status.
 */
export function deadlineOf(status: InferenceServiceStatus, policy: RolloutPolicy): Date | undefined {
  const started = status.canary?.startedAt;
  if (status.phase !== 'Progressing' || !started) return undefined;
  const start = Date.parse(started);
  return new Date(Number.isNaN(start) ? 0 : start + policy.progressDeadlineMs);
}

/** Past the deadline means strictly after it, as a Deployment's progressDeadlineSeconds. */
export function pastDeadline(status: InferenceServiceStatus, policy: RolloutPolicy, now: Date): boolean {
  const deadline = deadlineOf(status, policy);
  return deadline !== undefined && now > deadline;
}

function onStableReady(status: InferenceServiceStatus, readyReplicas: number): InferenceServiceStatus {
  const stable = status.stable ? { ...status.stable, readyReplicas } : status.stable;
  const s = { ...status, stable };
  const up = readyReplicas > 0;
  if (s.phase === 'Initializing' && up && stable?.version) return { ...s, phase: 'Serving' };
  if (s.phase === 'Serving' && !up) return { ...s, phase: 'Degraded' };
  if (s.phase === 'Degraded' && up) return { ...s, phase: 'Serving' };
  if ((s.phase === undefined || s.phase === 'Failed') && stable?.version) return { ...s, phase: recoveredPhase(s, up) };
  return s;
}

function onCanaryReady(
  status: InferenceServiceStatus,
  readyReplicas: number,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const c = status.canary;
  if (!c || status.phase !== 'Progressing') return status;
  const s = { ...status, canary: { ...c, readyReplicas } };
  // The first step (or the shadow phase) starts when canary pods can take traffic (or copies),
  // so its window holds canary data.
  if (c.stepStartedAt || readyReplicas === 0) return s;
  if (inShadow(c))
    return withStableWeight(
      { ...s, canary: { ...s.canary, stepStartedAt: iso(now), shadow: { ...c.shadow, startedAt: iso(now) } } },
      0,
    );
  return withStableWeight({ ...s, canary: { ...s.canary, stepStartedAt: iso(now) } }, policy.steps[c.step ?? 0]);
}

type Handler<T extends RolloutEvent['type']> = (
  status: InferenceServiceStatus,
  event: Extract<RolloutEvent, { type: T }>,
  policy: RolloutPolicy,
  now: Date,
) => InferenceServiceStatus;

/** One handler per event type; the compiler insists on every type. */
const HANDLERS: { [T in RolloutEvent['type']]: Handler<T> } = {
  Target: (s, e, policy, now) => onTarget(s, e.target, policy, now),
  StableReady: (s, e) => onStableReady(s, e.readyReplicas),
  CanaryReady: (s, e, policy, now) => onCanaryReady(s, e.readyReplicas, policy, now),
  Analysis: onAnalysis,
  PromotionComplete: (s, _e, policy, now) => (s.phase === 'Promoting' ? completePromotion(s, policy, now) : s),
  Manual: onManual,
  GuardRegression: (s, e, policy, now) => onGuardRegression(s, e.message, policy, now),
  Invalid: (s) => ({ ...s, phase: 'Failed' }),
  Versions: (s, e, policy, now) => onVersions(s, e.ready, policy, now),
  Pods: (s, e, policy, now) => onPods(s, e.pods, policy, now),
  Clock: (s, _e, policy, now) => onClock(s, policy, now),
  Monitored: onMonitored,
};

export function transition(
  status: InferenceServiceStatus,
  event: RolloutEvent,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  return (HANDLERS[event.type] as Handler<RolloutEvent['type']>)(status, event, policy, now);
}

/** Where a spec that could not be served (Failed) resumes once it can: where its status says it was. */
function recoveredPhase(status: InferenceServiceStatus, up: boolean): InferenceServicePhase {
  if (status.canary) return status.canary.weight === 100 ? 'Promoting' : 'Progressing';
  return up ? 'Serving' : 'Initializing';
}

function onVersions(
  status: InferenceServiceStatus,
  ready: readonly VersionRef[],
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const blocked = blockedVersions(status, policy.generation);
  const target = ready.find((v) => !blocked.has(v.version));
  return target ? onTarget(status, target, policy, now) : status;
}

/** Ready and other-version pods of `role` for `version`. */
export function podsOf(
  pods: PodCounts,
  role: VersionRole,
  version: number | undefined,
): { ready: number; others: number } {
  if (version === undefined) return { ready: 0, others: 0 };
  const all = Object.entries(pods[role]);
  const others = all.filter(([v]) => v !== String(version)).reduce((n, [, c]) => n + c.pods, 0);
  return { ready: pods[role][String(version)]?.ready ?? 0, others };
}

function onPods(
  status: InferenceServiceStatus,
  pods: PodCounts,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  let s = status;
  if (s.phase === 'Promoting') {
    const promoted = podsOf(pods, 'stable', s.canary?.version);
    if (promoted.ready >= policy.replicas && promoted.others === 0)
      s = transition(s, { type: 'PromotionComplete' }, policy, now);
  }
  s = transition(
    s,
    { type: 'StableReady', readyReplicas: podsOf(pods, 'stable', s.stable?.version).ready },
    policy,
    now,
  );
  if (s.canary)
    s = transition(
      s,
      { type: 'CanaryReady', readyReplicas: podsOf(pods, 'canary', s.canary.version).ready },
      policy,
      now,
    );
  return rollBackBrokenCanary(s, pods, policy, now);
}

/** A canary whose pods cannot start for a reason no restart mends is rolled back at once. */
function rollBackBrokenCanary(
  s: InferenceServiceStatus,
  pods: PodCounts,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const version = s.canary?.version;
  const failure = version === undefined ? undefined : pods.canary[String(version)]?.failure;
  if (s.phase !== 'Progressing' || !failure || !PERMANENT_POD_FAILURES.has(failure.reason)) return s;
  if ((pods.canary[String(version)]?.ready ?? 0) > 0) return s;
  return endCanary(s, { outcome: 'RolledBack', reason: failure.reason, message: failure.message }, policy, now);
}

/** Why the stable version's pods do not start, when none is ready (for the Ready condition). */
export function stableFailure(status: InferenceServiceStatus, pods: PodCounts): PodFailure | undefined {
  const version = status.stable?.version;
  const seen = version === undefined ? undefined : pods.stable[String(version)];
  return seen && seen.ready === 0 ? seen.failure : undefined;
}

/** Rolls back a canary past its progress deadline, whatever its analyses said (fail safe). */
function onClock(status: InferenceServiceStatus, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  if (!pastDeadline(status, policy, now)) return status;
  const last = status.analysis?.verdict ? `last analysis ${status.analysis.verdict}` : 'no analysis could run';
  return endCanary(
    status,
    {
      outcome: 'RolledBack',
      reason: 'ProgressDeadlineExceeded',
      message: `canary did not finish within progressDeadline ${policy.progressDeadline} (${last})`,
    },
    policy,
    now,
  );
}

function onMonitored(
  status: InferenceServiceStatus,
  e: Extract<RolloutEvent, { type: 'Monitored' }>,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const guard = status.monitoring?.guard;
  const guardOpen = guard?.until !== undefined && now < new Date(guard.until);
  const next = { ...status, monitoring: { ...e.monitoring, lastCheckedAt: iso(now), ...(guardOpen ? { guard } : {}) } };
  if (!guardOpen || e.guard?.verdict !== 'Fail') return next;
  return onGuardRegression(
    next,
    `new stable version regressed inside the guard window: ${e.guard.details.join('; ')}`,
    policy,
    now,
  );
}

/** The versions that must not be canaried again at this generation. */
export function blockedVersions(status: InferenceServiceStatus | undefined, generation: number): Set<number> {
  return new Set((status?.failedVersions ?? []).filter((f) => (f.generation ?? 0) >= generation).map((f) => f.version));
}
