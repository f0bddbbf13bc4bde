// One Service per role (stable, canary) selecting that role's pods. Their cluster IPs reach the
// status (and so the router) on the reconcile after they appear in the cache.
import { semanticEqual } from '../../../runtime/status.js';
import { Kinds, type KubeObject } from '../../../runtime/kinds.js';
import { buildRoleService, roleName } from '../builders.js';
import type { RolloutContext } from '../context.js';
import { refuseIfForeign } from '../ownership.js';

export async function reconcileRoleServices(ctx: RolloutContext): Promise<void> {
  for (const role of ['stable', 'canary'] as const) {
    const desired = buildRoleService(ctx.isvc, role);
    const cached = ctx.kube.cache.get<KubeObject & { spec?: { selector?: unknown } }>(
      Kinds.Service,
      ctx.isvc.metadata.namespace ?? '',
      roleName(ctx.isvc, role),
    );
    refuseIfForeign(ctx, 'Service', cached);
    // Only the selector is ours to keep; the API server fills in the rest (cluster IP, ports' protocol).
    if (!cached || !semanticEqual(cached.spec?.selector, (desired.spec as { selector: unknown }).selector))
      await ctx.kube.client.apply(desired);
  }
}
