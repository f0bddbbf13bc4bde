// POST /feedback: check the token, the labels and replays first, then count — so a rejected
// request never consumes the token.
import { ServingError } from '../errors.js';
import type { Signature } from '../model/schema.js';
import { isOneOf } from './keys.js';
import { ReplayMemory } from './replay.js';
import type { TokenSigner } from './token.js';

export type Outcome = 'correct' | 'incorrect';

export interface FeedbackResult {
  version: string;
  accepted: Record<string, Outcome>;
}

/** What feedback is judged against: the served model and the token machinery. */
export interface FeedbackContext {
  signature: Signature;
  modelName: string;
  signer: TokenSigner;
  seen: ReplayMemory;
}

interface FeedbackBody {
  predictionId: string;
  labels: Record<string, unknown>;
}

function parseFeedbackBody(body: unknown): FeedbackBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ServingError('INVALID_INPUT', 'body must be {"predictionId": "...", "labels": {"<head>": "<label>"}}');
  }
  const { predictionId, labels } = body as { predictionId?: unknown; labels?: unknown };
  if (typeof predictionId !== 'string') throw new ServingError('INVALID_INPUT', 'predictionId must be a string');
  if (!labels || typeof labels !== 'object' || Array.isArray(labels) || Object.keys(labels).length === 0) {
    throw new ServingError('INVALID_INPUT', 'labels must be a non-empty object {"<head>": "<label>"}');
  }
  return { predictionId, labels: labels as Record<string, unknown> };
}

/** Each given label against the prediction the token carries for its head. */
function outcomes(
  labels: Record<string, unknown>,
  sig: Signature,
  predicted: Record<string, string>,
): Record<string, Outcome> {
  const accepted: Record<string, Outcome> = {};
  for (const [headName, label] of Object.entries(labels)) {
    const head = sig.heads.find((h) => h.name === headName);
    if (!head)
      throw new ServingError(
        'UNKNOWN_LABEL',
        `unknown head "${headName}" (heads: ${sig.heads.map((h) => h.name).join(', ')})`,
      );
    if (typeof label !== 'string' || !head.labels.includes(label)) {
      throw new ServingError(
        'UNKNOWN_LABEL',
        `unknown label ${JSON.stringify(label)} for head "${headName}" (labels: ${head.labels.join(', ')})`,
      );
    }
    if (predicted[headName] === undefined)
      throw new ServingError('UNKNOWN_LABEL', `predictionId carries no prediction for head "${headName}"`);
    accepted[headName] = predicted[headName] === label ? 'correct' : 'incorrect';
  }
  return accepted;
}

/**
 * With credentials configured, feedback must present one of them as a bearer token; checked
 * before its body is read.
 */
export function authenticateFeedback(authorization: string | undefined, credentials?: { all(): Buffer[] }): void {
  if (!credentials) return;
  const [scheme, token] = String(authorization ?? '').split(' ', 2);
  if (scheme?.toLowerCase() !== 'bearer' || !token)
    throw new ServingError(
      'UNAUTHENTICATED',
      'feedback needs the service\'s feedback credential: send "Authorization: Bearer <credential>"',
    );
  if (!isOneOf(token, credentials.all()))
    throw new ServingError('UNAUTHENTICATED', 'the bearer token is not a feedback credential of this service');
}

export function judgeFeedback(body: unknown, ctx: FeedbackContext, nowMs = Date.now()): FeedbackResult {
  const { predictionId, labels } = parseFeedbackBody(body);
  const claims = ctx.signer.verify(predictionId, nowMs);
  if (claims.model !== ctx.modelName)
    throw new ServingError(
      'TOKEN_FORGED',
      `predictionId was issued for model "${claims.model}", not "${ctx.modelName}"`,
    );
  const accepted = outcomes(labels, ctx.signature, claims.classes);
  // Remembered per (token, head), so feedback on a head of the same prediction that was not
  // judged yet is still accepted.
  const heads = Object.keys(accepted);
  const keys = heads.map((head) =>
    ReplayMemory.key(
      claims.mac,
      ctx.signature.heads.findIndex((h) => h.name === head),
    ),
  );
  const repeated = heads.filter((_, i) => ctx.seen.has(keys[i], nowMs));
  if (repeated.length) {
    throw new ServingError(
      'ALREADY_COUNTED',
      `feedback for this prediction was already counted (heads: ${repeated.join(', ')})`,
    );
  }
  ctx.seen.reserve(keys.length, nowMs);
  const expiresAt = (claims.issuedAt + ctx.signer.ttlSeconds) * 1000 + 1000;
  for (const k of keys) ctx.seen.add(k, expiresAt);
  return { version: claims.version, accepted };
}
