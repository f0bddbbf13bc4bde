// Step 3 of a reconcile (pure): the folds of events through the state machine, then what the
// status says beyond the phase — a spec that cannot be served (an Invalid event), a retraining
// trigger, the URLs and conditions. Same context and events, same status: a restarted operator
// decides exactly as the one before it.
import type { InferenceServiceStatus } from '../../api/index.js';
import { pruneUndefined } from '../../runtime/status.js';
import { UnknownTrafficProviderError, userServiceUrl } from '../../traffic/index.js';
import { StorageUriError } from '../common/storage.js';
import { artifactStorage, feedbackCredentialSecretName, requiresFeedbackCredential, roleName } from './builders.js';
import { withConditions, type Problem } from './conditions.js';
import { versionOf, type RolloutContext } from './context.js';
import { retrainInFlight, roleUrls } from './observe.js';
import { cachedConflict } from './ownership.js';
import { stableFailure, transition, type PodCounts, type RolloutEvent } from './phases.js';
import { decideRetrain, retrainRunName, type RetrainDecision } from './retrain.js';

export interface Decision {
  status: InferenceServiceStatus;
  /** Why nothing can be built for this spec (the phase is Failed). */
  invalid?: Problem;
  /** A retraining triggered by this reconcile (its TrainingRun is named in status.retrain). */
  retrain?: RetrainDecision;
}

export const fold = (
  ctx: RolloutContext,
  status: InferenceServiceStatus,
  events: readonly RolloutEvent[],
): InferenceServiceStatus => events.reduce((s, e) => transition(s, e, ctx.policy, ctx.now), status);

/**
 * An unknown traffic provider, a child name held by an object this service did not create, or
 * an artifact of a version to serve that no pod could mount.
 */
export function invalidSpec(ctx: RolloutContext, status: InferenceServiceStatus): Problem | undefined {
  try {
    ctx.deps.trafficProvider(ctx.isvc);
  } catch (e) {
    if (e instanceof UnknownTrafficProviderError) return { reason: 'UnknownTrafficProvider', message: e.message };
    throw e;
  }
  const conflict = cachedConflict(ctx);
  if (conflict) return conflict;
  for (const version of [status.stable?.version, status.canary?.version]) {
    const mv = versionOf(ctx, version);
    try {
      if (mv) artifactStorage(mv, ctx.deps);
    } catch (e) {
      if (e instanceof StorageUriError) return { reason: 'ArtifactNotMountable', message: e.message };
      throw e;
    }
  }
  return undefined;
}

function withRetrain(
  ctx: RolloutContext,
  status: InferenceServiceStatus,
  retrain: RetrainDecision,
): InferenceServiceStatus {
  const count = (status.retrain?.count ?? 0) + 1;
  return {
    ...status,
    retrain: {
      lastTriggeredAt: ctx.now.toISOString(),
      lastReason: retrain.reason,
      trainingRun: retrainRunName(ctx.isvc, count),
      count,
    },
  };
}

/** Where users and the router find the roles, and which generation this status describes. */
function withAddresses(ctx: RolloutContext, status: InferenceServiceStatus): InferenceServiceStatus {
  const { isvc } = ctx;
  const urls = roleUrls(ctx);
  return {
    ...status,
    observedGeneration: isvc.metadata.generation,
    url: userServiceUrl(isvc),
    feedbackCredentialSecret: requiresFeedbackCredential(isvc) ? feedbackCredentialSecretName(isvc) : undefined,
    stable: status.stable && { ...status.stable, service: roleName(isvc, 'stable'), url: urls.stable },
    canary: status.canary && { ...status.canary, service: roleName(isvc, 'canary'), url: urls.canary },
  };
}

/** `pods` as observed at the start of the reconcile (for the Ready condition's reason). */
export function decide(ctx: RolloutContext, folded: InferenceServiceStatus, pods: PodCounts): Decision {
  const invalid = invalidSpec(ctx, folded);
  let status = invalid ? transition(folded, { type: 'Invalid', ...invalid }, ctx.policy, ctx.now) : folded;
  status = withAddresses(ctx, status);
  const retrain = decideRetrain({ isvc: { ...ctx.isvc, status }, inFlight: retrainInFlight(ctx), now: ctx.now });
  if (retrain) status = withRetrain(ctx, status, retrain);
  const stable = stableFailure(status, pods);
  const inputs = { generation: ctx.isvc.metadata.generation ?? 0, now: ctx.now, invalid, stableFailure: stable };
  status = pruneUndefined(withConditions(status, inputs));
  return { status, invalid, retrain };
}
