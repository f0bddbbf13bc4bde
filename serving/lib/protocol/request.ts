// One request's plumbing, shared by the server and the routes: its context, its deadline, and
// the Reply handlers return instead of writing to the response, so that every path (success,
// error, deadline) is measured and written in one place: writeReply.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ServingError } from '../errors.js';
import { lingerOnClose } from './linger.js';

export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  contentType?: string;
  /** Further response headers (the web page's security policy). */
  headers?: Readonly<Record<string, string>>;
}

/** Per-request state shared by the dispatcher and the handler. */
export interface RequestContext {
  started: number;
  bodyDone: boolean;
  /** set when the deadline answered for the handler: its late results must not be counted */
  abandoned: boolean;
}

/**
 * Throws when the deadline has already answered for this request: the work still ahead of it
 * (decoding, inference) would only take time from requests someone is waiting for.
 */
export function stillAwaited(ctx: RequestContext, next: string): void {
  if (ctx.abandoned) throw new ServingError('DEADLINE_EXCEEDED', `deadline passed before ${next}; not started`);
}

/**
 * Rejects after ms with REQUEST_TIMEOUT (body still arriving) or DEADLINE_EXCEEDED, and marks
 * the request abandoned so that a handler finishing later does not count its predictions.
 */
export function requestDeadline(ctx: RequestContext, ms: number): { expired: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctx.abandoned = true;
      reject(
        ctx.bodyDone
          ? new ServingError('DEADLINE_EXCEEDED', `request not answered within ${ms} ms`)
          : new ServingError('REQUEST_TIMEOUT', `request body not received within ${ms} ms`),
      );
    }, ms);
  });
  return { expired, cancel: () => clearTimeout(timer) };
}

export const json = (status: number, body: unknown): Reply => ({ status, json: body });

export interface ReplyHeaders {
  /** the served model version, sent as x-modelship-version */
  version: string;
  /** the server is draining: keep-alive clients must reconnect elsewhere */
  draining: boolean;
}

/** Writes a Reply once; a response already sent (or a connection gone) is left alone. */
export function writeReply(req: IncomingMessage, res: ServerResponse, reply: Reply, opts: ReplyHeaders): void {
  if (res.headersSent || res.destroyed) return;
  const body = reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? '');
  const headers: Record<string, string | number> = {
    ...reply.headers,
    'content-type': reply.json !== undefined ? 'application/json' : (reply.contentType ?? 'text/plain; charset=utf-8'),
    'content-length': Buffer.byteLength(body),
    // Every answer is what its content-type says: no browser sniffs JSON or text into HTML.
    'x-content-type-options': 'nosniff',
    'x-modelship-version': opts.version,
  };
  // While draining, tell keep-alive clients to reconnect (to another replica); after a
  // refused body (at capacity, too large, too slow) close rather than read the rest of it.
  if (opts.draining || !req.complete) headers.connection = 'close';
  if (!req.complete) lingerOnClose(req.socket);
  res.writeHead(reply.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
