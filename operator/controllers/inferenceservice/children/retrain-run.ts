// The TrainingRun of a retraining trigger. The status names it before it exists (written first),
// so a restart between the status write and the create still creates it — once, by name, and
// only shortly after the trigger: a run a user deleted later is not resurrected.
import type { InferenceServiceStatus } from '../../../api/index.js';
import { isAlreadyExists } from '../../../runtime/errors.js';
import { Kinds } from '../../../runtime/kinds.js';
import type { RolloutContext } from '../context.js';
import type { Decision } from '../decide.js';
import { buildRetrainRun, type RetrainDecision, type RetrainReason } from '../retrain.js';

const RECREATE_WITHIN_MS = 60_000;

async function createRun(ctx: RolloutContext, name: string, decision: RetrainDecision): Promise<boolean> {
  try {
    await ctx.kube.client.create(buildRetrainRun(ctx.isvc, name, decision));
    return true;
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
    return false;
  }
}

function recordedButMissing(ctx: RolloutContext, status: InferenceServiceStatus): boolean {
  const { trainingRun, lastTriggeredAt } = status.retrain ?? {};
  if (!trainingRun || !lastTriggeredAt) return false;
  if (ctx.kube.cache.get(Kinds.TrainingRun, ctx.isvc.metadata.namespace ?? '', trainingRun)) return false;
  return ctx.now.getTime() - Date.parse(lastTriggeredAt) <= RECREATE_WITHIN_MS;
}

export async function reconcileRetrainRun(ctx: RolloutContext, { status, retrain }: Decision): Promise<void> {
  const name = status.retrain?.trainingRun;
  if (!name) return;
  if (retrain) {
    if (!(await createRun(ctx, name, retrain))) return;
    void ctx.kube.recorder.event(
      ctx.isvc,
      'Normal',
      'RetrainTriggered',
      `Created TrainingRun ${name}: ${retrain.message}`,
    );
    ctx.deps.metrics.retrains.inc({
      namespace: ctx.isvc.metadata.namespace ?? '',
      isvc: ctx.isvc.metadata.name ?? '',
      reason: retrain.reason,
    });
    return;
  }
  if (!recordedButMissing(ctx, status)) return;
  const reason = (status.retrain?.lastReason ?? 'Schedule') as RetrainReason;
  await createRun(ctx, name, { reason, message: 'recorded before a restart' });
}
