// The InferenceService controller. A reconcile is a short list of ordered steps over one
// context (context.ts):
//   1. observe  — the cache's view as events (versions, pods, manual annotations, the clock),
//                 folded through the pure state machine (phases.ts);
//   2. measure  — the canary analysis and stable monitoring when due: the only I/O that yields
//                 events, folded the same way;
//   3. decide   — an Invalid event for a spec that cannot be served, retraining, URLs and
//                 conditions (pure);
//   4. persist  — the status, written once and only when it changed, before any child changes,
//                 so a restart resumes exactly there;
//   5. children — one small reconciler per child kind makes the cluster match the status;
//   6. requeue  — when to look again.
import {
  Labels,
  withInferenceServiceDefaults,
  type InferenceService,
  type ModelVersion,
  type WorkloadDefaults,
} from '../../api/index.js';
import {
  createMetricProvider,
  isAllowedAddress,
  RefusedProvider,
  type MetricProvider,
} from '../../metrics-providers/index.js';
import { AppliedMemo } from '../../runtime/applied-memo.js';
import type { CacheReader, Controller, ReconcileResult } from '../../runtime/controller.js';
import { Kinds, type KubeObject, type ObjectKey } from '../../runtime/kinds.js';
import { createTrafficProvider } from '../../traffic/index.js';
import type { Registry } from 'prom-client';
import { RECORDED_CHILDREN, SERVING_CHILDREN } from './children/index.js';
import { rolloutContext, type RolloutContext, type RolloutDeps } from './context.js';
import { decide, fold } from './decide.js';
import { measure } from './measure.js';
import { RolloutMetrics } from './metrics.js';
import { observe, podCounts } from './observe.js';
import { persistStatus } from './persist.js';
import { referenceResolver } from './reference.js';
import { CONFLICT_RECHECK_MS, requeueAfter } from './requeue.js';

export interface InferenceServiceControllerOptions {
  servingImage: string;
  /** prometheus.io annotations on serving and router pods (--scrape-annotations, default true). */
  scrapeAnnotations?: boolean;
  /** Default Prometheus base URL (--prometheus-url); spec.prometheus.address wins. */
  prometheusUrl?: string;
  /** Further addresses spec.prometheus.address may name; others are refused, never requested. */
  prometheusAllowedUrls?: string[];
  /** Registry for the rollout/analysis metrics (the operator's /metrics registry). */
  registry?: Registry;
  concurrency?: number;
  /** The clock of every decision (tests inject one). */
  now?: () => Date;
  /** Operator-wide pod placement (--workload-defaults), under each service's own fields. */
  workloadDefaults?: WorkloadDefaults;
}

export async function reconcileInferenceService(ctx: RolloutContext): Promise<ReconcileResult> {
  // Observed first: a canary superseded or past its deadline in this reconcile is not measured.
  // The pods are listed once: the Pods event and the Ready condition's reason read the same view.
  const pods = podCounts(ctx);
  const observed = fold(ctx, ctx.isvc.status ?? {}, observe(ctx, pods));
  const measured = fold(ctx, observed, await measure(ctx, observed));
  const decision = decide(ctx, measured, pods);
  await persistStatus(ctx, decision.status);
  // A spec that cannot be served gets no children; its next change re-queues it.
  if (!decision.invalid) for (const reconcileChild of SERVING_CHILDREN) await reconcileChild(ctx, decision);
  for (const reconcileChild of RECORDED_CHILDREN) await reconcileChild(ctx, decision);
  if (decision.invalid?.reason === 'ChildConflict') return { requeueAfterMs: CONFLICT_RECHECK_MS };
  return decision.invalid ? {} : { requeueAfterMs: requeueAfter(ctx, decision.status) };
}

/** Keys of the services serving the model of ModelVersion `obj`, in its namespace. */
function servicesOfModel(obj: KubeObject, cache: CacheReader): ObjectKey[] {
  const model = (obj as ModelVersion).spec?.model;
  const namespace = obj.metadata?.namespace ?? '';
  return cache
    .list<InferenceService>(Kinds.InferenceService, namespace)
    .filter((s) => s.spec.model === model)
    .map((s) => ({ namespace, name: s.metadata.name ?? '' }));
}

const byServiceLabel = (obj: KubeObject): ObjectKey[] => {
  const name = obj.metadata?.labels?.[Labels.inferenceService];
  return name ? [{ namespace: obj.metadata?.namespace ?? '', name }] : [];
};

/** A Prometheus provider for an allowed address, one that refuses every query for any other. */
function providerFor(address: string, opts: InferenceServiceControllerOptions): MetricProvider {
  const allowed = [...(opts.prometheusUrl ? [opts.prometheusUrl] : []), ...(opts.prometheusAllowedUrls ?? [])];
  if (!isAllowedAddress(address, allowed)) return new RefusedProvider(address);
  return createMetricProvider({ type: 'prometheus', address, timeoutMs: 5_000 });
}

function rolloutDeps(opts: InferenceServiceControllerOptions): RolloutDeps {
  const providers = new Map<string, MetricProvider>();
  const metricProvider = (isvc: InferenceService): MetricProvider | undefined => {
    const address = isvc.spec.prometheus?.address ?? opts.prometheusUrl;
    if (!address) return undefined;
    if (!providers.has(address)) providers.set(address, providerFor(address, opts));
    return providers.get(address);
  };
  const { servingImage, workloadDefaults, scrapeAnnotations } = opts;
  return {
    servingImage,
    workloadDefaults,
    scrapeAnnotations,
    metricProvider,
    metrics: new RolloutMetrics(opts.registry),
    reference: referenceResolver(),
    applied: new AppliedMemo(),
    trafficProvider: (isvc) =>
      createTrafficProvider(withInferenceServiceDefaults(isvc.spec).traffic.provider, {
        servingImage,
        workloadDefaults,
        scrapeAnnotations,
      }),
  };
}

export function inferenceServiceController(opts: InferenceServiceControllerOptions): Controller {
  const deps = rolloutDeps(opts);
  const now = opts.now ?? (() => new Date());
  return {
    name: 'inferenceservice',
    forKind: Kinds.InferenceService,
    owns: [Kinds.Deployment, Kinds.Service],
    watches: [
      { kind: Kinds.Pod, mapToKeys: byServiceLabel },
      { kind: Kinds.TrainingRun, mapToKeys: byServiceLabel },
      { kind: Kinds.ModelVersion, mapToKeys: servicesOfModel },
    ],
    concurrency: opts.concurrency ?? 4,
    async reconcile(key, kube) {
      const isvc = kube.cache.get<InferenceService>(Kinds.InferenceService, key.namespace, key.name);
      if (!isvc || isvc.metadata.deletionTimestamp) {
        deps.metrics.forget(key.namespace, key.name);
        deps.applied.forget(`${key.namespace}/${key.name}/`);
        return undefined;
      }
      return reconcileInferenceService(rolloutContext(isvc, kube, deps, now()));
    },
  };
}
