// Step 4 of a reconcile: the status is written once, and only when it changed — before any
// child changes, so that a restart resumes from what was decided and never decides twice.
import type { InferenceServiceStatus } from '../../api/index.js';
import { semanticEqual } from '../../runtime/status.js';
import { transitionEvents } from './conditions.js';
import { keyOf, type RolloutContext } from './context.js';
import type { RolloutMetrics } from './metrics.js';

function countOutcomes(
  m: RolloutMetrics,
  key: { namespace: string; name: string },
  before: InferenceServiceStatus | undefined,
  after: InferenceServiceStatus,
): void {
  const seen = before?.history ?? [];
  const labels = { namespace: key.namespace, isvc: key.name };
  for (const h of after.history ?? []) {
    if (seen.some((o) => o.version === h.version && o.finishedAt === h.finishedAt)) continue;
    if (h.outcome === 'Promoted') m.promotions.inc(labels);
    else m.rollbacks.inc({ ...labels, reason: h.reason ?? h.outcome });
  }
}

export async function persistStatus(ctx: RolloutContext, status: InferenceServiceStatus): Promise<void> {
  const before = ctx.isvc.status;
  const key = keyOf(ctx);
  ctx.deps.metrics.setRollout(key.namespace, key.name, status.phase, status.canary?.weight ?? 0);
  if (semanticEqual(before, status)) return;
  // No retries: a conflict means the cache is behind; the watch event of the newer object re-queues.
  const written = await ctx.kube.client.updateStatus({ ...ctx.isvc, status }, { retries: 0 });
  for (const e of transitionEvents(before, status)) void ctx.kube.recorder.event(written, e.type, e.reason, e.message);
  countOutcomes(ctx.deps.metrics, key, before, status);
}
