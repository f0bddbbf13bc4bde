// Conditions and Events derived from a status transition (pure).
import { ConditionTypes, type InferenceServiceStatus } from '../../api/index.js';
import type { EventType } from '../../runtime/recorder.js';
import { setCondition, type Condition } from '../../runtime/status.js';
import { inShadow } from './phases.js';

const T = ConditionTypes.InferenceService;

/** Why a spec cannot be served: a CamelCase reason and a message that says how to fix it. */
export interface Problem {
  reason: string;
  message: string;
}

interface Verdict {
  status: boolean | 'Unknown';
  reason: string;
  message: string;
}

/** What conditions are computed from besides the status itself. */
export interface ConditionInputs {
  generation: number;
  now: Date;
  /** Why the spec cannot be served (phase Failed). */
  invalid?: Problem;
  /** Why the stable version's pods exit before serving (no pod ready). */
  stableFailure?: Problem;
}

function readyCondition(status: InferenceServiceStatus, { invalid, stableFailure }: ConditionInputs): Verdict {
  if (invalid) return { status: false, ...invalid };
  const stable = status.stable;
  if (stable?.version && !stable.readyReplicas && stableFailure) return { status: false, ...stableFailure };
  if (!stable?.version)
    return { status: false, reason: 'NoReadyVersion', message: 'waiting for a Ready ModelVersion of the model' };
  if ((stable.readyReplicas ?? 0) > 0)
    return {
      status: true,
      reason: 'StableReady',
      message: `version ${stable.version} serves with ${stable.readyReplicas} ready pod(s)`,
    };
  return { status: false, reason: 'StableNotReady', message: `no ready pod of version ${stable.version} yet` };
}

function progressingCondition(status: InferenceServiceStatus): Verdict {
  const c = status.canary;
  if (status.phase === 'Progressing' && c)
    return {
      status: true,
      reason: 'CanaryProgressing',
      message: inShadow(c)
        ? `canary version ${c.version} in its shadow phase: a copy of every request, no traffic`
        : `canary version ${c.version} at step ${(c.step ?? 0) + 1} with weight ${c.weight}%`,
    };
  if (status.phase === 'Promoting' && c)
    return { status: true, reason: 'Promoting', message: `promoting version ${c.version}` };
  return { status: false, reason: 'NoCanary', message: 'no canary in progress' };
}

function monitoringCritical(status: InferenceServiceStatus): Verdict | undefined {
  const { drift, accuracy } = status.monitoring ?? {};
  if (drift?.level !== 'Critical' && accuracy?.level !== 'Critical') return undefined;
  return {
    status: true,
    reason: 'MonitoringCritical',
    message: `monitoring: drift ${drift?.level ?? 'Unknown'}, accuracy ${accuracy?.level ?? 'Unknown'}`,
  };
}

function degradedCondition(status: InferenceServiceStatus, invalid: Problem | undefined): Verdict {
  const last = status.history?.[0];
  if (status.phase === 'Failed')
    return {
      status: true,
      reason: invalid?.reason ?? 'Failed',
      message: invalid?.message ?? 'the spec cannot be served',
    };
  if (status.phase === 'RolledBack' && last)
    return {
      status: true,
      reason: last.reason ?? 'RolledBack',
      message: `version ${last.version} rolled back: ${last.message ?? ''}`.slice(0, 1024),
    };
  if (status.phase === 'Degraded') return { status: true, reason: 'StableNotReady', message: 'no ready stable pod' };
  return monitoringCritical(status) ?? { status: false, reason: 'AsExpected', message: 'serving as expected' };
}

function driftingCondition(status: InferenceServiceStatus): Verdict {
  const drift = status.monitoring?.drift;
  if (drift?.level === 'Warn' || drift?.level === 'Critical') {
    return {
      status: true,
      reason: `Drift${drift.level}`,
      message: `input drift PSI ${drift.score?.toFixed(3)} (${drift.feature ?? '?'}) is at level ${drift.level}`,
    };
  }
  if (drift?.level === 'Ok') return { status: false, reason: 'NoDrift', message: 'input drift below warn' };
  return { status: 'Unknown', reason: 'DriftUnknown', message: 'input drift not measured yet' };
}

export function withConditions(status: InferenceServiceStatus, inputs: ConditionInputs): InferenceServiceStatus {
  const { generation, now, invalid } = inputs;
  const verdicts: Array<[string, Verdict]> = [
    [T.Ready, readyCondition(status, inputs)],
    [T.Progressing, progressingCondition(status)],
    [T.Degraded, degradedCondition(status, invalid)],
    [T.Drifting, driftingCondition(status)],
  ];
  let conds = status.conditions as Condition[] | undefined;
  for (const [type, v] of verdicts) {
    const value = v.status === 'Unknown' ? 'Unknown' : v.status ? 'True' : 'False';
    conds = setCondition(
      conds,
      { type, status: value, reason: v.reason, message: v.message, observedGeneration: generation },
      now,
    );
  }
  return { ...status, conditions: conds as InferenceServiceStatus['conditions'] };
}

export interface EventSpec {
  type: EventType;
  reason: string;
  message: string;
}

function canaryEvents(b: InferenceServiceStatus, after: InferenceServiceStatus): EventSpec[] {
  const c = after.canary;
  if (!c?.version) return [];
  if (b.canary?.version !== c.version)
    return [
      {
        type: 'Normal',
        reason: 'CanaryStarted',
        message: `Started canary of version ${c.version} (stable ${after.stable?.version})${inShadow(c) ? ' in a shadow phase' : ''}`,
      },
    ];
  if (inShadow(b.canary) && !inShadow(c))
    return [
      {
        type: 'Normal',
        reason: 'ShadowPassed',
        message: `Shadow phase of version ${c.version} passed; it now takes ${c.weight}% of traffic (step ${(c.step ?? 0) + 1})`,
      },
    ];
  if (c.weight !== b.canary?.weight)
    return [
      {
        type: 'Normal',
        reason: 'CanaryWeight',
        message: `Canary version ${c.version} now takes ${c.weight}% of traffic (step ${(c.step ?? 0) + 1})`,
      },
    ];
  return [];
}

function historyEvents(b: InferenceServiceStatus, after: InferenceServiceStatus): EventSpec[] {
  const fresh = (after.history ?? []).filter(
    (h) => !(b.history ?? []).some((o) => o.version === h.version && o.finishedAt === h.finishedAt),
  );
  return fresh.map((h): EventSpec => {
    if (h.outcome === 'Promoted')
      return {
        type: 'Normal',
        reason: 'Promoted',
        message: `Promoted version ${h.version} to stable: ${h.message ?? ''}`,
      };
    const aborted = h.outcome === 'Aborted';
    return {
      type: 'Warning',
      reason: aborted ? 'Aborted' : 'RolledBack',
      message: `${aborted ? 'Aborted' : 'Rolled back'} version ${h.version} (${h.reason}): ${h.message ?? ''}`.slice(
        0,
        1024,
      ),
    };
  });
}

function analysisEvents(b: InferenceServiceStatus, after: InferenceServiceStatus): EventSpec[] {
  const a = after.analysis;
  if (!a?.time || a.time === b.analysis?.time || a.verdict === 'Pass') return [];
  return [
    {
      type: a.verdict === 'Fail' ? 'Warning' : 'Normal',
      reason: `Analysis${a.verdict}`,
      // Only the shadow phase is analysed at weight 0.
      message: `Analysis of ${a.weight === 0 ? 'the shadow phase' : `step ${(a.step ?? 0) + 1}`}: ${a.verdict}`,
    },
  ];
}

function monitoringEvents(b: InferenceServiceStatus, after: InferenceServiceStatus): EventSpec[] {
  const out: EventSpec[] = [];
  for (const signal of ['drift', 'accuracy'] as const) {
    const was = b.monitoring?.[signal]?.level;
    const level = after.monitoring?.[signal]?.level;
    if (!level || level === was || (level !== 'Warn' && level !== 'Critical')) continue;
    out.push({
      type: 'Warning',
      reason: `${signal === 'drift' ? 'Drift' : 'Accuracy'}${level}`,
      message: `Stable version ${after.stable?.version}: ${signal} is at level ${level}`,
    });
  }
  return out;
}

const SERVING_REASONS = new Set(['StableReady', 'StableNotReady', 'NoReadyVersion']);

/** A Warning when the stable's pods start failing for a reason of their own (DigestMismatch, ...). */
function podFailureEvents(b: InferenceServiceStatus, after: InferenceServiceStatus): EventSpec[] {
  const ready = (s: InferenceServiceStatus) => s.conditions?.find((c) => c.type === T.Ready);
  const now = ready(after);
  if (!now || now.status !== 'False' || SERVING_REASONS.has(now.reason ?? '') || after.phase === 'Failed') return [];
  if (ready(b)?.reason === now.reason) return [];
  return [{ type: 'Warning', reason: now.reason ?? 'PodsFailing', message: now.message ?? '' }];
}

/** Events for what changed between two statuses, in words a user can act on. */
export function transitionEvents(
  before: InferenceServiceStatus | undefined,
  after: InferenceServiceStatus,
): EventSpec[] {
  const b = before ?? {};
  const serving: EventSpec[] =
    b.phase === 'Initializing' && after.phase === 'Serving'
      ? [{ type: 'Normal', reason: 'Serving', message: `Serving version ${after.stable?.version}` }]
      : [];
  return [
    ...podFailureEvents(b, after),
    ...canaryEvents(b, after),
    ...historyEvents(b, after),
    ...analysisEvents(b, after),
    ...monitoringEvents(b, after),
    ...serving,
  ];
}
