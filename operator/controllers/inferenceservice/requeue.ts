// Step 7 of a reconcile: when to look again — the soonest of the next analysis, the progress
// deadline, the next monitoring check and, while something converges, a short poll.
import type { InferenceServiceStatus } from '../../api/index.js';
import type { RolloutContext } from './context.js';
import { deadlineOf, nextAnalysisAt } from './phases.js';
import { monitoringIntervalMs } from './policy.js';

/** How often to look while something converges (pods starting, a promotion rolling). */
const CONVERGE_MS = 1_000;
/** How long a just-triggered retraining run is looked after (its creation is retried). */
const RETRAIN_FOLLOW_MS = 60_000;
/**
 * How often a name conflict is looked at again: the object in the way is not this service's,
 * so its removal sends no event here.
 */
export const CONFLICT_RECHECK_MS = 30_000;

const converging = (status: InferenceServiceStatus): boolean =>
  status.phase === 'Initializing' ||
  status.phase === 'Promoting' ||
  status.phase === 'Degraded' ||
  (!!status.canary && !status.canary.stepStartedAt);

export function requeueAfter(ctx: RolloutContext, status: InferenceServiceStatus): number {
  const now = ctx.now.getTime();
  const interval = monitoringIntervalMs(ctx.isvc);
  const lastCheck = status.monitoring?.lastCheckedAt ? Date.parse(status.monitoring.lastCheckedAt) : now;
  const times = [interval, lastCheck + interval - now];
  if (converging(status)) times.push(CONVERGE_MS);
  const due = nextAnalysisAt(status, ctx.policy);
  if (due) times.push(due.getTime() - now);
  // Just past the deadline, so the Clock event sees it passed.
  const deadline = deadlineOf(status, ctx.policy);
  if (deadline) times.push(deadline.getTime() + 1 - now);
  if (status.retrain?.lastTriggeredAt) times.push(RETRAIN_FOLLOW_MS);
  return Math.max(100, Math.min(...times.filter((t) => Number.isFinite(t))));
}
