// Step 2 of a reconcile, the only I/O that yields rollout events: the canary analysis when its
// interval is due, production monitoring of the stable version when due (with the guard-window
// analysis after a promotion). Provider failures come back as inconclusive checks with their
// reason, never as a pass; a missing Prometheus address is one inconclusive check that says so.
import {
  analyse,
  aggregateVerdict,
  analyseCanary,
  analyseShadow,
  checkSummaries,
  DEFAULT_ESTIMATE_POLICY,
  estimatedAccuracyChecks,
  measureEstimates,
  monitorVersion,
  toStatusChecks,
  type AnalysisPolicy,
  type ReferenceProfile,
} from '../../analysis/index.js';
import {
  formatDuration,
  parseDuration,
  type InferenceService,
  type InferenceServiceStatus,
  type VersionRole,
} from '../../api/index.js';
import { keyOf, versionOf, type RolloutContext } from './context.js';
import { roleUrls } from './observe.js';
import { inShadow, nextAnalysisAt, type RolloutEvent } from './phases.js';
import { monitoringIntervalMs } from './policy.js';

const NO_PROVIDER =
  'no Prometheus address (spec.prometheus.address or the operator flag --prometheus-url): nothing can be measured';

/** A PromQL range for a duration such as 1m or 1500ms (whole seconds, at least 1s). */
export function windowOf(duration: string): string {
  return formatDuration(Math.max(1000, Math.ceil(parseDuration(duration) / 1000) * 1000));
}

const target = (isvc: InferenceService, version: number) => ({
  version: String(version),
  model: isvc.spec.model,
  namespace: isvc.metadata.namespace,
});
const policyOf = (isvc: InferenceService): AnalysisPolicy => isvc.spec.canary;

export async function measure(ctx: RolloutContext, status: InferenceServiceStatus): Promise<RolloutEvent[]> {
  const analysis = await analysisIfDue(ctx, status);
  const monitored = await monitoringIfDue(ctx, status);
  return [...analysis, ...monitored];
}

async function referenceOf(
  ctx: RolloutContext,
  role: VersionRole,
  version: number | undefined,
): Promise<ReferenceProfile | undefined> {
  const mv = versionOf(ctx, version);
  return mv ? ctx.deps.reference(mv, roleUrls(ctx)[role]) : undefined;
}

/** One canary analysis over `interval`: canary against its reference profile and against stable. */
async function analysisIfDue(ctx: RolloutContext, status: InferenceServiceStatus): Promise<RolloutEvent[]> {
  const due = nextAnalysisAt(status, ctx.policy);
  const canary = status.canary?.version;
  if (!due || ctx.now < due || !versionOf(ctx, canary)) return [];
  const provider = ctx.deps.metricProvider(ctx.isvc);
  if (!provider)
    return [
      {
        type: 'Analysis',
        verdict: 'Inconclusive',
        checks: [{ check: 'errorRate', role: 'canary', verdict: 'Inconclusive', message: NO_PROVIDER }],
        details: [NO_PROVIDER],
      },
    ];
  const stable = status.stable?.version;
  const window = windowOf(ctx.isvc.spec.canary.interval);
  const since = evidenceStart(status, ctx.now);
  const input = {
    provider,
    canary: target(ctx.isvc, canary!),
    stable: stable === undefined ? undefined : target(ctx.isvc, stable),
    window,
    evidenceWindow: evidenceWindowOf(since, ctx.now, window),
    at: ctx.now,
    reference: await referenceOf(ctx, 'canary', canary),
    policy: policyOf(ctx.isvc),
  };
  const shadow = ctx.isvc.spec.canary.shadow;
  // A shadow is judged on the router's join of its answers to stable's (analysis/shadow.ts).
  const result =
    inShadow(status.canary) && shadow && input.stable
      ? await analyseShadow({ ...input, stable: input.stable, shadow })
      : await analyseCanary(input);
  const accuracy = input.policy.checks.accuracy;
  const estimatedAccuracy = await measureEstimates(
    {
      provider,
      target: input.canary,
      evidenceWindow: input.evidenceWindow,
      at: ctx.now,
      reference: input.reference,
      inputDrift: result.checks.find((c) => c.check === 'drift' && c.role === 'canary')?.value,
    },
    { ...DEFAULT_ESTIMATE_POLICY, confidence: accuracy.confidence, minSamples: input.policy.minRequests },
  );
  // The early failure on the estimate adds only failures (checks/estimated.ts).
  const checks = [...result.checks, ...estimatedAccuracyChecks(estimatedAccuracy, accuracy)];
  ctx.deps.metrics.analysis.recordAnalysis(keyOf(ctx), checks);
  const details = [...checkSummaries(checks, ['Fail']), ...checkSummaries(checks, ['Inconclusive'])].slice(0, 4);
  return [
    {
      type: 'Analysis',
      verdict: checks.length > result.checks.length ? 'Fail' : result.verdict,
      checks: toStatusChecks(checks),
      details,
      since: since.toISOString(),
      ...('heads' in result ? { shadow: result.heads } : {}),
      ...(estimatedAccuracy.length ? { estimatedAccuracy } : {}),
    },
  ];
}

/** Where the canary's evidence starts: its start (an unreadable one counts from now). */
function evidenceStart(status: InferenceServiceStatus, now: Date): Date {
  const started = Date.parse(status.canary?.startedAt ?? '');
  return Number.isFinite(started) && started <= now.getTime() ? new Date(started) : now;
}

/** The PromQL range from `since` to `now`, never shorter than the analysis window. */
export function evidenceWindowOf(since: Date, now: Date, window: string): string {
  const ms = Math.max(parseDuration(window), now.getTime() - since.getTime());
  return windowOf(`${Math.ceil(ms / 1000)}s`);
}

const SERVING_PHASES = new Set(['Serving', 'RolledBack', 'Degraded']);

function monitoringDue(ctx: RolloutContext, status: InferenceServiceStatus): boolean {
  if (
    !SERVING_PHASES.has(status.phase ?? '') ||
    !versionOf(ctx, status.stable?.version) ||
    !ctx.isvc.spec.monitoring.enabled
  )
    return false;
  const last = status.monitoring?.lastCheckedAt ? Date.parse(status.monitoring.lastCheckedAt) : 0;
  return ctx.now.getTime() - last >= monitoringIntervalMs(ctx.isvc);
}

/** Monitoring of the stable version when due, and the guard-window check after a promotion. */
async function monitoringIfDue(ctx: RolloutContext, status: InferenceServiceStatus): Promise<RolloutEvent[]> {
  const { isvc, now } = ctx;
  const provider = ctx.deps.metricProvider(isvc);
  const stable = status.stable?.version;
  if (!provider || !monitoringDue(ctx, status)) return [];
  const reference = await referenceOf(ctx, 'stable', stable);
  const { drift, accuracy } = isvc.spec.monitoring;
  const canary = policyOf(isvc);
  const result = await monitorVersion({
    provider,
    stable: target(isvc, stable!),
    window: windowOf(isvc.spec.monitoring.interval),
    at: now,
    reference,
    monitoring: { drift, accuracy },
    minRequests: canary.minRequests,
    minFeedback: canary.minFeedback,
    confidence: canary.checks.accuracy.confidence,
  });
  const estimatedAccuracy = await measureEstimates(
    {
      provider,
      target: target(isvc, stable!),
      evidenceWindow: windowOf(isvc.spec.monitoring.interval),
      at: now,
      reference,
      inputDrift: result.status.drift?.score,
    },
    { ...DEFAULT_ESTIMATE_POLICY, confidence: canary.checks.accuracy.confidence, minSamples: canary.minRequests },
  );
  if (estimatedAccuracy.length) result.status = { ...result.status, estimatedAccuracy };
  ctx.deps.metrics.analysis.recordDrift(keyOf(ctx), 'stable', result.drift);
  ctx.deps.metrics.analysis.recordLevels(keyOf(ctx), {
    drift: result.status.drift?.level,
    accuracy: result.status.accuracy?.level,
  });
  const guard = status.monitoring?.guard;
  const guardOpen = guard?.until !== undefined && now < new Date(guard.until) && status.phase === 'Serving';
  if (!guardOpen) return [{ type: 'Monitored', monitoring: result.status }];
  // The guard judges the new stable on absolute checks only: no baseline runs any more, and
  // prediction drift against its own reference is not a regression signal.
  const checks = analyse({ subject: result.measurements, reference, policy: canary }).filter(
    (c) => c.check !== 'predictionDrift',
  );
  return [
    {
      type: 'Monitored',
      monitoring: result.status,
      guard: { verdict: aggregateVerdict(checks), details: checkSummaries(checks, ['Fail']).slice(0, 4) },
    },
  ];
}
