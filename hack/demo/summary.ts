// The summary table printed at the end of the walk-through (pure): one row per model version.

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
  /** "Promoted", "RolledBack (AnalysisFailed)", "Serving (first version)", "Rejected"... */
  outcome: string;
  trainSeconds?: number;
  /** From canary start to its outcome. */
  canarySeconds?: number;
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
