// The serving Deployment of each role that has a version; the canary's goes away with the canary.
import type { InferenceServiceStatus } from '../../../api/index.js';
import { ignoreNotFound } from '../../../runtime/errors.js';
import { Kinds } from '../../../runtime/kinds.js';
import { buildServingDeployment, roleName } from '../builders.js';
import { versionOf, type RolloutContext } from '../context.js';
import { applyIfChanged } from './apply.js';

/** While promoting, the stable Deployment already runs the canary's version. */
export const stableVersionOf = (status: InferenceServiceStatus): number | undefined =>
  status.phase === 'Promoting' ? status.canary?.version : status.stable?.version;

export async function reconcileDeployments(ctx: RolloutContext, status: InferenceServiceStatus): Promise<void> {
  const stable = versionOf(ctx, stableVersionOf(status));
  if (stable) await applyIfChanged(ctx, buildServingDeployment(ctx.isvc, 'stable', stable, ctx.deps));
  const canary = versionOf(ctx, status.canary?.version);
  const canaryName = roleName(ctx.isvc, 'canary');
  const ns = ctx.isvc.metadata.namespace ?? '';
  if (canary) await applyIfChanged(ctx, buildServingDeployment(ctx.isvc, 'canary', canary, ctx.deps));
  else if (ctx.kube.cache.get(Kinds.Deployment, ns, canaryName))
    await ignoreNotFound(ctx.kube.client.delete(Kinds.Deployment, ns, canaryName));
}
