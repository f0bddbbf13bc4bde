// One reconcile's view of an InferenceService: the object with its CRD defaults applied, the
// rollout policy, the model's versions, the time, the cluster and the controller's own parts.
// Every step of a reconcile takes this context, so none needs more than two parameters.
import {
  withInferenceServiceDefaults,
  type InferenceService,
  type ModelVersion,
  type WorkloadDefaults,
} from '../../api/index.js';
import type { MetricProvider } from '../../metrics-providers/index.js';
import type { AppliedMemo } from '../../runtime/applied-memo.js';
import type { ReconcileContext } from '../../runtime/controller.js';
import { Kinds } from '../../runtime/kinds.js';
import type { TrafficProvider } from '../../traffic/index.js';
import type { RolloutMetrics } from './metrics.js';
import type { RolloutPolicy } from './phases.js';
import { rolloutPolicy } from './policy.js';
import type { ReferenceResolver } from './reference.js';

/** What the controller brings to every reconcile (built once, in inferenceServiceController). */
export interface RolloutDeps {
  servingImage: string;
  scrapeAnnotations?: boolean;
  workloadDefaults?: WorkloadDefaults;
  metrics: RolloutMetrics;
  /** The Prometheus of spec.prometheus.address, else of --prometheus-url; undefined without either. */
  metricProvider(isvc: InferenceService): MetricProvider | undefined;
  /** A version's reference profile, from its role Service (digest-checked). */
  reference: ReferenceResolver;
  /** Children of kinds without an informer (router RBAC, HPA, feedback Secret), as last applied. */
  applied: AppliedMemo;
  /** The traffic provider of spec.traffic.provider; throws UnknownTrafficProviderError. */
  trafficProvider(isvc: InferenceService): TrafficProvider;
}

export interface RolloutContext {
  /** The service with every CRD default applied (objects that bypassed the API server read the same). */
  readonly isvc: InferenceService;
  readonly policy: RolloutPolicy;
  /** ModelVersions of spec.model in the service's namespace. */
  readonly versions: readonly ModelVersion[];
  readonly now: Date;
  readonly kube: ReconcileContext;
  readonly deps: RolloutDeps;
}

export function rolloutContext(
  stored: InferenceService,
  kube: ReconcileContext,
  deps: RolloutDeps,
  now: Date,
): RolloutContext {
  const isvc = { ...stored, spec: withInferenceServiceDefaults(stored.spec) };
  const versions = kube.cache
    .list<ModelVersion>(Kinds.ModelVersion, isvc.metadata.namespace)
    .filter((mv) => mv.spec.model === isvc.spec.model);
  return { isvc, policy: rolloutPolicy(isvc), versions, now, kube, deps };
}

export const versionOf = (ctx: RolloutContext, version: number | undefined): ModelVersion | undefined =>
  version === undefined ? undefined : ctx.versions.find((mv) => mv.spec.version === version);

export const keyOf = (ctx: RolloutContext) => ({
  namespace: ctx.isvc.metadata.namespace ?? '',
  name: ctx.isvc.metadata.name ?? '',
});

/** Memo keys of one service's children; the uid keeps a re-created service from inheriting them. */
export const memoPrefix = (ctx: RolloutContext): string =>
  `${ctx.isvc.metadata.namespace ?? ''}/${ctx.isvc.metadata.name ?? ''}/${ctx.isvc.metadata.uid ?? ''}|`;
