// The traffic provider's objects for the weights in the status just written (router Deployment,
// RBAC and user Service, or an HTTPRoute): the status is the switch, these follow it.
import type { InferenceServiceStatus } from '../../../api/index.js';
import { ROLE_SERVICE_PORT, roleName } from '../builders.js';
import type { RolloutContext } from '../context.js';
import { applyIfChanged } from './apply.js';

export async function reconcileTraffic(ctx: RolloutContext, status: InferenceServiceStatus): Promise<void> {
  const topology = {
    stableService: roleName(ctx.isvc, 'stable'),
    canaryService: status.canary ? roleName(ctx.isvc, 'canary') : undefined,
    port: ROLE_SERVICE_PORT,
  };
  const weights = { stable: status.stable?.weight ?? 100, canary: status.canary?.weight ?? 0 };
  for (const obj of ctx.deps.trafficProvider(ctx.isvc).desired(ctx.isvc, topology, weights))
    await applyIfChanged(ctx, obj);
}
