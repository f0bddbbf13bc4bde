// Verifies AWS Signature Version 4 on requests to the dev cluster's object store, as S3 does.
// s3rver 3.7 checks only that a V4 request names a known access key and never computes the
// signature, so a client holding the right key id and a wrong secret would succeed here and
// fail on every real S3 endpoint; this check closes that gap. Both the Authorization header
// and presigned URLs (X-Amz-* query parameters) are verified; the payload hash is taken as the
// client declares it (x-amz-content-sha256), not recomputed from the body, and the chunk
// signatures of STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies are not checked (README: differences).
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export interface SignedRequest {
  method: string;
  /** Path and query exactly as received (`req.url`). */
  url: string;
  headers: IncomingHttpHeaders;
}

/** An S3 error: its code, HTTP status and message as S3 words them. */
export interface S3Refusal {
  status: number;
  code: string;
  message: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';

interface Parsed {
  accessKeyId: string;
  scope: string[];
  signedHeaders: string[];
  signature: string;
  amzDate: string | undefined;
  payloadHash: string;
  /** The query string the signature covers (presigned URLs leave X-Amz-Signature out). */
  query: [string, string][];
}

/** How a request authenticates: `none` is anonymous, `v2` is left to s3rver (which verifies it). */
export function authMechanism(req: SignedRequest): 'v4-header' | 'v4-query' | 'v2' | 'none' {
  const auth = header(req.headers, 'authorization');
  if (auth !== undefined) return auth.startsWith(`${ALGORITHM} `) ? 'v4-header' : 'v2';
  const query = parseQuery(req.url);
  if (query.some(([k]) => k === 'X-Amz-Algorithm')) return 'v4-query';
  if (query.some(([k]) => k === 'Signature')) return 'v2';
  return 'none';
}

/** undefined when the request is signed with these credentials; otherwise S3's refusal. */
export function verifySigV4(req: SignedRequest, creds: S3Credentials): S3Refusal | undefined {
  const parsed = authMechanism(req) === 'v4-query' ? parseQueryAuth(req) : parseHeaderAuth(req);
  if ('code' in parsed) return parsed;
  if (parsed.accessKeyId !== creds.accessKeyId) {
    return {
      status: 403,
      code: 'InvalidAccessKeyId',
      message: 'The AWS Access Key Id you provided does not exist in our records.',
    };
  }
  const [date, region, service, terminator] = parsed.scope;
  if (region !== creds.region) {
    return malformed(`the region '${region}' is wrong; expecting '${creds.region}'`);
  }
  if (service !== 's3' || terminator !== 'aws4_request' || !/^\d{8}$/.test(date ?? '')) {
    return malformed(`incorrect credential scope '${parsed.scope.join('/')}'`);
  }
  if (!parsed.amzDate) {
    return {
      status: 403,
      code: 'AccessDenied',
      message: 'AWS authentication requires a valid Date or x-amz-date header',
    };
  }
  const canonical = canonicalRequest(req, parsed);
  const stringToSign = [ALGORITHM, parsed.amzDate, parsed.scope.join('/'), sha256Hex(canonical)].join('\n');
  let key: Buffer = hmac(`AWS4${creds.secretAccessKey}`, date);
  for (const part of [region, service, terminator]) key = hmac(key, part);
  const expected = Buffer.from(hmac(key, stringToSign).toString('hex'));
  const provided = Buffer.from(parsed.signature);
  if (expected.length === provided.length && timingSafeEqual(expected, provided)) return undefined;
  return {
    status: 403,
    code: 'SignatureDoesNotMatch',
    message:
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  };
}

function parseHeaderAuth(req: SignedRequest): Parsed | S3Refusal {
  const auth = header(req.headers, 'authorization') ?? '';
  const fields = new Map(
    auth
      .slice(ALGORITHM.length)
      .split(',')
      .map((f) => f.trim().split('=') as [string, string | undefined]),
  );
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    return malformed('the authorization header requires three components: Credential, SignedHeaders, and Signature.');
  }
  const payloadHash = header(req.headers, 'x-amz-content-sha256');
  if (payloadHash === undefined) {
    return {
      status: 400,
      code: 'InvalidRequest',
      message: 'Missing required header for this request: x-amz-content-sha256',
    };
  }
  const [accessKeyId, ...scope] = credential.split('/');
  return {
    accessKeyId,
    scope,
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate: header(req.headers, 'x-amz-date'),
    payloadHash,
    query: parseQuery(req.url),
  };
}

function parseQueryAuth(req: SignedRequest): Parsed | S3Refusal {
  const all = parseQuery(req.url);
  const get = (k: string) => all.find(([name]) => name === k)?.[1];
  const credential = get('X-Amz-Credential');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const signature = get('X-Amz-Signature');
  if (get('X-Amz-Algorithm') !== ALGORITHM || !credential || !signedHeaders || !signature || !get('X-Amz-Date')) {
    return {
      status: 400,
      code: 'AuthorizationQueryParametersError',
      message:
        'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    };
  }
  const [accessKeyId, ...scope] = credential.split('/');
  return {
    accessKeyId,
    scope,
    signedHeaders: signedHeaders.split(';'),
    signature,
    amzDate: get('X-Amz-Date'),
    payloadHash: get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD',
    query: all.filter(([k]) => k !== 'X-Amz-Signature'),
  };
}

/** S3 signs the path as sent (no second encoding, no dot-segment normalization). */
function canonicalRequest(req: SignedRequest, parsed: Parsed): string {
  const path = req.url.split('?')[0] || '/';
  const query = parsed.query
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([ak, av], [bk, bv]) => (ak === bk ? compare(av, bv) : compare(ak, bk)))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = parsed.signedHeaders.map(
    (name) => `${name}:${(header(req.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`,
  );
  return [req.method, path, query, headers.join(''), parsed.signedHeaders.join(';'), parsed.payloadHash].join('\n');
}

function parseQuery(url: string): [string, string][] {
  const at = url.indexOf('?');
  if (at < 0) return [];
  return url
    .slice(at + 1)
    .split('&')
    .filter((p) => p !== '')
    .map((p) => {
      const eq = p.indexOf('=');
      const [k, v] = eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
      return [decode(k), decode(v)];
    });
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function malformed(detail: string): S3Refusal {
  return {
    status: 400,
    code: 'AuthorizationHeaderMalformed',
    message: `The authorization header is malformed; ${detail}`,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}
