// ModelVersion.status.servedBy: which services use each version, in which role and since when.
import type { InferenceServiceStatus, ModelVersion } from '../../../api/index.js';
import { semanticEqual } from '../../../runtime/status.js';
import type { RolloutContext } from '../context.js';

export async function reconcileServedBy(ctx: RolloutContext, status: InferenceServiceStatus): Promise<void> {
  const name = ctx.isvc.metadata.name ?? '';
  const roles = new Map<number, 'stable' | 'canary'>();
  if (status.stable?.version) roles.set(status.stable.version, 'stable');
  if (status.canary?.version) roles.set(status.canary.version, 'canary');
  const compute = (fresh: ModelVersion) => {
    const others = (fresh.status?.servedBy ?? []).filter((s) => s.inferenceService !== name);
    const role = roles.get(fresh.spec.version);
    const prev = (fresh.status?.servedBy ?? []).find((s) => s.inferenceService === name);
    const mine = role
      ? [{ inferenceService: name, role, since: prev?.role === role ? prev.since : ctx.now.toISOString() }]
      : [];
    return { ...fresh.status, servedBy: [...others, ...mine] };
  };
  for (const mv of ctx.versions) {
    const next = compute(mv);
    if (semanticEqual(mv.status?.servedBy ?? [], next.servedBy)) continue;
    await ctx.kube.client.setStatus(mv, next, { recompute: compute });
  }
}
