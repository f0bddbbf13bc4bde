// Conditions and Events derived from a status transition (pure).
import { ConditionTypes, type InferenceServiceStatus } from '../../api/index.js';
import type { EventType } from '../../runtime/recorder.js';
import { setCondition, type Condition } from '../../runtime/status.js';

const T = ConditionTypes.InferenceService;

export function withConditions(status: InferenceServiceStatus, generation: number, now: Date, invalid?: { reason: string; message: string }): InferenceServiceStatus {
  let conds = status.conditions as Condition[] | undefined;
  const set = (type: string, ok: boolean | 'Unknown', reason: string, message: string) => {
    conds = setCondition(conds, { type, status: ok === 'Unknown' ? 'Unknown' : ok ? 'True' : 'False', reason, message, observedGeneration: generation }, now);
  };
  const ready = (status.stable?.readyReplicas ?? 0) > 0;
  if (invalid) set(T.Ready, false, invalid.reason, invalid.message);
  else if (!status.stable?.version) set(T.Ready, false, 'NoReadyVersion', 'waiting for a Ready ModelVersion of the model');
  else set(T.Ready, ready, ready ? 'StableReady' : 'StableNotReady', ready ? `version ${status.stable.version} serves with ${status.stable.readyReplicas} ready pod(s)` : `no ready pod of version ${status.stable.version} yet`);
  const c = status.canary;
  if (status.phase === 'Progressing' && c) set(T.Progressing, true, 'CanaryProgressing', `canary version ${c.version} at step ${(c.step ?? 0) + 1} with weight ${c.weight}%`);
  else if (status.phase === 'Promoting' && c) set(T.Progressing, true, 'Promoting', `promoting version ${c.version}`);
  else set(T.Progressing, false, 'NoCanary', 'no canary in progress');
  const last = status.history?.[0];
  const critical = status.monitoring?.drift?.level === 'Critical' || status.monitoring?.accuracy?.level === 'Critical';
  if (status.phase === 'RolledBack' && last) set(T.Degraded, true, last.reason ?? 'RolledBack', `version ${last.version} rolled back: ${last.message ?? ''}`.slice(0, 1024));
  else if (status.phase === 'Degraded') set(T.Degraded, true, 'StableNotReady', 'no ready stable pod');
  else if (critical) set(T.Degraded, true, 'MonitoringCritical', `monitoring: drift ${status.monitoring?.drift?.level ?? 'Unknown'}, accuracy ${status.monitoring?.accuracy?.level ?? 'Unknown'}`);
  else set(T.Degraded, false, 'AsExpected', 'serving as expected');
  const drift = status.monitoring?.drift;
  if (drift?.level === 'Warn' || drift?.level === 'Critical') set(T.Drifting, true, `Drift${drift.level}`, `input drift PSI ${drift.score?.toFixed(3)} (${drift.feature ?? '?'}) is at level ${drift.level}`);
  else set(T.Drifting, drift?.level === 'Ok' ? false : 'Unknown', drift?.level === 'Ok' ? 'NoDrift' : 'DriftUnknown', drift?.level === 'Ok' ? 'input drift below warn' : 'input drift not measured yet');
  return { ...status, conditions: conds as InferenceServiceStatus["conditions"] };
}

export interface EventSpec { type: EventType; reason: string; message: string }

/** Events for what changed between two statuses, in words a user can act on. */
export function transitionEvents(before: InferenceServiceStatus | undefined, after: InferenceServiceStatus): EventSpec[] {
  const out: EventSpec[] = [];
  const b = before ?? {};
  if (after.canary?.version && b.canary?.version !== after.canary.version) out.push({ type: 'Normal', reason: 'CanaryStarted', message: `Started canary of version ${after.canary.version} (stable ${after.stable?.version})` });
  if (after.canary && b.canary?.version === after.canary.version && after.canary.weight !== b.canary?.weight) out.push({ type: 'Normal', reason: 'CanaryWeight', message: `Canary version ${after.canary.version} now takes ${after.canary.weight}% of traffic (step ${(after.canary.step ?? 0) + 1})` });
  const newHistory = (after.history ?? []).filter((h) => !(b.history ?? []).some((o) => o.version === h.version && o.finishedAt === h.finishedAt));
  for (const h of newHistory) {
    if (h.outcome === 'Promoted') out.push({ type: 'Normal', reason: 'Promoted', message: `Promoted version ${h.version} to stable: ${h.message ?? ''}` });
    else out.push({ type: 'Warning', reason: h.outcome === 'Aborted' ? 'Aborted' : 'RolledBack', message: `${h.outcome === 'Aborted' ? 'Aborted' : 'Rolled back'} version ${h.version} (${h.reason}): ${h.message ?? ''}`.slice(0, 1024) });
  }
  if (after.analysis?.time && after.analysis.time !== b.analysis?.time && after.analysis.verdict !== 'Pass') {
    out.push({ type: after.analysis.verdict === 'Fail' ? 'Warning' : 'Normal', reason: `Analysis${after.analysis.verdict}`, message: `Analysis of step ${(after.analysis.step ?? 0) + 1}: ${after.analysis.verdict}` });
  }
  for (const signal of ['drift', 'accuracy'] as const) {
    const was = b.monitoring?.[signal]?.level;
    const now = after.monitoring?.[signal]?.level;
    if (now && now !== was && (now === 'Warn' || now === 'Critical')) out.push({ type: 'Warning', reason: `${signal === 'drift' ? 'Drift' : 'Accuracy'}${now}`, message: `Stable version ${after.stable?.version}: ${signal} is at level ${now}` });
  }
  if (b.phase !== after.phase && after.phase === 'Serving' && b.phase === 'Initializing') out.push({ type: 'Normal', reason: 'Serving', message: `Serving version ${after.stable?.version}` });
  return out;
}
