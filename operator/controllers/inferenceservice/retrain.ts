// Retraining decisions (pure): on critical drift (retrain.onDrift), on live accuracy below
// retrain.onAccuracyBelow, or on a cron schedule — at most one TrainingRun in flight, and none
// before `cooldown` has passed since the last one. The run is built from retrain.template and
// labelled with the InferenceService, so the controller can find what is in flight.
import { API_VERSION, Labels, parseDuration, type InferenceService, type TrainingRun } from '../../api/index.js';

export type RetrainReason = 'Drift' | 'AccuracyBelow' | 'Schedule';

export interface RetrainDecision {
  reason: RetrainReason;
  message: string;
}

export interface RetrainInput {
  isvc: InferenceService;
  /** A TrainingRun labelled with this service has not finished. */
  inFlight: boolean;
  /** Feedback samples needed before accuracy may trigger (spec.canary.minFeedback). */
  minFeedback: number;
  now: Date;
}

export class CronError extends Error {
  override name = 'CronError';
}

const ALIASES: Record<string, string> = { '@hourly': '0 * * * *', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@weekly': '0 0 * * 0', '@monthly': '0 0 1 * *', '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *' };
const RANGES: Array<[number, number]> = [[0, 59], [0, 23], [1, 31], [1, 12], [0, 6]];

function field(text: string, [lo, hi]: [number, number]): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new CronError(`invalid cron field "${text}"`);
    const from = m[1] === '*' ? lo : Number(m[2]);
    const to = m[1] === '*' ? hi : m[3] !== undefined ? Number(m[3]) : m[4] ? hi : from;
    const step = m[4] ? Number(m[4]) : 1;
    if (from < lo || to > hi || from > to || step < 1) throw new CronError(`cron field "${text}" out of range ${lo}-${hi}`);
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** A matcher for a five-field cron expression (or @daily …), in UTC. */
export function parseCron(expr: string): (d: Date) => boolean {
  const text = ALIASES[expr.trim()] ?? expr.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5) throw new CronError(`cron "${expr}" must have five fields (minute hour day-of-month month day-of-week)`);
  const [min, hour, dom, mon, dow] = parts.map((p, i) => field(p.replace(/^\?$/, '*'), i === 4 ? [0, 7] : RANGES[i]));
  if (dow.has(7)) dow.add(0);
  const domAny = parts[2] === '*';
  const dowAny = parts[4] === '*';
  return (d) => {
    if (!min.has(d.getUTCMinutes()) || !hour.has(d.getUTCHours()) || !mon.has(d.getUTCMonth() + 1)) return false;
    const domOk = dom.has(d.getUTCDate());
    const dowOk = dow.has(d.getUTCDay());
    // Vixie cron: when both day fields are restricted, either may match.
    return domAny || dowAny ? domOk && dowOk : domOk || dowOk;
  };
}

/** Whether the schedule fired in (after, now]; scans at most the last 8 days minute by minute. */
export function scheduleFiredBetween(expr: string, after: Date, now: Date): boolean {
  const matches = parseCron(expr);
  const start = Math.max(after.getTime(), now.getTime() - 8 * 86_400_000);
  for (let t = Math.floor(start / 60_000 + 1) * 60_000; t <= now.getTime(); t += 60_000) if (matches(new Date(t))) return true;
  return false;
}

export function decideRetrain(input: RetrainInput): RetrainDecision | undefined {
  const { isvc, now } = input;
  const r = isvc.spec.retrain;
  if (!r?.template || input.inFlight) return undefined;
  const last = isvc.status?.retrain?.lastTriggeredAt;
  if (last && now.getTime() - Date.parse(last) < parseDuration(r.cooldown ?? '24h')) return undefined;
  const mon = isvc.status?.monitoring;
  if (r.onDrift && mon?.drift?.level === 'Critical') {
    return { reason: 'Drift', message: `input drift is critical (PSI ${mon.drift.score?.toFixed(3)} on ${mon.drift.feature ?? 'a feature'})` };
  }
  const acc = mon?.accuracy;
  if (r.onAccuracyBelow !== undefined && acc?.value !== undefined && (acc.samples ?? 0) >= input.minFeedback && acc.value < r.onAccuracyBelow) {
    return { reason: 'AccuracyBelow', message: `live accuracy ${acc.value.toFixed(3)} over ${acc.samples} feedback samples is below ${r.onAccuracyBelow}` };
  }
  if (r.schedule) {
    const since = new Date(last ?? isvc.metadata.creationTimestamp ?? now.toISOString());
    if (scheduleFiredBetween(r.schedule, since, now)) return { reason: 'Schedule', message: `schedule "${r.schedule}" is due` };
  }
  return undefined;
}

export const retrainRunName = (isvc: InferenceService, count: number): string => `${isvc.metadata.name}-retrain-${count}`.slice(0, 253);

/** The TrainingRun of one trigger, labelled with the service (not owned: runs and versions outlive it). */
export function buildRetrainRun(isvc: InferenceService, name: string, decision: RetrainDecision): TrainingRun {
  const template = isvc.spec.retrain!.template!;
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: {
      name,
      namespace: isvc.metadata.namespace,
      labels: { [Labels.inferenceService]: isvc.metadata.name ?? '', [Labels.model]: isvc.spec.model, [Labels.managedBy]: 'modelship' },
      annotations: { 'modelship.dev/retrain-reason': decision.reason },
    },
    spec: structuredClone(template),
  } as TrainingRun;
}
