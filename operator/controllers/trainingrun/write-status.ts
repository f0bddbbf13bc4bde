// The one way the TrainingRun controller writes a run's status: only when it changed,
// recomputed from the stored object after a conflict, with Events for the transitions.
import type { TrainingRun, TrainingRunStatus } from '../../api/index.js';
import type { ReconcileContext } from '../../runtime/controller.js';
import type { TrainingRunMetrics } from './metrics.js';
import { transitionEvents } from './status.js';

/**
 * Writes the status `compute` gives for the run when it changed, recomputing it from the stored
 * object after a conflict, and records Events for the transitions.
 */
export async function writeStatus(
  run: TrainingRun,
  compute: (r: TrainingRun) => TrainingRunStatus,
  ctx: ReconcileContext,
  metrics?: TrainingRunMetrics,
): Promise<TrainingRun> {
  // The stored status the accepted write was computed from (the fresh one after a conflict), so
  // that a completion another writer already stored is not counted again.
  let base = run.status;
  const status = compute(run);
  const recompute = (fresh: TrainingRun) => {
    base = fresh.status;
    return compute(fresh);
  };
  const { obj, written } = await ctx.client.setStatus(run, status, { recompute });
  if (written)
    for (const e of transitionEvents(run.status, obj.status ?? status))
      void ctx.recorder.event(obj, e.type, e.reason, e.message);
  if (written) metrics?.written(run, base, obj.status);
  return obj;
}
