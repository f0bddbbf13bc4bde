// What stands in front of s3rver's request handler so that the dev cluster's object store
// refuses and accepts what S3 does where it matters to Modelship's clients:
// - anonymous requests are refused (403 AccessDenied), as S3 refuses them on a private bucket;
//   s3rver serves every unsigned request;
// - V4 signatures are verified (sigv4.ts); s3rver checks only the access key id;
// - aws-chunked bodies are decoded (aws-chunked.ts); s3rver would store the framing;
// - AbortMultipartUpload answers 204 and drops the parts; s3rver answers 405 MethodNotAllowed,
//   which @aws-sdk/lib-storage would report in place of the error that made it abort.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { AwsChunkedDecoder, decodedHeaders, isAwsChunked } from './aws-chunked.js';
import { authMechanism, verifySigV4, type S3Credentials, type S3Refusal } from './sigv4.js';

export interface FrontOptions {
  credentials: S3Credentials;
  /** s3rver's own handler (`s3rver.callback()`). */
  next: RequestListener;
  /** Where s3rver keeps a bucket's multipart uploads (its store's `uploads` resource path). */
  uploadsDir(bucket: string): string;
  bucketExists(bucket: string): boolean;
}

export function s3Front(opts: FrontOptions): RequestListener {
  return (req, res) => {
    const refusal = authenticate(req, opts.credentials);
    if (refusal) {
      sendError(res, req, refusal);
      return;
    }
    const { bucket, key, query } = target(req.url ?? '/');
    if (req.method === 'DELETE' && key && query.has('uploadId')) {
      void abortUpload(opts, res, { bucket, key, uploadId: query.get('uploadId') ?? '' }).catch((err) =>
        sendError(res, req, { status: 500, code: 'InternalError', message: (err as Error).message }),
      );
      return;
    }
    opts.next(isAwsChunked(req.headers) ? decodedRequest(req) : req, res);
  };
}

function authenticate(req: IncomingMessage, credentials: S3Credentials): S3Refusal | undefined {
  // CORS preflights are never signed, on S3 either.
  if (req.method === 'OPTIONS') return undefined;
  const signed = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers };
  switch (authMechanism(signed)) {
    case 'none':
      return { status: 403, code: 'AccessDenied', message: 'Access Denied' };
    case 'v2':
      return undefined; // s3rver verifies V2 signatures itself, against the same key pair
    default:
      return verifySigV4(signed, credentials);
  }
}

function target(url: string): { bucket: string; key: string; query: URLSearchParams } {
  const [path, query = ''] = url.split('?', 2);
  const [bucket = '', ...rest] = path.replace(/^\//, '').split('/');
  return { bucket: decodePart(bucket), key: decodePart(rest.join('/')), query: new URLSearchParams(query) };
}

function decodePart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

async function abortUpload(
  opts: FrontOptions,
  res: ServerResponse,
  t: { bucket: string; key: string; uploadId: string },
): Promise<void> {
  if (!opts.bucketExists(t.bucket)) {
    sendError(res, undefined, { status: 404, code: 'NoSuchBucket', message: 'The specified bucket does not exist' });
    return;
  }
  const dir = join(opts.uploadsDir(t.bucket), t.uploadId);
  if (!/^[0-9a-f]+$/.test(t.uploadId) || !existsSync(dir)) {
    sendError(res, undefined, {
      status: 404,
      code: 'NoSuchUpload',
      message:
        'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    });
    return;
  }
  await rm(dir, { recursive: true, force: true });
  res.statusCode = 204;
  res.end();
}

/** The request as s3rver should see it: same socket and URL, decoded body and headers. */
function decodedRequest(req: IncomingMessage): IncomingMessage {
  const body = new PassThrough();
  req
    .pipe(new AwsChunkedDecoder())
    .on('error', (err) => body.destroy(err))
    .pipe(body);
  return Object.assign(body, {
    headers: decodedHeaders(req.headers),
    rawHeaders: req.rawHeaders,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    socket: req.socket,
    connection: req.socket,
  }) as unknown as IncomingMessage;
}

function sendError(res: ServerResponse, req: IncomingMessage | undefined, e: S3Refusal): void {
  // The body is not read: let it drain so the connection can be reused.
  req?.resume();
  const body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${e.code}</Code><Message>${escapeXml(e.message)}</Message></Error>`;
  res.writeHead(e.status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body) });
  res.end(req?.method === 'HEAD' ? undefined : body);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
