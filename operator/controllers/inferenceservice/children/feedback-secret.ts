// The per-service feedback-token key: created once with a random key and never re-applied, so
// that replicas keep verifying each other's tokens. Its name carries the service's uid
// (builders.ts), so AlreadyExists can only mean this service created it before: the operator
// never reads a Secret.
import { randomBytes } from 'node:crypto';
import { isAlreadyExists } from '../../../runtime/errors.js';
import { buildFeedbackSecret, feedbackSecretName } from '../builders.js';
import type { RolloutContext } from '../context.js';
import { childMemoKey } from './apply.js';

export async function reconcileFeedbackSecret(ctx: RolloutContext): Promise<void> {
  const name = feedbackSecretName(ctx.isvc);
  // Secrets are not watched: remember that it exists instead.
  const key = childMemoKey(ctx, 'secret', name);
  const now = ctx.now.getTime();
  if (ctx.deps.applied.isCurrent(key, name, now)) return;
  try {
    await ctx.kube.client.create(buildFeedbackSecret(ctx.isvc, randomBytes(32).toString('base64url')));
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  ctx.deps.applied.remember(key, name, now);
}
