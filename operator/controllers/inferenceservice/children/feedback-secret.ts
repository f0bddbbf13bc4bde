// The per-service feedback Secrets: the token-signing keys and, when spec.feedback.credential
// is Required, the credentials applications send. Each is created once with random content and
// never re-applied, so that replicas keep verifying each other's tokens and a rotation the user
// made stays. Their names carry the service's uid (builders.ts), so AlreadyExists can only mean
// this service created it before: the operator never reads a Secret.
import { randomBytes } from 'node:crypto';
import { isAlreadyExists } from '../../../runtime/errors.js';
import type { KubeObject } from '../../../runtime/kinds.js';
import {
  buildFeedbackCredentialSecret,
  buildFeedbackSecret,
  feedbackCredentialSecretName,
  feedbackSecretName,
  requiresFeedbackCredential,
} from '../builders.js';
import type { RolloutContext } from '../context.js';
import { childMemoKey } from './apply.js';

export async function reconcileFeedbackSecret(ctx: RolloutContext): Promise<void> {
  const random = () => randomBytes(32).toString('base64url');
  await createOnce(ctx, feedbackSecretName(ctx.isvc), () => buildFeedbackSecret(ctx.isvc, random()));
  if (requiresFeedbackCredential(ctx.isvc))
    await createOnce(ctx, feedbackCredentialSecretName(ctx.isvc), () =>
      buildFeedbackCredentialSecret(ctx.isvc, random()),
    );
}

async function createOnce(ctx: RolloutContext, name: string, build: () => KubeObject): Promise<void> {
  // Secrets are not watched: remember that it exists instead.
  const key = childMemoKey(ctx, 'secret', name);
  const now = ctx.now.getTime();
  if (ctx.deps.applied.isCurrent(key, name, now)) return;
  try {
    await ctx.kube.client.create(build());
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
  ctx.deps.applied.remember(key, name, now);
}
