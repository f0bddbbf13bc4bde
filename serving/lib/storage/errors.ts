// The object-storage steps' one typed error and the ONE place that turns whatever failed (an
// S3 service error, an HTTP status, a socket error, a file-system error) into a reason. The
// reason is what the operator reads from the termination message, so it names the failure the
// user can fix; the message says where. No AWS SDK import: `serve` loads this file too.

export type StorageReason =
  | 'UnsupportedScheme' // a URI scheme the step cannot read or write
  | 'StorageUnreachable' // DNS, connection refused or reset, timeouts
  | 'StorageAccessDenied' // 401/403, unknown key id, bad signature
  | 'StorageCertificateUntrusted' // the server's TLS certificate is not one the image trusts
  | 'NoSuchBucket'
  | 'ArtifactNotFound' // nothing under the prefix, a required file answered 404, an empty --from
  | 'ArtifactTooLarge' // over --max-bytes
  | 'DigestMismatch' // model.onnx is not the model the caller expected
  | 'UnsafeObjectKey' // a key or archive entry that would land outside the target folder
  | 'InvalidArchive' // a .tar/.tar.gz that cannot be read
  | 'StorageRequestFailed' // any other answer of the store (5xx after the retries, other 4xx)
  | 'LocalIOError' // the local folder cannot be read or written (ENOSPC, EACCES, EROFS)
  | 'InvalidArguments' // a bad flag or environment variable (exit code 2)
  | 'Internal';

export class StorageError extends Error {
  readonly reason: StorageReason;
  /** Worth another attempt: network errors, 5xx, throttling. */
  readonly retryable: boolean;
  constructor(reason: StorageReason, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, { cause: options?.cause });
    this.name = 'StorageError';
    this.reason = reason;
    this.retryable = options?.retryable ?? false;
  }
}

/** A non-2xx answer of a plain HTTP(S) server (the S3 SDK throws its own service errors). */
export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly target: string,
  ) {
    super(`${target} answered HTTP ${status}`);
    this.name = 'HttpStatusError';
  }
}

/** What was being read or written, for the message: a redacted URI and, for S3, the endpoint. */
export interface FailureContext {
  target: string;
  endpoint?: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'AbortError']);
/** Node's TLS verification codes: the server answered, but with a certificate we cannot trust. */
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const LOCAL_CODES = new Set(['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EISDIR', 'ENOTDIR', 'EDQUOT', 'EMFILE']);
const DENIED = new Set([
  'AccessDenied',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'Forbidden',
]);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'RequestTimeout', 'TooManyRequests']);
/** Thrown by the SDK's default chain when it found no credentials at all. */
const NO_CREDENTIALS = new Set(['CredentialsProviderError']);

interface ErrorLike {
  name?: string;
  code?: string;
  message?: string;
  errors?: unknown[];
  $metadata?: { httpStatusCode?: number };
}

/** The system error code, looking into AggregateError (both address families refused) and causes. */
function systemCode(err: ErrorLike, depth = 0): string | undefined {
  if (typeof err.code === 'string' && err.code) return err.code;
  if (depth > 3) return undefined;
  const inner = err.errors?.[0] ?? (err as { cause?: unknown }).cause;
  return inner && typeof inner === 'object' ? systemCode(inner as ErrorLike, depth + 1) : undefined;
}

function fromStatus(status: number, code: string, ctx: FailureContext): StorageError {
  const what = `${ctx.target}: ${code ? `${code} (HTTP ${status})` : `HTTP ${status}`}`;
  if (status === 401 || status === 403 || DENIED.has(code))
    return new StorageError(
      'StorageAccessDenied',
      `${what}: access denied; check the credentials (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the pod's IAM role or workload identity) and the bucket policy`,
    );
  if (code === 'NoSuchBucket') return new StorageError('NoSuchBucket', `${what}: the bucket does not exist${at(ctx)}`);
  if (status === 404 || code === 'NoSuchKey')
    return new StorageError('ArtifactNotFound', `${what}: not found${at(ctx)}`);
  const retryable = status >= 500 || status === 429 || status === 408 || THROTTLED.has(code);
  return new StorageError('StorageRequestFailed', `${what}${at(ctx)}`, { retryable });
}

const at = (ctx: FailureContext): string => (ctx.endpoint ? ` (endpoint ${ctx.endpoint})` : '');

/**
 * Any failure of a storage step as a StorageError. Messages of classified failures are built
 * here from codes and statuses, never from the store's text, so that no credential, string to
 * sign or signed URL leaks; only an unclassified error (a bug) keeps its own message.
 */
export function classifyError(err: unknown, ctx: FailureContext): StorageError {
  if (err instanceof StorageError) return err;
  if (err instanceof HttpStatusError) return fromStatus(err.status, '', ctx);
  if (!err || typeof err !== 'object') return new StorageError('Internal', `${ctx.target}: ${String(err)}`);
  const e = err as ErrorLike;
  const status = e.$metadata?.httpStatusCode;
  if (status) return fromStatus(status, e.name && e.name !== 'Unknown' ? e.name : '', ctx);
  return fromLocal(e, ctx);
}

/** A failure without an answer from the store: the network, the local disk, the credential chain, or a bug. */
function fromLocal(e: ErrorLike, ctx: FailureContext): StorageError {
  const code = systemCode(e);
  const name = e.name ?? 'Error';
  if ((code && NETWORK_CODES.has(code)) || NETWORK_NAMES.has(name))
    return new StorageError('StorageUnreachable', `${ctx.target}: cannot reach the store${at(ctx)}: ${code ?? name}`, {
      cause: e,
      retryable: true,
    });
  if (code && TLS_CODES.has(code))
    return new StorageError(
      'StorageCertificateUntrusted',
      `${ctx.target}: the server's TLS certificate is not trusted (${code}): it must chain to a CA the image trusts`,
      { cause: e },
    );
  if (code && LOCAL_CODES.has(code))
    return new StorageError('LocalIOError', `${ctx.target}: local file system: ${code}`, { cause: e });
  if (NO_CREDENTIALS.has(name))
    return new StorageError(
      'StorageAccessDenied',
      `${ctx.target}: no credentials found (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, web identity, container or instance role)`,
      { cause: e },
    );
  return new StorageError('Internal', `${ctx.target}: ${name}: ${e.message ?? code ?? ''}`, { cause: e });
}

/** The one-line termination message, cut to fit the kubelet's 4 KiB. */
export function failureLine(err: StorageError): string {
  return JSON.stringify({ reason: err.reason, message: err.message.slice(0, 3500) }) + '\n';
}
