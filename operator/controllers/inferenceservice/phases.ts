// The rollout state machine (pure). Phases:
//   Initializing — no stable version serves yet (waiting for a Ready ModelVersion or for the
//                  first stable pods).
//   Serving      — the stable version takes all traffic; a guard window may be open after a
//                  promotion (status.monitoring.guard).
//   Progressing  — a canary walks through spec.canary.steps, one analysis per interval.
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
  AnalysisCheck, InferenceServicePhase, InferenceServiceStatus, InferenceServiceStatusCanary, InferenceServiceStatusCanaryStep,
  InferenceServiceStatusHistory, InferenceServiceStatusMonitoring, Verdict, VersionRole,
} from '../../api/index.js';
import { decideStep } from '../../analysis/verdict.js';

export const PHASES: readonly InferenceServicePhase[] = ['Initializing', 'Serving', 'Progressing', 'Promoting', 'RolledBack', 'Degraded', 'Failed'];
export const MAX_HISTORY = 10;
export const MAX_FAILED_VERSIONS = 32;

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
}

export interface VersionRef {
  version: number;
  modelVersion: string;
}

/** Pods of one role by the version label: how many exist and how many are ready. */
export type RolePods = Readonly<Record<string, { pods: number; ready: number }>>;
export type PodCounts = Readonly<Record<VersionRole, RolePods>>;

export type RolloutEvent =
  /** The version that should serve (pinned or newest Ready, failed versions already left out). */
  | { type: 'Target'; target: VersionRef }
  /** Ready pods of the stable Deployment running status.stable.version. */
  | { type: 'StableReady'; readyReplicas: number }
  /** Ready pods of the canary Deployment. */
  | { type: 'CanaryReady'; readyReplicas: number }
  /** One analysis of the current step. */
  | { type: 'Analysis'; verdict: Verdict; checks: AnalysisCheck[]; details?: string[] }
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
  | { type: 'Monitored'; monitoring: InferenceServiceStatusMonitoring; guard?: { verdict: Verdict; details: readonly string[] } };

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

function withStableWeight(status: InferenceServiceStatus, canaryWeight: number): InferenceServiceStatus {
  const canary = status.canary ? { ...status.canary, weight: canaryWeight } : undefined;
  return { ...status, stable: status.stable ? { ...status.stable, weight: 100 - canaryWeight } : status.stable, canary };
}

function startCanary(status: InferenceServiceStatus, target: VersionRef, now: Date): InferenceServiceStatus {
  const canary: InferenceServiceStatusCanary = { version: target.version, modelVersion: target.modelVersion, weight: 0, step: 0, startedAt: iso(now), failedChecks: 0, steps: [] };
  return { ...status, phase: 'Progressing', canary, stable: { ...status.stable, weight: 100 }, analysis: undefined };
}

function pushHistory(status: InferenceServiceStatus, entry: InferenceServiceStatusHistory): InferenceServiceStatusHistory[] {
  return [entry, ...(status.history ?? [])].slice(0, MAX_HISTORY);
}

function markFailed(status: InferenceServiceStatus, ref: VersionRef, reason: string, policy: RolloutPolicy) {
  const others = (status.failedVersions ?? []).filter((f) => f.version !== ref.version);
  return [...others, { version: ref.version, modelVersion: ref.modelVersion, reason, generation: policy.generation }].slice(-MAX_FAILED_VERSIONS);
}

/** How a canary ended without a promotion, for history, Events and failedVersions. */
export interface CanaryEnding {
  outcome: 'RolledBack' | 'Aborted';
  reason: string;
  message: string;
}

/** Ends the canary without promoting: weight 0, canary gone, history and failedVersions updated. */
export function endCanary(status: InferenceServiceStatus, ending: CanaryEnding, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  const { outcome, reason, message } = ending;
  const c = status.canary;
  if (!c?.version) return status;
  const ref = { version: c.version, modelVersion: c.modelVersion ?? '' };
  return {
    ...status,
    phase: 'RolledBack',
    canary: undefined,
    stable: { ...status.stable, weight: 100 },
    history: pushHistory(status, { version: c.version, modelVersion: c.modelVersion, outcome, reason, message, startedAt: c.startedAt, finishedAt: iso(now), steps: c.steps ?? [] }),
    failedVersions: markFailed(status, ref, `${reason}: ${message}`.slice(0, 1024), policy),
  };
}

function promote(status: InferenceServiceStatus): InferenceServiceStatus {
  return { ...withStableWeight(status, 100), phase: 'Promoting' };
}

function completePromotion(status: InferenceServiceStatus, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  const c = status.canary;
  if (!c?.version) return status;
  const previous = status.stable?.version;
  return {
    ...status,
    phase: 'Serving',
    stable: { ...status.stable, version: c.version, modelVersion: c.modelVersion, weight: 100 },
    canary: undefined,
    history: pushHistory(status, { version: c.version, modelVersion: c.modelVersion, outcome: 'Promoted', reason: 'AnalysisPassed', message: `version ${c.version} promoted after ${c.steps?.length ?? 0} analysed steps`, startedAt: c.startedAt, finishedAt: iso(now), steps: c.steps ?? [] }),
    monitoring: {
      ...status.monitoring,
      guard: previous && policy.guardWindowMs > 0 ? { until: iso(new Date(now.getTime() + policy.guardWindowMs)), previousVersion: previous } : undefined,
    },
  };
}

function recordStep(c: InferenceServiceStatusCanary, verdict: Verdict, checks: AnalysisCheck[], now: Date): InferenceServiceStatusCanaryStep[] {
  const steps = (c.steps ?? []).filter((s) => s.step !== c.step);
  return [...steps, { step: c.step, weight: c.weight, verdict, time: iso(now), checks }].slice(-10);
}

function onAnalysis(status: InferenceServiceStatus, e: Extract<RolloutEvent, { type: 'Analysis' }>, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  const c = status.canary;
  if (status.phase !== 'Progressing' || !c || c.step === undefined) return status;
  const decision = decideStep({ verdict: e.verdict, failedChecks: c.failedChecks, failureLimit: policy.failureLimit, details: e.details });
  const analysis = { time: iso(now), step: c.step, weight: c.weight, verdict: e.verdict, checks: e.checks };
  const canary = { ...c, failedChecks: decision.failedChecks, steps: recordStep(c, e.verdict, e.checks, now) };
  const next = { ...status, analysis, canary };
  if (decision.action === 'Rollback') return endCanary(next, { outcome: 'RolledBack', reason: decision.reason, message: decision.message }, policy, now);
  if (decision.action === 'Hold') return next;
  if (c.step >= policy.steps.length - 1) return promote(next);
  const step = c.step + 1;
  return withStableWeight({ ...next, canary: { ...canary, step, stepStartedAt: iso(now) } }, policy.steps[step]);
}

function onTarget(status: InferenceServiceStatus, target: VersionRef, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  if (!status.stable?.version) {
    return { ...status, phase: 'Initializing', stable: { version: target.version, modelVersion: target.modelVersion, weight: 100 } };
  }
  if (status.phase === 'Promoting') return status; // finish the promotion first; a newer target is canaried after
  const c = status.canary;
  if (c?.version === target.version) return status;
  if (target.version === status.stable.version) {
    return c ? endCanary(status, { outcome: 'Aborted', reason: 'Superseded', message: `target is the stable version ${target.version} again` }, policy, now) : status;
  }
  if (c) {
    const ended = endCanary(status, { outcome: 'Aborted', reason: 'Superseded', message: `version ${target.version} replaces canary version ${c.version}` }, policy, now);
    // Superseded is not a failure of the old canary's quality; it may come back.
    return startCanary({ ...ended, failedVersions: status.failedVersions }, target, now);
  }
  if (status.phase === 'Initializing') return status; // first stable pods first
  return startCanary(status, target, now);
}

function onManual(status: InferenceServiceStatus, e: Extract<RolloutEvent, { type: 'Manual' }>, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  const manual = { ...status.manual, [e.action]: e.value };
  const s = { ...status, manual };
  if (e.action === 'promote') {
    if (s.phase === 'Progressing') return promote(s);
    // Outside a canary, a promote forgives failed versions: the next target is canaried again.
    return { ...s, failedVersions: [] };
  }
  if (!s.canary) return s;
  return e.action === 'rollback'
    ? endCanary(s, { outcome: 'RolledBack', reason: 'ManualRollback', message: `rolled back by annotation (value ${e.value})` }, policy, now)
    : endCanary(s, { outcome: 'Aborted', reason: 'ManualAbort', message: `aborted by annotation (value ${e.value})` }, policy, now);
}

function onGuardRegression(status: InferenceServiceStatus, message: string, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  const guard = status.monitoring?.guard;
  const current = status.stable;
  if (!guard?.previousVersion || !current?.version || status.phase !== 'Serving') return status;
  const modelVersion = current.modelVersion?.replace(/-v[0-9]+$/, `-v${guard.previousVersion}`);
  return {
    ...status,
    phase: 'RolledBack',
    stable: { ...current, version: guard.previousVersion, modelVersion, weight: 100 },
    history: pushHistory(status, { version: current.version, modelVersion: current.modelVersion, outcome: 'RolledBack', reason: 'GuardRegression', message, finishedAt: iso(now) }),
    failedVersions: markFailed(status, { version: current.version, modelVersion: current.modelVersion ?? '' }, `GuardRegression: ${message}`.slice(0, 1024), policy),
    monitoring: { ...status.monitoring, guard: undefined },
  };
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

function onCanaryReady(status: InferenceServiceStatus, readyReplicas: number, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  const c = status.canary;
  if (!c || status.phase !== 'Progressing') return status;
  const s = { ...status, canary: { ...c, readyReplicas } };
  // The first step starts when canary pods can take traffic, so its window holds canary data.
  if (!c.stepStartedAt && readyReplicas > 0) return withStableWeight({ ...s, canary: { ...s.canary, stepStartedAt: iso(now) } }, policy.steps[c.step ?? 0]);
  return s;
}

type Handler<T extends RolloutEvent['type']> = (status: InferenceServiceStatus, event: Extract<RolloutEvent, { type: T }>, policy: RolloutPolicy, now: Date) => InferenceServiceStatus;

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

export function transition(status: InferenceServiceStatus, event: RolloutEvent, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  return (HANDLERS[event.type] as Handler<RolloutEvent['type']>)(status, event, policy, now);
}

/** Where a spec that could not be served (Failed) resumes once it can: where its status says it was. */
function recoveredPhase(status: InferenceServiceStatus, up: boolean): InferenceServicePhase {
  if (status.canary) return status.canary.weight === 100 ? 'Promoting' : 'Progressing';
  return up ? 'Serving' : 'Initializing';
}

function onVersions(status: InferenceServiceStatus, ready: readonly VersionRef[], policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  const blocked = blockedVersions(status, policy.generation);
  const target = ready.find((v) => !blocked.has(v.version));
  return target ? onTarget(status, target, policy, now) : status;
}

/** Ready and other-version pods of `role` for `version`. */
export function podsOf(pods: PodCounts, role: VersionRole, version: number | undefined): { ready: number; others: number } {
  if (version === undefined) return { ready: 0, others: 0 };
  const all = Object.entries(pods[role]);
  const others = all.filter(([v]) => v !== String(version)).reduce((n, [, c]) => n + c.pods, 0);
  return { ready: pods[role][String(version)]?.ready ?? 0, others };
}

function onPods(status: InferenceServiceStatus, pods: PodCounts, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  let s = status;
  if (s.phase === 'Promoting') {
    const promoted = podsOf(pods, 'stable', s.canary?.version);
    if (promoted.ready >= policy.replicas && promoted.others === 0) s = transition(s, { type: 'PromotionComplete' }, policy, now);
  }
  s = transition(s, { type: 'StableReady', readyReplicas: podsOf(pods, 'stable', s.stable?.version).ready }, policy, now);
  if (s.canary) s = transition(s, { type: 'CanaryReady', readyReplicas: podsOf(pods, 'canary', s.canary.version).ready }, policy, now);
  return s;
}

/** Rolls back a canary past its progress deadline, whatever its analyses said (fail safe). */
function onClock(status: InferenceServiceStatus, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  if (!pastDeadline(status, policy, now)) return status;
  const last = status.analysis?.verdict ? `last analysis ${status.analysis.verdict}` : 'no analysis could run';
  return endCanary(status, { outcome: 'RolledBack', reason: 'ProgressDeadlineExceeded', message: `canary did not finish within progressDeadline ${policy.progressDeadline} (${last})` }, policy, now);
}

function onMonitored(status: InferenceServiceStatus, e: Extract<RolloutEvent, { type: 'Monitored' }>, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  const guard = status.monitoring?.guard;
  const guardOpen = guard?.until !== undefined && now < new Date(guard.until);
  const next = { ...status, monitoring: { ...e.monitoring, lastCheckedAt: iso(now), ...(guardOpen ? { guard } : {}) } };
  if (!guardOpen || e.guard?.verdict !== 'Fail') return next;
  return onGuardRegression(next, `new stable version regressed inside the guard window: ${e.guard.details.join('; ')}`, policy, now);
}

/** The versions that must not be canaried again at this generation. */
export function blockedVersions(status: InferenceServiceStatus | undefined, generation: number): Set<number> {
  return new Set((status?.failedVersions ?? []).filter((f) => (f.generation ?? 0) >= generation).map((f) => f.version));
}
