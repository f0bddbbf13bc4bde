// Retraining decisions (pure): on critical drift (retrain.onDrift), on live accuracy below
// retrain.onAccuracyBelow, or on a cron schedule — at most one TrainingRun in flight, and none
// before `cooldown` has passed since the last one. The run is built from retrain.template and
// labelled with the InferenceService, so the controller can find what is in flight.
import {
  API_VERSION,
  parseDuration,
  withInferenceServiceDefaults,
  type InferenceService,
  type InferenceServiceSpec,
  type InferenceServiceStatus,
  type TrainingRun,
} from '../../api/index.js';
import { serviceLabels } from '../../traffic/common.js';

export type RetrainReason = 'Drift' | 'AccuracyBelow' | 'Schedule';

export interface RetrainDecision {
  reason: RetrainReason;
  message: string;
}

export interface RetrainInput {
  isvc: InferenceService;
  /** A TrainingRun labelled with this service has not finished. */
  inFlight: boolean;
  now: Date;
}

export class CronError extends Error {
  override name = 'CronError';
}

const ALIASES: Record<string, string> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};
const RANGES: Array<[number, number]> = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 6],
];

function field(text: string, [lo, hi]: [number, number]): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new CronError(`invalid cron field "${text}"`);
    const from = m[1] === '*' ? lo : Number(m[2]);
    const to = m[1] === '*' ? hi : m[3] !== undefined ? Number(m[3]) : m[4] ? hi : from;
    const step = m[4] ? Number(m[4]) : 1;
    if (from < lo || to > hi || from > to || step < 1)
      throw new CronError(`cron field "${text}" out of range ${lo}-${hi}`);
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** A matcher for a five-field cron expression (or @daily …), in UTC. */
export function parseCron(expr: string): (d: Date) => boolean {
  const text = ALIASES[expr.trim()] ?? expr.trim();
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    throw new CronError(`cron "${expr}" must have five fields (minute hour day-of-month month day-of-week)`);
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
  for (let t = Math.floor(start / 60_000 + 1) * 60_000; t <= now.getTime(); t += 60_000)
    if (matches(new Date(t))) return true;
  return false;
}

type Trigger = (
  spec: InferenceServiceSpec,
  status: InferenceServiceStatus,
  input: RetrainInput,
) => RetrainDecision | undefined;

const onDrift: Trigger = (spec, status) => {
  const drift = status.monitoring?.drift;
  if (!spec.retrain?.onDrift || drift?.level !== 'Critical') return undefined;
  return {
    reason: 'Drift',
    message: `input drift is critical (PSI ${drift.score?.toFixed(3)} on ${drift.feature ?? 'a feature'})`,
  };
};

const onAccuracy: Trigger = (spec, status) => {
  const below = spec.retrain?.onAccuracyBelow;
  const acc = status.monitoring?.accuracy;
  // The upper bound, not the point estimate: a noisy window must not start a training run.
  if (
    below === undefined ||
    acc?.value === undefined ||
    acc.upper === undefined ||
    (acc.samples ?? 0) < spec.canary.minFeedback ||
    acc.upper >= below
  )
    return undefined;
  return {
    reason: 'AccuracyBelow',
    message: `live accuracy ${acc.value.toFixed(3)} over ${acc.samples} feedback samples is confidently below ${below} (upper bound ${acc.upper.toFixed(3)})`,
  };
};

const onSchedule: Trigger = (spec, status, { isvc, now }) => {
  const schedule = spec.retrain?.schedule;
  if (!schedule) return undefined;
  const since = new Date(status.retrain?.lastTriggeredAt ?? isvc.metadata.creationTimestamp ?? now.toISOString());
  return scheduleFiredBetween(schedule, since, now)
    ? { reason: 'Schedule', message: `schedule "${schedule}" is due` }
    : undefined;
};

const TRIGGERS: readonly Trigger[] = [onDrift, onAccuracy, onSchedule];

export function decideRetrain(input: RetrainInput): RetrainDecision | undefined {
  const { isvc, now } = input;
  const spec = withInferenceServiceDefaults(isvc.spec);
  const status = isvc.status ?? {};
  if (!spec.retrain?.template || input.inFlight) return undefined;
  const last = status.retrain?.lastTriggeredAt;
  if (last && now.getTime() - Date.parse(last) < parseDuration(spec.retrain.cooldown)) return undefined;
  for (const trigger of TRIGGERS) {
    const decision = trigger(spec, status, input);
    if (decision) return decision;
  }
  return undefined;
}

export const retrainRunName = (isvc: InferenceService, count: number): string =>
  `${isvc.metadata.name}-retrain-${count}`.slice(0, 253);

/** The TrainingRun of one trigger, labelled with the service (not owned: runs and versions outlive it). */
export function buildRetrainRun(isvc: InferenceService, name: string, decision: RetrainDecision): TrainingRun {
  const template = isvc.spec.retrain!.template!;
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: {
      name,
      namespace: isvc.metadata.namespace,
      labels: serviceLabels(isvc),
      annotations: { 'modelship.dev/retrain-reason': decision.reason },
    },
    spec: structuredClone(template),
  } as TrainingRun;
}
