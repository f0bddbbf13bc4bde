// Handlers return a Reply instead of writing to the response, so that every path (success,
// error, deadline) is measured and written in one place: writeReply.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  contentType?: string;
}

/** Per-request state shared by the dispatcher and the handler. */
export interface RequestContext {
  started: number;
  bodyDone: boolean;
  /** set when the deadline answered for the handler: its late results must not be counted */
  abandoned: boolean;
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
  const body = reply.json !== undefined ? JSON.stringify(reply.json) : reply.text ?? '';
  const headers: Record<string, string | number> = {
    'content-type': reply.json !== undefined ? 'application/json' : reply.contentType ?? 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-modelship-version': opts.version,
  };
  // While draining, tell keep-alive clients to reconnect (to another replica); after a
  // refused body (too large, too slow) close rather than read the rest of it.
  if (opts.draining || !req.complete) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
