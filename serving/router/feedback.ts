// Feedback goes to one replica per prediction: the router reads the (small) feedback body,
// takes the predictionId's MAC and picks, by rendezvous hashing, one of the ready pods of the
// upstream, so a replay always reaches the replica that remembers counting it. A Service would
// spread the same token over every replica, each with its own memory.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** Feedback is a token and a few labels; anything bigger is not feedback. */
export const MAX_FEEDBACK_BYTES = 64 * 1024;

export class FeedbackBodyError extends Error {
  constructor(
    readonly code: 'PAYLOAD_TOO_LARGE' | 'REQUEST_TIMEOUT' | 'CLIENT_GONE',
    message: string,
  ) {
    super(message);
    this.name = 'FeedbackBodyError';
  }
}

/** The whole body, at most MAX_FEEDBACK_BYTES, within `timeoutMs` of silence. */
export function readFeedbackBody(req: IncomingMessage, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > MAX_FEEDBACK_BYTES) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer = setTimeout(
      () => fail(new FeedbackBodyError('REQUEST_TIMEOUT', `feedback body stalled for ${timeoutMs} ms`)),
      timeoutMs,
    );
    const fail = (err: FeedbackBodyError) => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      req.resume();
      reject(err);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FEEDBACK_BYTES) return fail(tooLarge());
      chunks.push(chunk);
      clearTimeout(timer);
      timer = setTimeout(
        () => fail(new FeedbackBodyError('REQUEST_TIMEOUT', `feedback body stalled for ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    req.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks, size));
    });
    req.once('aborted', () => fail(new FeedbackBodyError('CLIENT_GONE', 'the client went away')));
  });
}

const tooLarge = () =>
  new FeedbackBodyError('PAYLOAD_TOO_LARGE', `a feedback body is at most ${MAX_FEEDBACK_BYTES} bytes`);

/** The MAC part of the body's predictionId, or undefined when there is none to route by. */
export function predictionKey(body: Buffer): string | undefined {
  try {
    const id = (JSON.parse(body.toString('utf8')) as { predictionId?: unknown }).predictionId;
    return typeof id === 'string' && id.includes('.') ? id.slice(id.lastIndexOf('.') + 1) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Rendezvous (highest random weight) hashing: the endpoint with the highest hash of (key,
 * endpoint). A key stays on its endpoint while that endpoint is there; adding or removing one
 * endpoint moves only the keys that land on, or were on, it.
 */
export function pickEndpoint(endpoints: readonly string[], key: string): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const endpoint of endpoints) {
    const score = createHash('sha256').update(key).update('\0').update(endpoint).digest().readBigUInt64BE(0);
    if (score > bestScore) {
      best = endpoint;
      bestScore = score;
    }
  }
  return best;
}
