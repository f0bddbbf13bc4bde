// The canary's life in the rollout state machine (pure): starting one, recording analysed
// steps, promoting, ending it with a rollback or an abort, and the guard window after a
// promotion. phases.ts routes events here; nothing in this file is called from elsewhere.
import type {
  InferenceServiceStatus,
  InferenceServiceStatusCanary,
  InferenceServiceStatusCanaryShadowHead,
  InferenceServiceStatusCanaryStep,
  InferenceServiceStatusHistory,
  AnalysisCheck,
  Verdict,
} from '../../api/index.js';
import { decideStep } from '../../analysis/verdict.js';
import type { RolloutEvent, RolloutPolicy, VersionRef } from './phases.js';

export const MAX_HISTORY = 10;
export const MAX_FAILED_VERSIONS = 32;

const iso = (d: Date): string => d.toISOString();

export function withStableWeight(status: InferenceServiceStatus, canaryWeight: number): InferenceServiceStatus {
  const canary = status.canary ? { ...status.canary, weight: canaryWeight } : undefined;
  return {
    ...status,
    stable: status.stable ? { ...status.stable, weight: 100 - canaryWeight } : status.stable,
    canary,
  };
}

/** A canary in its shadow phase: a copy of every request, no traffic of its own. */
export function inShadow(c: InferenceServiceStatusCanary | undefined): boolean {
  return c?.shadow !== undefined && c.shadow.passedAt === undefined;
}

function startCanary(
  status: InferenceServiceStatus,
  target: VersionRef,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const canary: InferenceServiceStatusCanary = {
    version: target.version,
    modelVersion: target.modelVersion,
    weight: 0,
    step: 0,
    startedAt: iso(now),
    failedChecks: 0,
    steps: [],
    ...(policy.shadow ? { shadow: {} } : {}),
  };
  return { ...status, phase: 'Progressing', canary, stable: { ...status.stable, weight: 100 }, analysis: undefined };
}

function pushHistory(
  status: InferenceServiceStatus,
  entry: InferenceServiceStatusHistory,
): InferenceServiceStatusHistory[] {
  return [entry, ...(status.history ?? [])].slice(0, MAX_HISTORY);
}

function markFailed(status: InferenceServiceStatus, ref: VersionRef, reason: string, policy: RolloutPolicy) {
  const others = (status.failedVersions ?? []).filter((f) => f.version !== ref.version);
  return [
    ...others,
    { version: ref.version, modelVersion: ref.modelVersion, reason, generation: policy.generation },
  ].slice(-MAX_FAILED_VERSIONS);
}

/** How a canary ended without a promotion, for history, Events and failedVersions. */
export interface CanaryEnding {
  outcome: 'RolledBack' | 'Aborted';
  reason: string;
  message: string;
}

/** Ends the canary without promoting: weight 0, canary gone, history and failedVersions updated. */
export function endCanary(
  status: InferenceServiceStatus,
  ending: CanaryEnding,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const { outcome, reason, message } = ending;
  const c = status.canary;
  if (!c?.version) return status;
  const ref = { version: c.version, modelVersion: c.modelVersion ?? '' };
  return {
    ...status,
    phase: 'RolledBack',
    canary: undefined,
    stable: { ...status.stable, weight: 100 },
    history: pushHistory(status, {
      version: c.version,
      modelVersion: c.modelVersion,
      outcome,
      reason,
      message,
      startedAt: c.startedAt,
      finishedAt: iso(now),
      steps: c.steps ?? [],
    }),
    failedVersions: markFailed(status, ref, `${reason}: ${message}`.slice(0, 1024), policy),
  };
}

function promote(status: InferenceServiceStatus): InferenceServiceStatus {
  return { ...withStableWeight(status, 100), phase: 'Promoting' };
}

export function completePromotion(
  status: InferenceServiceStatus,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const c = status.canary;
  if (!c?.version) return status;
  const previous = status.stable?.version;
  return {
    ...status,
    phase: 'Serving',
    stable: { ...status.stable, version: c.version, modelVersion: c.modelVersion, weight: 100 },
    canary: undefined,
    history: pushHistory(status, {
      version: c.version,
      modelVersion: c.modelVersion,
      outcome: 'Promoted',
      reason: 'AnalysisPassed',
      message: `version ${c.version} promoted after ${c.steps?.length ?? 0} analysed steps`,
      startedAt: c.startedAt,
      finishedAt: iso(now),
      steps: c.steps ?? [],
    }),
    monitoring: {
      ...status.monitoring,
      guard:
        previous && policy.guardWindowMs > 0
          ? { until: iso(new Date(now.getTime() + policy.guardWindowMs)), previousVersion: previous }
          : undefined,
    },
  };
}

function recordStep(
  c: InferenceServiceStatusCanary,
  verdict: Verdict,
  checks: AnalysisCheck[],
  now: Date,
): InferenceServiceStatusCanaryStep[] {
  const steps = (c.steps ?? []).filter((s) => s.step !== c.step);
  return [...steps, { step: c.step, weight: c.weight, verdict, time: iso(now), checks }].slice(-10);
}

export function onAnalysis(
  status: InferenceServiceStatus,
  e: Extract<RolloutEvent, { type: 'Analysis' }>,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const seen = status.canary;
  if (status.phase !== 'Progressing' || !seen || seen.step === undefined) return status;
  const c = e.estimatedAccuracy ? { ...seen, estimatedAccuracy: e.estimatedAccuracy } : seen;
  const decision = decideStep({
    verdict: e.verdict,
    failedChecks: c.failedChecks,
    failureLimit: policy.failureLimit,
    details: e.details,
  });
  const analysis = {
    time: iso(now),
    step: c.step,
    weight: c.weight,
    ...(e.since ? { since: e.since } : {}),
    verdict: e.verdict,
    checks: e.checks,
  };
  if (inShadow(c))
    return onShadowAnalysis({ ...status, analysis, canary: c }, { ...decision, heads: e.shadow }, policy, now);
  const canary = { ...c, failedChecks: decision.failedChecks, steps: recordStep(c, e.verdict, e.checks, now) };
  const next = { ...status, analysis, canary };
  if (decision.action === 'Rollback')
    return endCanary(next, { outcome: 'RolledBack', reason: decision.reason, message: decision.message }, policy, now);
  if (decision.action === 'Hold') return next;
  if (seen.step >= policy.steps.length - 1) return promote(next);
  const step = seen.step + 1;
  return withStableWeight({ ...next, canary: { ...canary, step, stepStartedAt: iso(now) } }, policy.steps[step]);
}

/**
 * The shadow phase's analysis: a failure ends the canary before any user saw it; a pass after
 * the shadow's minimum duration starts the first step; an earlier pass holds.
 */
function onShadowAnalysis(
  status: InferenceServiceStatus,
  decision: ReturnType<typeof decideStep> & { heads?: InferenceServiceStatusCanaryShadowHead[] },
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const c = status.canary!;
  const shadow = { ...c.shadow, ...(decision.heads ? { heads: decision.heads } : {}) };
  const next = { ...status, canary: { ...c, failedChecks: decision.failedChecks, shadow } };
  if (decision.action === 'Rollback')
    return endCanary(
      next,
      { outcome: 'RolledBack', reason: 'ShadowFailed', message: `shadow phase: ${decision.message}` },
      policy,
      now,
    );
  const started = Date.parse(shadow.startedAt ?? '');
  const longEnough = Number.isFinite(started) && now.getTime() - started >= (policy.shadow?.durationMs ?? 0);
  if (decision.action === 'Hold' || !longEnough) return next;
  return withStableWeight(
    {
      ...next,
      canary: { ...next.canary, failedChecks: 0, stepStartedAt: iso(now), shadow: { ...shadow, passedAt: iso(now) } },
    },
    policy.steps[0],
  );
}

export function onTarget(
  status: InferenceServiceStatus,
  target: VersionRef,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  if (!status.stable?.version) {
    return {
      ...status,
      phase: 'Initializing',
      stable: { version: target.version, modelVersion: target.modelVersion, weight: 100 },
    };
  }
  if (status.phase === 'Promoting') return status; // finish the promotion first; a newer target is canaried after
  const c = status.canary;
  if (c?.version === target.version) return status;
  if (target.version === status.stable.version) {
    return c
      ? endCanary(
          status,
          { outcome: 'Aborted', reason: 'Superseded', message: `target is the stable version ${target.version} again` },
          policy,
          now,
        )
      : status;
  }
  if (c) {
    const ended = endCanary(
      status,
      {
        outcome: 'Aborted',
        reason: 'Superseded',
        message: `version ${target.version} replaces canary version ${c.version}`,
      },
      policy,
      now,
    );
    // Superseded is not a failure of the old canary's quality; it may come back.
    return startCanary({ ...ended, failedVersions: status.failedVersions }, target, policy, now);
  }
  if (status.phase === 'Initializing') return status; // first stable pods first
  return startCanary(status, target, policy, now);
}

export function onManual(
  status: InferenceServiceStatus,
  e: Extract<RolloutEvent, { type: 'Manual' }>,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const manual = { ...status.manual, [e.action]: e.value };
  const s = { ...status, manual };
  if (e.action === 'promote') {
    if (s.phase === 'Progressing') return promote(s);
    // Outside a canary, a promote forgives failed versions: the next target is canaried again.
    return { ...s, failedVersions: [] };
  }
  if (!s.canary) return s;
  return e.action === 'rollback'
    ? endCanary(
        s,
        { outcome: 'RolledBack', reason: 'ManualRollback', message: `rolled back by annotation (value ${e.value})` },
        policy,
        now,
      )
    : endCanary(
        s,
        { outcome: 'Aborted', reason: 'ManualAbort', message: `aborted by annotation (value ${e.value})` },
        policy,
        now,
      );
}

export function onGuardRegression(
  status: InferenceServiceStatus,
  message: string,
  policy: RolloutPolicy,
  now: Date,
): InferenceServiceStatus {
  const guard = status.monitoring?.guard;
  const current = status.stable;
  if (!guard?.previousVersion || !current?.version || status.phase !== 'Serving') return status;
  const modelVersion = current.modelVersion?.replace(/-v[0-9]+$/, `-v${guard.previousVersion}`);
  return {
    ...status,
    phase: 'RolledBack',
    stable: { ...current, version: guard.previousVersion, modelVersion, weight: 100 },
    history: pushHistory(status, {
      version: current.version,
      modelVersion: current.modelVersion,
      outcome: 'RolledBack',
      reason: 'GuardRegression',
      message,
      finishedAt: iso(now),
    }),
    failedVersions: markFailed(
      status,
      { version: current.version, modelVersion: current.modelVersion ?? '' },
      `GuardRegression: ${message}`.slice(0, 1024),
      policy,
    ),
    monitoring: { ...status.monitoring, guard: undefined },
  };
}
