// The InferenceService controller. Each reconcile: read the service and what it depends on
// from the cache, turn observations into rollout events, run them through the pure state
// machine (phases.ts), write the status — the single source of truth, written before any
// child changes so that a restart resumes exactly there — and then make the children
// (Deployments, Services, router or HTTPRoute) match the written status. Analyses and
// monitoring run when their interval is due; the reconcile returns when to look again.
import { Annotations, Labels, type InferenceService, type InferenceServiceStatus, type ModelVersion, type TrainingRun, type WorkloadDefaults } from '../../api/index.js';
import { createMetricProvider, type MetricProvider } from '../../metrics-providers/index.js';
import type { Controller, ReconcileContext, ReconcileResult } from '../../runtime/controller.js';
import { AppliedMemo } from '../../runtime/applied-memo.js';
import { ignoreNotFound, isAlreadyExists } from '../../runtime/errors.js';
import { Kinds, kindId, type KindRef, type KubeObject, type ObjectKey } from '../../runtime/kinds.js';
import { pruneUndefined, semanticEqual } from '../../runtime/status.js';
import { createTrafficProvider, UnknownTrafficProviderError, userServiceUrl, type TrafficProvider } from '../../traffic/index.js';
import { StorageUriError } from '../trainingrun/storage.js';
import { buildAutoscaler, buildFeedbackSecret, buildRoleService, buildServingDeployment, feedbackSecretName, ROLE_SERVICE_PORT, roleName } from './builders.js';
import { transitionEvents, withConditions } from './conditions.js';
import { analyseCanary, analyseGuard, monitorStableVersion } from './measure-run.js';
import { RolloutMetrics } from './metrics.js';
import { blockedVersions, checkDeadline, nextAnalysisAt, transition, type RolloutEvent, type RolloutPolicy } from './phases.js';
import { monitoringIntervalMs, rolloutPolicy, selectTarget } from './policy.js';
import { referenceResolver, type ReferenceResolver } from './reference.js';
import { buildRetrainRun, decideRetrain, retrainRunName } from './retrain.js';
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';

export const HPA: KindRef = { group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler' };
/** How often to look while something converges (pods starting, a promotion rolling). */
const CONVERGE_MS = 1_000;

export interface InferenceServiceControllerOptions {
  servingImage: string;
  /** prometheus.io annotations on serving and router pods (--scrape-annotations, default true). */
  scrapeAnnotations?: boolean;
  /** Default Prometheus base URL (--prometheus-url); spec.prometheus.address wins. */
  prometheusUrl?: string;
  /** Registry for the rollout/analysis metrics (the operator's /metrics registry). */
  registry?: Registry;
  concurrency?: number;
  now?: () => Date;
  /** Operator-wide pod placement (--workload-defaults), under each service's own fields. */
  workloadDefaults?: WorkloadDefaults;
}

interface PodLike extends KubeObject {
  status?: { phase?: string; conditions?: Array<{ type: string; status: string }> };
}

const isReady = (p: PodLike): boolean => !p.metadata?.deletionTimestamp && p.status?.phase === 'Running' && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

function readyPods(ctx: ReconcileContext, isvc: InferenceService, role: 'stable' | 'canary', version: number | undefined): { ready: number; others: number } {
  if (version === undefined) return { ready: 0, others: 0 };
  const pods = ctx.cache.list<PodLike>(Kinds.Pod, isvc.metadata.namespace, { [Labels.inferenceService]: isvc.metadata.name ?? '', [Labels.role]: role })
    .filter((p) => !p.metadata?.deletionTimestamp);
  const mine = pods.filter((p) => p.metadata?.labels?.[Labels.version] === String(version));
  return { ready: mine.filter(isReady).length, others: pods.length - mine.length };
}

const desiredReplicas = (isvc: InferenceService): number => (isvc.spec.autoscaling ? isvc.spec.autoscaling.minReplicas ?? 1 : isvc.spec.replicas ?? 1);

/** Keys of the services serving `mv`'s model in its namespace. */
function servicesOfModel(cache: ReconcileContext['cache'], obj: KubeObject): ObjectKey[] {
  const model = (obj as ModelVersion).spec?.model;
  const ns = obj.metadata?.namespace ?? '';
  return cache.list<InferenceService>(Kinds.InferenceService, ns).filter((s) => s.spec.model === model).map((s) => ({ namespace: ns, name: s.metadata.name ?? '' }));
}

const byLabel = (obj: KubeObject): ObjectKey[] => {
  const name = obj.metadata?.labels?.[Labels.inferenceService];
  return name ? [{ namespace: obj.metadata?.namespace ?? '', name }] : [];
};

export function inferenceServiceController(opts: InferenceServiceControllerOptions): Controller {
  const metrics = new RolloutMetrics(opts.registry);
  const now = opts.now ?? (() => new Date());
  const providers = new Map<string, MetricProvider>();
  const reference = referenceResolver();
  const applied = new AppliedMemo();
  let cacheRef: ReconcileContext['cache'] | undefined;
  const metricProvider = (isvc: InferenceService): MetricProvider | undefined => {
    const address = isvc.spec.prometheus?.address ?? opts.prometheusUrl;
    if (!address) return undefined;
    let p = providers.get(address);
    if (!p) providers.set(address, (p = createMetricProvider({ type: 'prometheus', address, timeoutMs: 5_000 })));
    return p;
  };
  return {
    name: 'inferenceservice',
    forKind: Kinds.InferenceService,
    owns: [Kinds.Deployment, Kinds.Service],
    watches: [
      { kind: Kinds.Pod, mapToKeys: byLabel },
      { kind: Kinds.TrainingRun, mapToKeys: byLabel },
      { kind: Kinds.ModelVersion, mapToKeys: (obj) => (cacheRef ? servicesOfModel(cacheRef, obj) : []) },
    ],
    concurrency: opts.concurrency ?? 4,
    async reconcile(key, ctx) {
      cacheRef = ctx.cache;
      const isvc = ctx.cache.get<InferenceService>(Kinds.InferenceService, key.namespace, key.name);
      if (!isvc || isvc.metadata.deletionTimestamp) {
        metrics.forget(key.namespace, key.name);
        applied.forget(`${key.namespace}/${key.name}/`);
        return undefined;
      }
      return reconcileInferenceService(isvc, ctx, { ...opts, metrics, metricProvider, reference, applied }, now());
    },
  };
}

interface Deps extends InferenceServiceControllerOptions {
  metrics: RolloutMetrics;
  metricProvider(isvc: InferenceService): MetricProvider | undefined;
  reference: ReferenceResolver;
  /** Children of kinds without an informer (router RBAC, HPA, feedback Secret), as last applied. */
  applied: AppliedMemo;
}

/** Memo keys of one InferenceService's children; the uid keeps a re-created service from inheriting them. */
const memoPrefix = (isvc: { metadata: { namespace?: string; name?: string; uid?: string } }): string =>
  `${isvc.metadata.namespace ?? ''}/${isvc.metadata.name ?? ''}/${isvc.metadata.uid ?? ''}|`;

async function ensureFeedbackSecret(isvc: InferenceService, ctx: ReconcileContext, applied: AppliedMemo): Promise<void> {
  const ns = isvc.metadata.namespace ?? '';
  const name = feedbackSecretName(isvc);
  // Secrets are not watched (no cluster-wide read of Secrets): remember that it exists instead.
  const key = `${memoPrefix(isvc)}secret|${name}`;
  if (applied.isCurrent(key, name, Date.now())) return;
  if (!(await ignoreNotFound(ctx.client.get(Kinds.Secret, ns, name)))) {
    try {
      // Created once with a random key; never re-applied, so replicas keep verifying each other's tokens.
      await ctx.client.create(buildFeedbackSecret(isvc, randomBytes(32).toString('base64url')));
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
  applied.remember(key, name, Date.now());
}

/** Role Services first: their cluster IPs go into status for the router. */
async function applyRoleServices(isvc: InferenceService, ctx: ReconcileContext): Promise<Record<'stable' | 'canary', string | undefined>> {
  const out: Record<'stable' | 'canary', string | undefined> = { stable: undefined, canary: undefined };
  for (const role of ['stable', 'canary'] as const) {
    const desired = buildRoleService(isvc, role);
    let svc = ctx.cache.get<KubeObject & { spec?: { clusterIP?: string; selector?: unknown } }>(Kinds.Service, isvc.metadata.namespace ?? '', roleName(isvc, role));
    if (!svc || !semanticEqual(svc.spec?.selector, (desired.spec as { selector: unknown }).selector)) svc = await ctx.client.apply(desired);
    const ip = svc.spec?.clusterIP;
    out[role] = ip && ip !== 'None' ? `http://${ip}:${ROLE_SERVICE_PORT}` : undefined;
  }
  return out;
}

function manualEvents(isvc: InferenceService): RolloutEvent[] {
  const out: RolloutEvent[] = [];
  for (const action of ['abort', 'rollback', 'promote'] as const) {
    const value = isvc.metadata.annotations?.[Annotations[action]];
    if (value && value !== isvc.status?.manual?.[action]) out.push({ type: 'Manual', action, value });
  }
  return out;
}

export async function reconcileInferenceService(isvc: InferenceService, ctx: ReconcileContext, deps: Deps, now: Date): Promise<ReconcileResult | undefined> {
  const ns = isvc.metadata.namespace ?? '';
  const name = isvc.metadata.name ?? '';
  const policy = rolloutPolicy(isvc);
  const before = isvc.status;
  let status: InferenceServiceStatus = structuredClone(before ?? {});
  let invalid: { reason: string; message: string } | undefined;
  let traffic: TrafficProvider | undefined;
  try {
    traffic = createTrafficProvider(isvc.spec.traffic?.provider, { servingImage: deps.servingImage, workloadDefaults: deps.workloadDefaults, scrapeAnnotations: deps.scrapeAnnotations });
  } catch (e) {
    if (!(e instanceof UnknownTrafficProviderError)) throw e;
    invalid = { reason: 'UnknownTrafficProvider', message: e.message };
  }
  await ensureFeedbackSecret(isvc, ctx, deps.applied);
  const urls = await applyRoleServices(isvc, ctx);
  const versions = ctx.cache.list<ModelVersion>(Kinds.ModelVersion, ns);
  const mvOf = (version: number | undefined) => (version === undefined ? undefined : versions.find((mv) => mv.spec.model === isvc.spec.model && mv.spec.version === version));
  const apply = (e: RolloutEvent) => { status = transition(status, e, policy, now); };

  for (const e of manualEvents(isvc)) apply(e);
  const target = selectTarget(isvc, versions, blockedVersions(status, policy.generation));
  if (target) apply({ type: 'Target', target });
  if (status.phase === 'Promoting') {
    const promoted = readyPods(ctx, isvc, 'stable', status.canary?.version);
    if (promoted.ready >= desiredReplicas(isvc) && promoted.others === 0) apply({ type: 'PromotionComplete' });
  }
  apply({ type: 'StableReady', readyReplicas: readyPods(ctx, isvc, 'stable', status.stable?.version).ready });
  if (status.canary) apply({ type: 'CanaryReady', readyReplicas: readyPods(ctx, isvc, 'canary', status.canary.version).ready });

  const due = nextAnalysisAt(status, policy);
  const canaryMv = mvOf(status.canary?.version);
  if (due && now >= due && canaryMv) {
    const outcome = await analyseCanary(deps.metricProvider(isvc), isvc, canaryMv, status.stable?.version, await deps.reference(canaryMv, urls.canary), now);
    apply({ type: 'Analysis', verdict: outcome.verdict, checks: outcome.checks, details: outcome.details });
    deps.metrics.analysis.recordAnalysis({ namespace: ns, name }, outcome.checks);
  }
  status = checkDeadline(status, policy, now);
  status = await monitor(isvc, status, deps, now, policy, mvOf(status.stable?.version), urls.stable);
  if (invalid) apply({ type: 'Invalid', ...invalid });

  status.observedGeneration = isvc.metadata.generation;
  status.url = userServiceUrl(isvc);
  if (status.stable) status.stable = { ...status.stable, service: roleName(isvc, 'stable'), url: urls.stable };
  if (status.canary) status.canary = { ...status.canary, service: roleName(isvc, 'canary'), url: urls.canary };
  const inFlight = retrainInFlight(isvc, ctx);
  const retrain = decideRetrain({ isvc: { ...isvc, status }, inFlight, minFeedback: isvc.spec.canary?.minFeedback ?? 50, now });
  if (retrain) {
    const count = (status.retrain?.count ?? 0) + 1;
    status.retrain = { lastTriggeredAt: now.toISOString(), lastReason: retrain.reason, trainingRun: retrainRunName(isvc, count), count };
  }
  status = pruneUndefined(withConditions(status, isvc.metadata.generation ?? 0, now, invalid));

  // Status first: a crash after this line resumes from what was decided, never decides twice.
  let written = isvc;
  if (!semanticEqual(before, status)) {
    written = await ctx.client.updateStatus({ ...isvc, status }, { retries: 0 });
    for (const e of transitionEvents(before, status)) void ctx.recorder.event(written, e.type, e.reason, e.message);
    countOutcomes(deps.metrics, ns, name, before, status);
  }
  if (retrain && status.retrain?.trainingRun) await createRetrainRun(written, status.retrain.trainingRun, retrain, ctx, deps);
  else if (status.retrain?.trainingRun && !inFlight) await ensureRecordedRunExists(written, status.retrain.trainingRun, ctx);

  if (!invalid && traffic) {
    try {
      await applyChildren(written, status, ctx, deps, traffic, mvOf);
    } catch (e) {
      if (!(e instanceof StorageUriError)) throw e;
      await ctx.client.updateStatus({ ...written, status: withConditions({ ...status, phase: 'Failed' }, isvc.metadata.generation ?? 0, now, { reason: 'ArtifactNotMountable', message: e.message }) }, { retries: 0 });
      return undefined;
    }
  }
  await updateServedBy(written, status, versions, ctx, now);
  deps.metrics.setRollout(ns, name, status.phase, status.canary?.weight ?? 0);
  return { requeueAfterMs: requeueAfter(isvc, status, policy, now) };
}

/** Monitoring of the stable version when due, and the guard-window check after a promotion. */
async function monitor(isvc: InferenceService, status: InferenceServiceStatus, deps: Deps, now: Date, policy: RolloutPolicy, stableMv: ModelVersion | undefined, stableUrl: string | undefined): Promise<InferenceServiceStatus> {
  const serving = status.phase === 'Serving' || status.phase === 'RolledBack' || status.phase === 'Degraded';
  const provider = deps.metricProvider(isvc);
  if (!serving || !stableMv || !provider || isvc.spec.monitoring?.enabled === false) return status;
  const last = status.monitoring?.lastCheckedAt ? Date.parse(status.monitoring.lastCheckedAt) : 0;
  if (now.getTime() - last < monitoringIntervalMs(isvc)) return status;
  const ref = { namespace: isvc.metadata.namespace ?? '', name: isvc.metadata.name ?? '' };
  const reference = await deps.reference(stableMv, stableUrl);
  const result = await monitorStableVersion(provider, isvc, stableMv, reference, now);
  deps.metrics.analysis.recordDrift(ref, 'stable', result.drift);
  deps.metrics.analysis.recordLevels(ref, { drift: result.status.drift?.level, accuracy: result.status.accuracy?.level });
  const guard = status.monitoring?.guard;
  const guardOpen = guard?.until && now < new Date(guard.until);
  let next: InferenceServiceStatus = { ...status, monitoring: { ...result.status, lastCheckedAt: now.toISOString(), ...(guardOpen ? { guard } : {}) } };
  if (guardOpen && status.phase === 'Serving') {
    const outcome = await analyseGuard(provider, isvc, stableMv, reference, now);
    if (outcome.verdict === 'Fail') {
      next = transition(next, { type: 'GuardRegression', message: `new stable version regressed inside the guard window: ${outcome.details.join('; ')}` }, policy, now);
    }
  }
  return next;
}

function retrainInFlight(isvc: InferenceService, ctx: ReconcileContext): boolean {
  const runs = ctx.cache.list<TrainingRun>(Kinds.TrainingRun, isvc.metadata.namespace, { [Labels.inferenceService]: isvc.metadata.name ?? '' });
  return runs.some((r) => r.status?.phase !== 'Succeeded' && r.status?.phase !== 'Failed');
}

async function createRetrainRun(isvc: InferenceService, runName: string, decision: NonNullable<ReturnType<typeof decideRetrain>>, ctx: ReconcileContext, deps: Deps): Promise<void> {
  try {
    await ctx.client.create(buildRetrainRun(isvc, runName, decision));
    void ctx.recorder.event(isvc, 'Normal', 'RetrainTriggered', `Created TrainingRun ${runName}: ${decision.message}`);
    deps.metrics.retrains.inc({ namespace: isvc.metadata.namespace ?? '', isvc: isvc.metadata.name ?? '', reason: decision.reason });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** A restart between the status write and the create: create the recorded run (once, by name). */
async function ensureRecordedRunExists(isvc: InferenceService, runName: string, ctx: ReconcileContext): Promise<void> {
  const ns = isvc.metadata.namespace ?? '';
  if (ctx.cache.get(Kinds.TrainingRun, ns, runName)) return;
  const last = isvc.status?.retrain?.lastTriggeredAt;
  if (!last || Date.now() - Date.parse(last) > 60_000) return; // long gone (deleted by a user): do not resurrect
  if (await ignoreNotFound(ctx.client.get(Kinds.TrainingRun, ns, runName))) return;
  const reason = (isvc.status?.retrain?.lastReason ?? 'Schedule') as 'Drift';
  try {
    await ctx.client.create(buildRetrainRun(isvc, runName, { reason, message: 'recorded before a restart' }));
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

async function applyChildren(isvc: InferenceService, status: InferenceServiceStatus, ctx: ReconcileContext, deps: Deps, traffic: TrafficProvider, mvOf: (v: number | undefined) => ModelVersion | undefined): Promise<void> {
  const ns = isvc.metadata.namespace ?? '';
  // While promoting, the stable Deployment already runs the canary's version.
  const stableVersion = status.phase === 'Promoting' ? status.canary?.version : status.stable?.version;
  const stableMv = mvOf(stableVersion);
  if (stableMv) {
    await applyIfChanged(ctx, isvc, deps, buildServingDeployment(isvc, 'stable', stableMv, deps));
    const hpa = buildAutoscaler(isvc, 'stable');
    if (hpa) await applyIfChanged(ctx, isvc, deps, hpa, HPA);
  }
  const canaryMv = status.canary ? mvOf(status.canary.version) : undefined;
  if (canaryMv) {
    await applyIfChanged(ctx, isvc, deps, buildServingDeployment(isvc, 'canary', canaryMv, deps));
    const hpa = buildAutoscaler(isvc, 'canary');
    if (hpa) await applyIfChanged(ctx, isvc, deps, hpa, HPA);
  } else if (ctx.cache.get(Kinds.Deployment, ns, roleName(isvc, 'canary'))) {
    await ignoreNotFound(ctx.client.delete(Kinds.Deployment, ns, roleName(isvc, 'canary')));
    if (isvc.spec.autoscaling) {
      await ignoreNotFound(ctx.client.delete(HPA, ns, roleName(isvc, 'canary')));
      deps.applied.forget(`${memoPrefix(isvc)}${kindId(HPA)}|${roleName(isvc, 'canary')}`);
    }
  }
  const topology = { stableService: roleName(isvc, 'stable'), canaryService: status.canary ? roleName(isvc, 'canary') : undefined, port: ROLE_SERVICE_PORT };
  const weights = { stable: status.stable?.weight ?? 100, canary: status.canary?.weight ?? 0 };
  for (const obj of traffic.desired(isvc, topology, weights)) await applyIfChanged(ctx, isvc, deps, obj);
  await traffic.setWeights(isvc, topology, weights, ctx.client);
}

/**
 * Applies when the cached object lacks what we want, or, for a kind without an informer, when
 * this intent was not applied recently (steady state makes no API calls either way).
 */
async function applyIfChanged(ctx: ReconcileContext, owner: InferenceService, deps: Deps, desired: KubeObject, kind?: KindRef): Promise<void> {
  const k = kind ?? kindOfObject(desired);
  const ns = desired.metadata?.namespace ?? '';
  const name = desired.metadata?.name ?? '';
  if (k && ctx.cache.informs(k)) {
    const cached = ctx.cache.get(k, ns, name);
    if (cached && contains(cached, desired)) return;
    await ctx.client.apply(desired);
    return;
  }
  const key = `${memoPrefix(owner)}${k ? kindId(k) : `${desired.apiVersion}/${desired.kind}`}|${name}`;
  const now = Date.now();
  if (deps.applied.isCurrent(key, desired, now)) return;
  await ctx.client.apply(desired);
  deps.applied.remember(key, desired, now);
}

function kindOfObject(obj: KubeObject): KindRef | undefined {
  return Object.values(Kinds).find((k) => k.kind === obj.kind && (k.group ? `${k.group}/${k.version}` : k.version) === obj.apiVersion);
}

/** Whether every field of `want` is present with the same value in `have` (arrays compared by element). */
export function contains(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return have === want;
  if (Array.isArray(want)) return Array.isArray(have) && have.length === want.length && want.every((w, i) => contains(have[i], w));
  if (have === null || typeof have !== 'object') return false;
  return Object.entries(want as Record<string, unknown>).every(([k, v]) => v === undefined || contains((have as Record<string, unknown>)[k], v));
}

/** ModelVersion.status.servedBy: which services use the version, in which role. */
async function updateServedBy(isvc: InferenceService, status: InferenceServiceStatus, versions: ModelVersion[], ctx: ReconcileContext, now: Date): Promise<void> {
  const name = isvc.metadata.name ?? '';
  const roles = new Map<number, 'stable' | 'canary'>();
  if (status.stable?.version) roles.set(status.stable.version, 'stable');
  if (status.canary?.version) roles.set(status.canary.version, 'canary');
  for (const mv of versions) {
    if (mv.spec.model !== isvc.spec.model) continue;
    const compute = (fresh: ModelVersion) => {
      const others = (fresh.status?.servedBy ?? []).filter((s) => s.inferenceService !== name);
      const role = roles.get(fresh.spec.version);
      const prev = (fresh.status?.servedBy ?? []).find((s) => s.inferenceService === name);
      const mine = role ? [{ inferenceService: name, role, since: prev?.role === role ? prev.since : now.toISOString() }] : [];
      return { ...fresh.status, servedBy: [...others, ...mine] };
    };
    const next = compute(mv);
    if (semanticEqual(mv.status?.servedBy ?? [], next.servedBy)) continue;
    await ctx.client.setStatus(mv, next, { recompute: compute });
  }
}

function countOutcomes(m: RolloutMetrics, namespace: string, isvc: string, before: InferenceServiceStatus | undefined, after: InferenceServiceStatus): void {
  const seen = before?.history ?? [];
  for (const h of after.history ?? []) {
    if (seen.some((o) => o.version === h.version && o.finishedAt === h.finishedAt)) continue;
    if (h.outcome === 'Promoted') m.promotions.inc({ namespace, isvc });
    else m.rollbacks.inc({ namespace, isvc, reason: h.reason ?? h.outcome });
  }
}

function requeueAfter(isvc: InferenceService, status: InferenceServiceStatus, policy: RolloutPolicy, now: Date): number {
  const times: number[] = [monitoringIntervalMs(isvc)];
  const converging = status.phase === 'Initializing' || status.phase === 'Promoting' || (status.canary && !status.canary.stepStartedAt) || status.phase === 'Degraded';
  if (converging) times.push(CONVERGE_MS);
  const due = nextAnalysisAt(status, policy);
  if (due) times.push(due.getTime() - now.getTime());
  if (status.canary?.startedAt) times.push(Date.parse(status.canary.startedAt) + policy.progressDeadlineMs - now.getTime());
  const last = status.monitoring?.lastCheckedAt ? Date.parse(status.monitoring.lastCheckedAt) : now.getTime();
  times.push(last + monitoringIntervalMs(isvc) - now.getTime());
  if (status.retrain?.lastTriggeredAt) times.push(60_000);
  return Math.max(100, Math.min(...times.filter((t) => Number.isFinite(t))));
}

