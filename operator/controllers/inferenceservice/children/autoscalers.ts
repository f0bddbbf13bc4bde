// One HorizontalPodAutoscaler per role with a Deployment, when spec.autoscaling is set. Runs
// before the Deployments: the canary's autoscaler is deleted while the cache still shows the
// canary Deployment it belongs to (autoscalers are not watched, so that is how we know).
import type { InferenceServiceStatus } from '../../../api/index.js';
import { ignoreNotFound } from '../../../runtime/errors.js';
import { Kinds, kindId } from '../../../runtime/kinds.js';
import { buildAutoscaler, roleName } from '../builders.js';
import { versionOf, type RolloutContext } from '../context.js';
import { applyIfChanged, childMemoKey } from './apply.js';
import { stableVersionOf } from './deployments.js';

export async function reconcileAutoscalers(ctx: RolloutContext, status: InferenceServiceStatus): Promise<void> {
  if (!ctx.isvc.spec.autoscaling) return;
  const ns = ctx.isvc.metadata.namespace ?? '';
  const canaryName = roleName(ctx.isvc, 'canary');
  if (versionOf(ctx, stableVersionOf(status))) await applyIfChanged(ctx, buildAutoscaler(ctx.isvc, 'stable')!);
  if (versionOf(ctx, status.canary?.version)) await applyIfChanged(ctx, buildAutoscaler(ctx.isvc, 'canary')!);
  else if (ctx.kube.cache.get(Kinds.Deployment, ns, canaryName)) {
    await ignoreNotFound(ctx.kube.client.delete(Kinds.HorizontalPodAutoscaler, ns, canaryName));
    ctx.deps.applied.forget(childMemoKey(ctx, kindId(Kinds.HorizontalPodAutoscaler), canaryName));
  }
}
