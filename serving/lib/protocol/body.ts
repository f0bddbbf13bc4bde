// Reading a request body with a byte limit and a deadline, both enforced while streaming.
import type { IncomingMessage } from 'node:http';
import { ServingError } from '../errors.js';

export function readBody(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    return Promise.reject(
      new ServingError('PAYLOAD_TOO_LARGE', `body of ${declared} bytes is over the limit of ${maxBytes}`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (err: ServingError | null, body?: Buffer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.off('data', onData);
      if (err) {
        // Keep draining (discarding) so the client can read our error response.
        req.resume();
        reject(err);
      } else resolve(body!);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(new ServingError('PAYLOAD_TOO_LARGE', `body is over the limit of ${maxBytes} bytes`));
      else chunks.push(chunk);
    };
    const timer = setTimeout(
      () => finish(new ServingError('REQUEST_TIMEOUT', `body not received within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('data', onData);
    req.once('end', () => finish(null, Buffer.concat(chunks, size)));
    req.once('error', (err) =>
      finish(new ServingError('INVALID_INPUT', `request body: ${err.message}`, { cause: err })),
    );
    req.once('aborted', () => finish(new ServingError('INVALID_INPUT', 'request aborted by the client')));
  });
}

export function mediaTypeOf(req: IncomingMessage): string {
  return mediaTypeOfHeader(String(req.headers['content-type'] ?? ''));
}

/** "Image/PNG; q=1" → "image/png": the content type without parameters, lower case. */
export function mediaTypeOfHeader(contentType: string): string {
  return contentType.split(';')[0].trim().toLowerCase();
}

/** The limits a JSON body is held to before it is parsed. */
export interface JsonLimits {
  maxJsonBytes: number;
  maxJsonDepth: number;
}

/**
 * Whether arrays and objects nest deeper than `max` (one pass over the bytes, strings skipped):
 * checked before JSON.parse, whose time and stack grow with the nesting of hostile input.
 */
export function nestsDeeperThan(body: Buffer, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

export function parseJson(body: Buffer, limits: JsonLimits): unknown {
  if (body.length > limits.maxJsonBytes)
    throw new ServingError(
      'PAYLOAD_TOO_LARGE',
      `JSON body of ${body.length} bytes is over the limit of ${limits.maxJsonBytes} for JSON (--max-json-bytes); send images as image bodies or multipart`,
    );
  if (nestsDeeperThan(body, limits.maxJsonDepth))
    throw new ServingError(
      'INVALID_INPUT',
      `JSON body nests arrays or objects deeper than ${limits.maxJsonDepth} levels`,
    );
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ServingError('INVALID_INPUT', `body is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
