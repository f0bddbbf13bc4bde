// The router's error responses share the serving API's shape: {"error": {"code", "message"}}.
import type { ServerResponse } from 'node:http';
import { lingerOnClose } from '../lib/protocol/linger.js';

export type RouterErrorCode =
  | 'NO_UPSTREAM'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_TIMEOUT'
  | 'REQUEST_TIMEOUT'
  | 'PAYLOAD_TOO_LARGE'
  | 'NOT_FOUND'
  | 'SHUTTING_DOWN';

export const STATUS_OF: Record<RouterErrorCode, number> = {
  NO_UPSTREAM: 503,
  UPSTREAM_UNAVAILABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  // The client's own slowness: never counted as the upstream's failure.
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  NOT_FOUND: 404,
  SHUTTING_DOWN: 503,
};

export function errorBody(code: RouterErrorCode, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

/** Writes a JSON error unless a response is already under way (then the socket is cut). */
export function sendError(
  res: ServerResponse,
  code: RouterErrorCode,
  message: string,
  extra: Record<string, string> = {},
): number {
  const status = STATUS_OF[code];
  if (res.headersSent) {
    res.destroy();
    return status;
  }
  const body = errorBody(code, message);
  // A body still arriving is not read: close, lingering so the client can read this answer.
  const unread = !res.req.complete;
  if (unread) lingerOnClose(res.req.socket);
  res.writeHead(status, {
    ...extra,
    ...(unread ? { connection: 'close' } : {}),
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
  return status;
}
