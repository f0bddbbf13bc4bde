// Verdict aggregation and the per-analysis rollout decision, pure.
//
// - A step's verdict: Fail if any check fails, else Inconclusive if any is inconclusive (or
//   there are no checks at all — nothing measured is never a pass), else Pass.
// - Consecutive failures: a Fail adds one, a Pass resets to 0, an Inconclusive leaves the count
//   as it is (it is evidence of neither), so "fail, no data, fail" still reaches failureLimit 2.
// - Decision: failures ≥ failureLimit → Rollback; Pass → Advance; otherwise Hold (inconclusive
//   never advances). The progress deadline is the rollout state machine's own rule (a Clock
//   event), checked before any analysis is made.
import type { AnalysisCheck, Verdict } from '../api/index.js';

const SEVERITY: Record<Verdict, number> = { Pass: 0, Inconclusive: 1, Fail: 2 };

/** The worst of some verdicts; Inconclusive for none. */
export function worstVerdict(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'Inconclusive';
  return verdicts.reduce((w, v) => (SEVERITY[v] > SEVERITY[w] ? v : w), 'Pass' as Verdict);
}

/** Verdict of one analysis from its checks. */
export function aggregateVerdict(checks: ReadonlyArray<Pick<AnalysisCheck, 'verdict'>>): Verdict {
  return worstVerdict(checks.map((c) => c.verdict));
}

/** Consecutive failed analyses after one with `verdict`. */
export function nextFailedChecks(previous: number | undefined, verdict: Verdict): number {
  if (verdict === 'Fail') return (previous ?? 0) + 1;
  if (verdict === 'Pass') return 0;
  return previous ?? 0;
}

export type StepAction = 'Advance' | 'Hold' | 'Rollback';

export interface StepDecision {
  action: StepAction;
  verdict: Verdict;
  /** New value of status.canary.failedChecks. */
  failedChecks: number;
  /** CamelCase reason for Events, conditions and history. */
  reason: 'AnalysisPassed' | 'AnalysisInconclusive' | 'AnalysisFailed' | 'FailureLimitReached';
  message: string;
}

export interface StepInput {
  /** Verdict of the analysis just made. */
  verdict: Verdict;
  /** status.canary.failedChecks before this analysis. */
  failedChecks?: number;
  failureLimit: number;
  /** Why (e.g. checkSummaries of the failed or inconclusive checks), for the decision message. */
  details?: readonly string[];
}

export function decideStep(input: StepInput): StepDecision {
  const failedChecks = nextFailedChecks(input.failedChecks, input.verdict);
  const detail = input.details?.length ? `: ${input.details.join('; ')}` : '';
  if (failedChecks >= input.failureLimit) {
    return {
      action: 'Rollback',
      verdict: input.verdict,
      failedChecks,
      reason: 'FailureLimitReached',
      message: `${failedChecks} consecutive failed analyses (failureLimit ${input.failureLimit})${detail}`,
    };
  }
  if (input.verdict === 'Pass')
    return { action: 'Advance', verdict: 'Pass', failedChecks, reason: 'AnalysisPassed', message: 'all checks passed' };
  if (input.verdict === 'Fail') {
    return {
      action: 'Hold',
      verdict: 'Fail',
      failedChecks,
      reason: 'AnalysisFailed',
      message: `analysis failed (${failedChecks} of failureLimit ${input.failureLimit})${detail}`,
    };
  }
  return {
    action: 'Hold',
    verdict: 'Inconclusive',
    failedChecks,
    reason: 'AnalysisInconclusive',
    message: `analysis inconclusive, holding the step${detail}`,
  };
}

/** "check[/head] (role): message" for each check with one of `verdicts` (default: all but Pass). */
export function checkSummaries(
  checks: readonly AnalysisCheck[],
  verdicts: readonly Verdict[] = ['Fail', 'Inconclusive'],
): string[] {
  return checks
    .filter((c) => verdicts.includes(c.verdict))
    .map((c) => `${c.check}${c.head ? `/${c.head}` : ''}${c.role ? ` (${c.role})` : ''}: ${c.message ?? c.verdict}`);
}
