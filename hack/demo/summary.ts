// The summary table printed at the end of the walk-through (pure): one row per model version.
import { CHECK_NAMES } from '../../operator/analysis/checks/result.js';

export interface VersionRow {
  version: number;
  trainingRun: string;
  /** Why the run exists: "kubectl apply", "retrain: Drift"... */
  trigger: string;
  /** Accuracy from training (ModelVersion spec.metrics.accuracy). */
  offlineAccuracy?: number;
  /** Accuracy through the serving path at validation (status.servingAccuracy). */
  validationAccuracy?: number;
  /** Accuracy the load generator observed on live traffic, and on how many head judgements. */
  liveAccuracy?: number;
  liveJudged?: number;
  /** Canary input drift (PSI vs its reference profile), else prediction drift vs stable, when analysed. */
  drift?: number;
  /** "Promoted: every check passed", "RolledBack: accuracyVsStable (5 heads) failed", "Serving (first version)"... */
  outcome: string;
  trainSeconds?: number;
  /** From canary start to its outcome. */
  canarySeconds?: number;
}

/** The parts of a status.history entry that say how a canary ended and why. */
export interface CanaryEnd {
  outcome: string;
  reason?: string;
  message?: string;
  steps?: Array<{ checks?: Array<{ check: string; verdict: string; head?: string }> }>;
}

/**
 * The outcome with its real reason: the checks that failed (and on how many heads) for a
 * rollback on failed analyses, the checks still inconclusive at a deadline, "every check passed"
 * for a promotion.
 */
export function outcomeOf(entry: CanaryEnd): string {
  const last = entry.steps?.at(-1)?.checks ?? [];
  const named = (verdict: string) => {
    const heads = new Map<string, number>();
    for (const c of last) if (c.verdict === verdict) heads.set(c.check, (heads.get(c.check) ?? 0) + 1);
    return [...heads].map(([check, n]) => (n > 1 ? `${check} (${n} heads)` : check)).join(', ');
  };
  if (entry.outcome === 'Promoted') return 'Promoted: every check passed';
  if (entry.reason === 'FailureLimitReached' && named('Fail')) return `RolledBack: ${named('Fail')} failed`;
  if (entry.reason === 'ShadowFailed') {
    // The shadow's checks are not steps; its failing ones are named in the message.
    const failed = CHECK_NAMES.filter((c) => new RegExp(`\\b${c}[/ ]`).test(entry.message ?? ''));
    return `RolledBack in its shadow phase, no user saw it${failed.length ? `: ${failed.join(', ')} failed` : ''}`;
  }
  if (entry.reason === 'ProgressDeadlineExceeded')
    return `RolledBack: progress deadline${named('Inconclusive') ? `, still inconclusive: ${named('Inconclusive')}` : ''}`;
  return entry.reason ? `${entry.outcome} (${entry.reason})` : entry.outcome;
}

const num = (v: number | undefined, digits = 3): string =>
  v === undefined || Number.isNaN(v) ? '-' : v.toFixed(digits);
const secs = (v: number | undefined): string => (v === undefined ? '-' : `${Math.round(v)}s`);

export const SUMMARY_HEADERS = [
  'VERSION',
  'TRAINED BY',
  'TRIGGER',
  'OFFLINE ACC',
  'VALIDATION ACC',
  'LIVE ACC (n)',
  'CANARY DRIFT',
  'OUTCOME',
  'TRAIN',
  'CANARY',
];

export function summaryCells(r: VersionRow): string[] {
  return [
    `v${r.version}`,
    r.trainingRun,
    r.trigger,
    num(r.offlineAccuracy),
    num(r.validationAccuracy),
    r.liveAccuracy === undefined ? '-' : `${num(r.liveAccuracy)} (${r.liveJudged ?? 0})`,
    num(r.drift),
    r.outcome,
    secs(r.trainSeconds),
    secs(r.canarySeconds),
  ];
}

/** An aligned text table, like kubectl's (columns separated by at least three spaces). */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function renderSummary(rows: VersionRow[]): string {
  return renderTable(SUMMARY_HEADERS, [...rows].sort((a, b) => a.version - b.version).map(summaryCells));
}
