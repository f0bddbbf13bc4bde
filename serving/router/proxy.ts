// Forwards one request to one upstream, streaming both bodies (no buffering, so large uploads
// and downloads cost constant memory), and optionally a fire-and-forget mirror copy.
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { Upstream } from './config.js';
import { sendError } from './errors.js';
import { endToEnd, upstreamRequestHeaders } from './headers.js';
import { ROLE_HEADER, VERSION_HEADER } from './table.js';
import { MAX_ANSWER_BYTES } from './shadow-join.js';
import type { UpstreamPool } from './upstreams.js';

export interface ForwardContext {
  pool: UpstreamPool;
  /** Upstream socket idle limit; before response headers it yields 504. */
  timeoutMs: number;
  /** Request body idle limit: a client that stops sending its body gets 408. */
  clientBodyTimeoutMs: number;
  /** The body, already read (feedback), instead of streaming the request's. */
  body?: Buffer;
  /** Where to send it instead of the upstream's URL: one of its endpoints. */
  targetUrl?: string;
  /** Called once when the client got its status code (or the exchange was cut). */
  done(status: number, upstreamSeconds: number | undefined): void;
  /** Called once with the upstream's status and whole answer (undefined if cut or too big). */
  onAnswer?: AnswerListener;
}

export type AnswerListener = (status: number, body: Buffer | undefined) => void;

/**
 * Hands `listener` the whole body of `res` (at most `limit` bytes, else undefined) once it
 * ended, without taking it from whoever else reads it. Exactly one call, also when cut.
 */
export function collectAnswer(res: IncomingMessage, limit: number, listener: AnswerListener): void {
  const status = res.statusCode ?? 0;
  const chunks: Buffer[] = [];
  let size = 0;
  let called = false;
  const call = (body: Buffer | undefined) => {
    if (called) return;
    called = true;
    listener(status, body);
  };
  res.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  });
  res.once('end', () => call(size <= limit ? Buffer.concat(chunks, size) : undefined));
  res.once('error', () => call(undefined));
  res.once('close', () => call(undefined));
}

/** Request target in origin-form ("/path?q"); absolute-form ("http://h/path") is reduced to it. */
export function originForm(url: string | undefined): string {
  if (!url) return '/';
  if (url.startsWith('/')) return url;
  try {
    const parsed = new URL(url);
    return parsed.pathname + parsed.search;
  } catch {
    return `/${url}`;
  }
}

function identity(upstream: Upstream): Record<string, string> {
  return { [VERSION_HEADER]: upstream.version, [ROLE_HEADER]: upstream.role };
}

export function forward(req: IncomingMessage, res: ServerResponse, upstream: Upstream, ctx: ForwardContext): void {
  const target = ctx.pool.get(ctx.targetUrl ?? upstream.url);
  const started = process.hrtime.bigint();
  let timedOut = false;
  let finished = false;
  const finish = (status: number, seconds?: number) => {
    if (!finished) {
      finished = true;
      ctx.done(status, seconds);
    }
  };

  const upstreamReq = target.request({
    method: req.method,
    path: target.basePath + originForm(req.url),
    headers: upstreamRequestHeaders(
      req.headers,
      { address: req.socket.remoteAddress, encrypted: 'encrypted' in req.socket },
      target.hostHeader,
    ),
  });
  upstreamReq.setTimeout(ctx.timeoutMs, () => {
    timedOut = true;
    upstreamReq.destroy(new Error(`no activity from upstream for ${ctx.timeoutMs} ms`));
  });
  // While the upstream is not taking the body (back-pressure) the wait is ours, not the client's.
  watchClientBody(req, ctx.clientBodyTimeoutMs, upstreamReq, () => finish(clientStalled(res, upstream, ctx)));

  upstreamReq.on('response', (upstreamRes) => {
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const status = upstreamRes.statusCode ?? 502;
    res.writeHead(status, upstreamRes.statusMessage, { ...endToEnd(upstreamRes.headers), ...identity(upstream) });
    if (ctx.onAnswer) collectAnswer(upstreamRes, MAX_ANSWER_BYTES, ctx.onAnswer);
    upstreamRes.pipe(res);
    upstreamRes.on('error', () => res.destroy());
    finish(status, seconds);
  });

  upstreamReq.on('error', (err) => {
    req.unpipe(upstreamReq);
    // A pod the router still lists may be gone (its list is refreshed every 2 s): a buffered
    // body that could not even be delivered goes through the upstream's Service instead.
    if (ctx.body && ctx.targetUrl && !res.headersSent && neverDelivered(err)) {
      finished = true;
      forward(req, res, upstream, { ...ctx, targetUrl: undefined });
      return;
    }
    ctx.onAnswer?.(0, undefined);
    const code = timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE';
    const message = timedOut
      ? `upstream ${upstream.role} (${upstream.version}) did not answer within ${ctx.timeoutMs} ms`
      : `upstream ${upstream.role} (${upstream.version}) failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`;
    // Before the response started we can answer properly; afterwards only cutting is honest.
    finish(sendError(res, code, message, identity(upstream)));
  });

  // The client went away (or the response completed): stop the upstream exchange if unfinished.
  res.on('close', () => {
    if (!res.writableFinished) {
      upstreamReq.destroy();
      finish(499);
    }
  });

  if (ctx.body) upstreamReq.end(ctx.body);
  else req.pipe(upstreamReq);
}

/** The connection failed before the request could reach the pod: safe to send it elsewhere. */
const neverDelivered = (err: NodeJS.ErrnoException): boolean =>
  ['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH'].includes(err.code ?? '');

/** The client stalled, not the upstream: answer 408 for it, and let the upstream go. */
function clientStalled(res: ServerResponse, upstream: Upstream, ctx: ForwardContext): number {
  return sendError(
    res,
    'REQUEST_TIMEOUT',
    `request body stalled: nothing received for ${ctx.clientBodyTimeoutMs} ms`,
    identity(upstream),
  );
}

/**
 * Calls `stalled`, after cutting `upstreamReq` loose, when the body is unfinished and no byte
 * arrived for `ms` while the upstream was ready to take it.
 */
function watchClientBody(req: IncomingMessage, ms: number, upstreamReq: ClientRequest, stalled: () => void): void {
  if (req.complete) return;
  const cut = () => {
    req.unpipe(upstreamReq);
    upstreamReq.removeAllListeners('error');
    upstreamReq.on('error', () => {});
    upstreamReq.destroy();
    stalled();
  };
  const fire = () => (upstreamReq.writableNeedDrain ? reset() : cut());
  let timer = setTimeout(fire, ms);
  const reset = () => {
    clearTimeout(timer);
    timer = setTimeout(fire, ms);
  };
  const stop = () => {
    clearTimeout(timer);
    req.off('data', reset);
  };
  req.on('data', reset);
  req.once('end', stop);
  req.once('close', stop);
}

export interface MirrorContext {
  pool: UpstreamPool;
  timeoutMs: number;
  /** Above this many request bytes waiting for the mirror, the copy is dropped. */
  maxBufferedBytes: number;
  done(result: 'ok' | 'error'): void;
  /** Called once with the mirror's status and whole answer (undefined if it failed or was too big). */
  onAnswer?: AnswerListener;
}

/**
 * Sends a copy of the request to `upstream` and discards the answer. It only listens to the
 * body the primary pipe is already reading, so it never applies back-pressure to the client;
 * a mirror that falls behind by more than `maxBufferedBytes` is dropped.
 */
export function mirror(req: IncomingMessage, upstream: Upstream, ctx: MirrorContext): void {
  const target = ctx.pool.get(upstream.url);
  let settled = false;
  const settle = (result: 'ok' | 'error') => {
    if (!settled) {
      settled = true;
      ctx.done(result);
    }
  };
  const headers = upstreamRequestHeaders(
    req.headers,
    { address: req.socket.remoteAddress, encrypted: 'encrypted' in req.socket },
    target.hostHeader,
  );
  headers['x-modelship-mirror'] = '1';
  const copy = target.request({ method: req.method, path: target.basePath + originForm(req.url), headers });
  copy.setTimeout(ctx.timeoutMs, () => copy.destroy(new Error('mirror timeout')));
  copy.on('response', (res) => {
    if (ctx.onAnswer) collectAnswer(res, MAX_ANSWER_BYTES, ctx.onAnswer);
    res.resume();
    settle('ok');
  });
  copy.on('error', () => {
    ctx.onAnswer?.(0, undefined);
    settle('error');
  });

  const onData = (chunk: Buffer) => {
    if (copy.destroyed) return;
    if (copy.writableLength > ctx.maxBufferedBytes) {
      detach();
      copy.destroy(new Error('mirror fell behind'));
      return;
    }
    copy.write(chunk);
  };
  const onEnd = () => {
    detach();
    copy.end();
  };
  const onAbort = () => {
    detach();
    if (!copy.writableEnded) copy.destroy(new Error('client aborted'));
  };
  const detach = () => {
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('close', onAbort);
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('close', onAbort);
}
