// Many simulated canaries per cell, summarised: how often each ends promoted, rolled back for a
// failed analysis or for the deadline, and how long the decision took.
import { simulateCanary, type CanaryOverrides, type Outcome, type Scenario } from './rollout.js';
import { faceAttributesWorld, seeded } from './world.js';

export interface Setting {
  name: string;
  canary: CanaryOverrides;
  /** The margin that separates "worse than the margin" from "equal or better". */
  margin: number;
}

export interface Cell {
  setting: string;
  scenario: Scenario;
  runs: number;
  promoted: number;
  /** Rolled back by failed analyses (failureLimit). */
  failed: number;
  /** Rolled back at the progress deadline. */
  deadline: number;
  /** Median and 95th percentile minutes from the canary's start to its decision. */
  medianMinutes: number;
  p95Minutes: number;
  /** Canaries with a failed input-drift check in any analysis (false alarms: the traffic never changes). */
  driftFailures: number;
}

function quantile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN;
}

/** `runs` canaries of one scenario, each in its own world (a fresh reference sample) from `seed + i`. */
export function runCell(setting: Setting, scenario: Scenario, runs: number, seed: number): Cell {
  const outcomes: Outcome[] = [];
  for (let i = 0; i < runs; i++) {
    const random = seeded(seed + i);
    outcomes.push(simulateCanary(random, faceAttributesWorld(random), { ...scenario, canary: setting.canary }));
  }
  const minutes = outcomes.map((o) => o.seconds / 60).sort((a, b) => a - b);
  return {
    setting: setting.name,
    scenario,
    runs,
    promoted: outcomes.filter((o) => o.outcome === 'Promoted').length,
    failed: outcomes.filter((o) => o.reason === 'FailureLimitReached').length,
    deadline: outcomes.filter((o) => o.reason === 'ProgressDeadlineExceeded').length,
    medianMinutes: quantile(minutes, 0.5),
    p95Minutes: quantile(minutes, 0.95),
    driftFailures: outcomes.filter((o) => o.driftAlarm !== undefined).length,
  };
}

/** Is promoting this canary an error (worse than the margin), and is rolling it back one (equal or better)? */
export function errorsOf(cell: Cell, margin: number): { falsePromotions?: number; falseRollbacks?: number } {
  const effect = cell.scenario.effect;
  if (effect < -margin) return { falsePromotions: cell.promoted / cell.runs };
  if (effect >= 0) return { falseRollbacks: (cell.runs - cell.promoted) / cell.runs };
  return {};
}
