// Analysis and monitoring I/O: measures the roles through the metric provider (the analysis
// layer's measure()), then hands the numbers to its pure checks. Provider failures come back
// as inconclusive checks with the reason, never as a pass.
import {
  analyse, checkSummaries, aggregateVerdict, measure, monitorStable, toStatusChecks,
  type MonitorResult, type ReferenceProfile, type RoleMeasurements, wholeCounts,
} from '../../analysis/index.js';
import { formatDuration, parseDuration, type AnalysisCheck, type InferenceService, type ModelVersion, type Verdict, type VersionRole } from '../../api/index.js';
import type { MetricProvider } from '../../metrics-providers/index.js';

export interface AnalysisOutcome {
  verdict: Verdict;
  checks: AnalysisCheck[];
  details: string[];
  canary?: RoleMeasurements;
}

// The interval statistics need whole trials: counts are rounded once, by the analysis layer.
const measured = async (...args: Parameters<typeof measure>) => wholeCounts(await measure(...args));

function target(isvc: InferenceService, role: VersionRole, version: number) {
  return { role, version: String(version), model: isvc.spec.model, namespace: isvc.metadata.namespace };
}

function policyOf(isvc: InferenceService) {
  const c = isvc.spec.canary ?? ({} as NonNullable<InferenceService['spec']['canary']>);
  const checks = c.checks ?? ({} as NonNullable<typeof c.checks>);
  return {
    minRequests: c.minRequests ?? 100,
    minFeedback: c.minFeedback ?? 50,
    checks: {
      accuracy: { ...checks.accuracy, maxDropVsStable: checks.accuracy?.maxDropVsStable ?? 0.02, confidence: checks.accuracy?.confidence ?? 0.95 },
      drift: { max: checks.drift?.max ?? 0.25 },
      latencyP95Ms: { max: checks.latencyP95Ms?.max ?? 500 },
      errorRate: { max: checks.errorRate?.max ?? 0.01 },
    },
  };
}

/** Used when no Prometheus address is configured: one inconclusive check that says so. */
function noProvider(role: VersionRole): AnalysisOutcome {
  const message = 'no Prometheus address (spec.prometheus.address or the operator flag --prometheus-url): nothing can be measured';
  return { verdict: 'Inconclusive', checks: [{ check: 'errorRate', role, verdict: 'Inconclusive', message }], details: [message] };
}

/** One canary analysis: canary against its reference profile and against stable, over `interval`. */
export async function analyseCanary(provider: MetricProvider | undefined, isvc: InferenceService, canaryMv: ModelVersion, stableVersion: number | undefined, reference: ReferenceProfile | undefined, now: Date): Promise<AnalysisOutcome> {
  if (!provider) return noProvider('canary');
  const window = windowOf(isvc.spec.canary?.interval ?? '1m');
  const [canary, stable] = await Promise.all([
    measured(provider, target(isvc, 'canary', canaryMv.spec.version), window, now),
    stableVersion !== undefined ? measured(provider, target(isvc, 'stable', stableVersion), window, now) : Promise.resolve(undefined),
  ]);
  // Production drift of the stable (e.g. the drift that triggered this retrain) makes stable's
  // predictions no yardstick for the canary's; see AnalysisInput.baselineDrifted.
  const level = isvc.status?.monitoring?.drift?.level;
  const baselineDrifted = level === 'Warn' || level === 'Critical';
  const checks = analyse({ subject: canary, baseline: stable, reference, baselineDrifted, policy: policyOf(isvc) });
  return { verdict: aggregateVerdict(checks), checks: toStatusChecks(checks), details: [...checkSummaries(checks, ['Fail']), ...checkSummaries(checks, ['Inconclusive'])].slice(0, 4), canary };
}

/** The guard-window analysis of a newly promoted stable: absolute checks only (no baseline runs). */
export async function analyseGuard(provider: MetricProvider | undefined, isvc: InferenceService, stableMv: ModelVersion, reference: ReferenceProfile | undefined, now: Date): Promise<AnalysisOutcome> {
  if (!provider) return noProvider('stable');
  const stable = await measured(provider, target(isvc, 'stable', stableMv.spec.version), windowOf(isvc.spec.monitoring?.interval ?? '5m'), now);
  const policy = policyOf(isvc);
  const checks = analyse({ subject: stable, reference, policy })
    .filter((c) => c.check !== 'predictionDrift'); // against its own reference only; not a regression signal
  return { verdict: aggregateVerdict(checks), checks: toStatusChecks(checks), details: checkSummaries(checks, ['Fail']).slice(0, 4) };
}

/** Production monitoring of the stable version over monitoring.interval. */
export async function monitorStableVersion(provider: MetricProvider, isvc: InferenceService, stableMv: ModelVersion, reference: ReferenceProfile | undefined, now: Date): Promise<MonitorResult> {
  const m = await measured(provider, target(isvc, 'stable', stableMv.spec.version), windowOf(isvc.spec.monitoring?.interval ?? '5m'), now);
  const policy = policyOf(isvc);
  return monitorStable({
    measurements: m,
    reference,
    monitoring: { drift: { warn: isvc.spec.monitoring?.drift?.warn ?? 0.1, critical: isvc.spec.monitoring?.drift?.critical ?? 0.25 }, accuracy: isvc.spec.monitoring?.accuracy },
    minRequests: policy.minRequests,
    minFeedback: policy.minFeedback,
    confidence: policy.checks.accuracy.confidence,
  });
}

/** A PromQL range for a duration such as 1m or 1500ms (whole seconds, at least 1s). */
export function windowOf(duration: string): string {
  return formatDuration(Math.max(1000, Math.ceil(parseDuration(duration) / 1000) * 1000));
}
