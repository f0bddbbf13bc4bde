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
import type {
  AnalysisCheck, InferenceServicePhase, InferenceServiceStatus, InferenceServiceStatusCanary, InferenceServiceStatusCanaryStep,
  InferenceServiceStatusHistory, Verdict,
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
  /** spec.canary.progressDeadline as written (decideStep reads it). */
  progressDeadline: string;
  guardWindowMs: number;
  generation: number;
}

export interface VersionRef {
  version: number;
  modelVersion: string;
}

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
  | { type: 'Invalid'; reason: string; message: string };

export const isCanaryPhase = (p: InferenceServicePhase | undefined): boolean => p === 'Progressing' || p === 'Promoting';

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

/** When the canary must have finished (startedAt + progressDeadline). */
export function deadlineOf(status: InferenceServiceStatus, policy: RolloutPolicy): Date | undefined {
  const started = status.canary?.startedAt;
  return status.phase === 'Progressing' && started ? new Date(Date.parse(started) + policy.progressDeadlineMs) : undefined;
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

/** Ends the canary without promoting: weight 0, canary gone, history and failedVersions updated. */
export function endCanary(status: InferenceServiceStatus, outcome: 'RolledBack' | 'Aborted', reason: string, message: string, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
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
  const decision = decideStep({
    verdict: e.verdict, failedChecks: c.failedChecks, failureLimit: policy.failureLimit,
    startedAt: c.startedAt ?? now, progressDeadline: policy.progressDeadline, now, details: e.details,
  });
  const analysis = { time: iso(now), step: c.step, weight: c.weight, verdict: e.verdict, checks: e.checks };
  const canary = { ...c, failedChecks: decision.failedChecks, steps: recordStep(c, e.verdict, e.checks, now) };
  const next = { ...status, analysis, canary };
  if (decision.action === 'Rollback') return endCanary(next, 'RolledBack', decision.reason, decision.message, policy, now);
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
    return c ? endCanary(status, 'Aborted', 'Superseded', `target is the stable version ${target.version} again`, policy, now) : status;
  }
  if (c) {
    const ended = endCanary(status, 'Aborted', 'Superseded', `version ${target.version} replaces canary version ${c.version}`, policy, now);
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
    ? endCanary(s, 'RolledBack', 'ManualRollback', `rolled back by annotation (value ${e.value})`, policy, now)
    : endCanary(s, 'Aborted', 'ManualAbort', `aborted by annotation (value ${e.value})`, policy, now);
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

export function transition(status: InferenceServiceStatus, event: RolloutEvent, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  switch (event.type) {
    case 'Target':
      return onTarget(status, event.target, policy, now);
    case 'StableReady': {
      const stable = status.stable ? { ...status.stable, readyReplicas: event.readyReplicas } : status.stable;
      const s = { ...status, stable };
      const up = event.readyReplicas > 0;
      if (s.phase === 'Initializing' && up && stable?.version) return { ...s, phase: 'Serving' };
      if (s.phase === 'Serving' && !up) return { ...s, phase: 'Degraded' };
      if (s.phase === 'Degraded' && up) return { ...s, phase: 'Serving' };
      if ((s.phase === undefined || s.phase === 'Failed') && stable?.version) return { ...s, phase: up ? 'Serving' : 'Initializing' };
      return s;
    }
    case 'CanaryReady': {
      const c = status.canary;
      if (!c || status.phase !== 'Progressing') return status;
      const s = { ...status, canary: { ...c, readyReplicas: event.readyReplicas } };
      // The first step starts when canary pods can take traffic, so its window holds canary data.
      if (!c.stepStartedAt && event.readyReplicas > 0) return withStableWeight({ ...s, canary: { ...s.canary, stepStartedAt: iso(now) } }, policy.steps[c.step ?? 0]);
      return s;
    }
    case 'Analysis':
      return onAnalysis(status, event, policy, now);
    case 'PromotionComplete':
      return status.phase === 'Promoting' ? completePromotion(status, policy, now) : status;
    case 'Manual':
      return onManual(status, event, policy, now);
    case 'GuardRegression':
      return onGuardRegression(status, event.message, policy, now);
    case 'Invalid':
      return { ...status, phase: 'Failed' };
  }
}

/** Rolls back a canary past its progress deadline (fail safe). */
export function checkDeadline(status: InferenceServiceStatus, policy: RolloutPolicy, now: Date): InferenceServiceStatus {
  const deadline = deadlineOf(status, policy);
  if (!deadline || now < deadline) return status;
  const last = status.analysis?.verdict ? ` (last analysis: ${status.analysis.verdict})` : ' (no analysis could run)';
  return endCanary(status, 'RolledBack', 'ProgressDeadlineExceeded', `canary did not finish within progressDeadline${last}`, policy, now);
}

/** The versions that must not be canaried again at this generation. */
export function blockedVersions(status: InferenceServiceStatus | undefined, generation: number): Set<number> {
  return new Set((status?.failedVersions ?? []).filter((f) => (f.generation ?? 0) >= generation).map((f) => f.version));
}
