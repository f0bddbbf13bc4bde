// The per-service feedback-token key: created once with a random key and never re-applied, so
// that replicas keep verifying each other's tokens.
import { randomBytes } from 'node:crypto';
import { ignoreNotFound, isAlreadyExists } from '../../../runtime/errors.js';
import { Kinds } from '../../../runtime/kinds.js';
import { buildFeedbackSecret, feedbackSecretName } from '../builders.js';
import type { RolloutContext } from '../context.js';
import { ChildConflictError, conflictMessage, controlledBy } from '../ownership.js';
import { childMemoKey } from './apply.js';

export async function reconcileFeedbackSecret(ctx: RolloutContext): Promise<void> {
  const name = feedbackSecretName(ctx.isvc);
  // Secrets are not watched (no cluster-wide read of Secrets): remember that it exists instead.
  const key = childMemoKey(ctx, 'secret', name);
  const now = ctx.now.getTime();
  if (ctx.deps.applied.isCurrent(key, name, now)) return;
  const namespace = ctx.isvc.metadata.namespace ?? '';
  const existing = await ignoreNotFound(ctx.kube.client.get(Kinds.Secret, namespace, name));
  // A Secret of that name the service did not create is no key of its own: never used, never touched.
  if (existing && !controlledBy(existing, ctx.isvc))
    throw new ChildConflictError(conflictMessage('Secret', namespace, name));
  if (!existing) {
    try {
      await ctx.kube.client.create(buildFeedbackSecret(ctx.isvc, randomBytes(32).toString('base64url')));
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
  ctx.deps.applied.remember(key, name, now);
}
