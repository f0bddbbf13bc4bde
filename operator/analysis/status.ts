// Check results → status.analysis / history entries that the CRD schema accepts: integer
// samples, finite numbers only (JSON has no NaN/Infinity), messages ≤ 1024 characters,
// breakdowns ≤ 64 entries, ≤ 32 checks (failed and inconclusive ones kept first).
import type { AnalysisCheck, InferenceServiceStatusAnalysis } from '../api/index.js';
import { aggregateVerdict } from './verdict.js';

export const MAX_CHECKS = 32;
export const MAX_BREAKDOWN = 64;
export const MAX_MESSAGE = 1024;

/** Rounds to 6 significant digits so that status does not churn on float noise between reconciles. */
export function roundValue(v: number): number {
  return Number(v.toPrecision(6));
}

/**
 * Live figures in status.monitoring carry 4 decimals: what `kubectl get msvc` shows in its
 * Accuracy and Drift columns (0.7044, not 0.7044025157232704), far finer than their sampling error.
 */
export function fourDecimals<T extends number | undefined>(v: T): T {
  return (v === undefined || !Number.isFinite(v) ? v : Math.round(v * 1e4) / 1e4) as T;
}

function finite(v: number | undefined): number | undefined {
  return v !== undefined && Number.isFinite(v) ? roundValue(v) : undefined;
}

/** One check as the schema wants it. */
export function toStatusCheck(c: AnalysisCheck): AnalysisCheck {
  const out: AnalysisCheck = { check: c.check, verdict: c.verdict };
  if (c.role) out.role = c.role;
  if (c.head) out.head = c.head;
  for (const key of ['value', 'lower', 'upper', 'threshold'] as const) {
    const v = finite(c[key]);
    if (v !== undefined) out[key] = v;
  }
  if (c.samples !== undefined && Number.isFinite(c.samples)) out.samples = Math.max(0, Math.round(c.samples));
  if (c.samplesNeeded !== undefined && Number.isFinite(c.samplesNeeded))
    out.samplesNeeded = Math.max(0, Math.ceil(c.samplesNeeded));
  if (c.eta) out.eta = c.eta;
  if (c.message) out.message = c.message.length > MAX_MESSAGE ? `${c.message.slice(0, MAX_MESSAGE - 1)}…` : c.message;
  if (c.breakdown) {
    const entries = Object.entries(c.breakdown)
      .filter(([, v]) => Number.isFinite(v))
      .sort((a, b) => b[1] - a[1])
      .slice(0, MAX_BREAKDOWN)
      .map(([k, v]) => [k, roundValue(v)] as const);
    if (entries.length) out.breakdown = Object.fromEntries(entries.sort((a, b) => (a[0] < b[0] ? -1 : 1)));
  }
  return out;
}

/** At most MAX_CHECKS schema-valid checks, keeping failed then inconclusive ones first if some must go. */
export function toStatusChecks(checks: readonly AnalysisCheck[]): AnalysisCheck[] {
  const all = checks.map(toStatusCheck);
  if (all.length <= MAX_CHECKS) return all;
  const rank = { Fail: 0, Inconclusive: 1, Pass: 2 } as const;
  const keep = new Set(
    all
      .map((c, i) => ({ c, i }))
      .sort((a, b) => rank[a.c.verdict] - rank[b.c.verdict] || a.i - b.i)
      .slice(0, MAX_CHECKS)
      .map((x) => x.i),
  );
  return all.filter((_, i) => keep.has(i));
}

export interface AnalysisRecordInput {
  checks: readonly AnalysisCheck[];
  /** When the analysis ran. */
  time: Date;
  step?: number;
  weight?: number;
  /** Start of the accumulated evidence (the canary's start). */
  since?: Date;
}

/** status.analysis for one analysis; the verdict aggregates every check (before truncation). */
export function toAnalysisStatus(input: AnalysisRecordInput): InferenceServiceStatusAnalysis {
  const out: InferenceServiceStatusAnalysis = {
    time: input.time.toISOString(),
    verdict: aggregateVerdict(input.checks),
    checks: toStatusChecks(input.checks),
  };
  if (input.step !== undefined) out.step = input.step;
  if (input.weight !== undefined) out.weight = input.weight;
  if (input.since !== undefined) out.since = input.since.toISOString();
  return out;
}
