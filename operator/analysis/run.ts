// One analysis interval end to end, for the controller: measure the canary and the stable
// version over the same window (in parallel), run every check, aggregate. Provider failures
// surface as inconclusive checks with their reason; this never throws for them.
import type { MetricProvider } from '../metrics-providers/index.js';
import { parseDuration, type Verdict } from '../api/index.js';
import { analyse, type AnalysisPolicy } from './analyse.js';
import { looksIn, withEtas } from './evidence.js';
import type { CheckResult } from './checks/result.js';
import { measure, type MeasureTarget } from './measure.js';
import { wholeCounts, type RoleMeasurements } from './measurements.js';
import { monitorStable, type MonitorInput, type MonitorResult } from './monitoring.js';
import type { ReferenceProfile } from './reference.js';
import { aggregateVerdict } from './verdict.js';

export interface CanaryAnalysisInput {
  provider: MetricProvider;
  canary: Omit<MeasureTarget, 'role'>;
  stable?: Omit<MeasureTarget, 'role'>;
  /** spec.canary.interval: the window of latency and error rate. */
  window: string;
  /**
   * The window of feedback, features and predictions: everything since the canary began (a
   * PromQL duration); `window` when omitted.
   */
  evidenceWindow?: string;
  /** Evaluation time; now when omitted. */
  at?: Date;
  /** Reference profile of the canary's ModelVersion. */
  reference?: ReferenceProfile;
  policy: AnalysisPolicy;
  /** Heads of the model's signature. */
  heads?: readonly string[];
}

export interface CanaryAnalysis {
  canary: RoleMeasurements;
  stable?: RoleMeasurements;
  checks: CheckResult[];
  verdict: Verdict;
}

export async function analyseCanary(input: CanaryAnalysisInput): Promise<CanaryAnalysis> {
  const windows = { window: input.window, evidenceWindow: input.evidenceWindow, at: input.at ?? new Date() };
  const [canary, stable] = await Promise.all([
    measure(input.provider, { ...input.canary, role: 'canary' }, windows).then(wholeCounts),
    input.stable
      ? measure(input.provider, { ...input.stable, role: 'stable' }, windows).then(wholeCounts)
      : Promise.resolve(undefined),
  ]);
  const checks = analyse({
    subject: canary,
    baseline: stable,
    reference: input.reference,
    policy: input.policy,
    heads: input.heads,
    looks: looksIn(windows.evidenceWindow ?? windows.window, input.window),
  });
  const evidenceMs = parseDuration(windows.evidenceWindow ?? windows.window);
  return { canary, stable, checks: withEtas(checks, evidenceMs, windows.at), verdict: aggregateVerdict(checks) };
}

export interface MonitorVersionInput extends Omit<MonitorInput, 'measurements'> {
  provider: MetricProvider;
  stable: Omit<MeasureTarget, 'role'>;
  /** spec.monitoring.interval. */
  window: string;
  /** Evaluation time; now when omitted. */
  at?: Date;
}

/** Production monitoring of the stable version over `window`, with the measurements it used. */
export async function monitorVersion(
  input: MonitorVersionInput,
): Promise<MonitorResult & { measurements: RoleMeasurements }> {
  const { provider, stable, window, at = new Date(), ...rest } = input;
  const measurements = wholeCounts(await measure(provider, { ...stable, role: 'stable' }, { window, at }));
  return { ...monitorStable({ ...rest, measurements }), measurements };
}
