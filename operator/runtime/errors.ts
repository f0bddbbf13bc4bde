// Typed errors for Kubernetes API calls. Controllers branch on the class (NotFound, Conflict,
// Invalid, Unavailable), never on status codes or message text; the original failure is kept
// as `cause` so logs show the whole chain.

/** One entry of a Status' `details.causes` (which field was rejected, and why). */
export interface StatusCause {
  field?: string;
  reason?: string;
  message?: string;
}

/** The parts of a `meta/v1` Status body the runtime uses. */
export interface ApiStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; kind?: string; causes?: StatusCause[] };
}

/** What an error carries besides its code and reason: the server's Status, and the failure behind it. */
export interface KubeApiErrorDetails {
  status?: ApiStatus;
  /** Kept only when given (an error without a cause has no `cause` property at all). */
  cause?: unknown;
}

export class KubeApiError extends Error {
  // Declared before `name` so the fields keep their order (statusCode, reason, status, name) in logs.
  readonly status?: ApiStatus;
  override name = 'KubeApiError';
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    readonly reason: string | undefined,
    details: KubeApiErrorDetails = {},
  ) {
    super(message, 'cause' in details ? { cause: details.cause } : undefined);
    this.status = details.status;
  }
}

export class NotFoundError extends KubeApiError {
  override name = 'NotFoundError';
}
export class AlreadyExistsError extends KubeApiError {
  override name = 'AlreadyExistsError';
}
/** 409 on a stale resourceVersion: re-read, re-compute, retry. */
export class ConflictError extends KubeApiError {
  override name = 'ConflictError';
}
/** 410: the resourceVersion a watch asked for is no longer in the server's window: re-list. */
export class GoneError extends KubeApiError {
  override name = 'GoneError';
}
export class ForbiddenError extends KubeApiError {
  override name = 'ForbiddenError';
}

/** 422 (or 400 with causes): the object was rejected; `causes` says which fields and why. */
export class InvalidError extends KubeApiError {
  override name = 'InvalidError';
  get causes(): StatusCause[] {
    return this.status?.details?.causes ?? [];
  }
}

/** The server could not be reached or answered 429/5xx: worth retrying later. */
export class UnavailableError extends KubeApiError {
  override name = 'UnavailableError';
}

/** Builds the typed error for a non-2xx answer. `body` is the parsed Status when there is one. */
export function errorFromResponse(statusCode: number, body: unknown, what: string, cause?: unknown): KubeApiError {
  const status = isApiStatus(body) ? body : undefined;
  const detail = status?.message ?? (typeof body === 'string' && body ? body.slice(0, 300) : `HTTP ${statusCode}`);
  const details: KubeApiErrorDetails = cause === undefined ? { status } : { status, cause };
  const ErrorClass = errorClassFor(statusCode, status);
  return new ErrorClass(`${what}: ${detail}`, statusCode, status?.reason, details);
}

type KubeApiErrorClass = new (...args: ConstructorParameters<typeof KubeApiError>) => KubeApiError;

/** The class controllers branch on, for a status code and the reason and causes of its Status. */
function errorClassFor(statusCode: number, status: ApiStatus | undefined): KubeApiErrorClass {
  switch (true) {
    case statusCode === 404:
      return NotFoundError;
    case statusCode === 409 && status?.reason === 'AlreadyExists':
      return AlreadyExistsError;
    case statusCode === 409:
      return ConflictError;
    case statusCode === 410:
      return GoneError;
    case statusCode === 403 || statusCode === 401:
      return ForbiddenError;
    case statusCode === 422:
      return InvalidError;
    case statusCode === 400 && (status?.details?.causes?.length ?? 0) > 0:
      return InvalidError;
    case statusCode === 429 || statusCode >= 500:
      return UnavailableError;
    default:
      return KubeApiError;
  }
}

/** A transport failure (refused, reset, timed out) before any HTTP answer. */
export function unavailable(what: string, cause: unknown): UnavailableError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new UnavailableError(`${what}: ${detail}`, undefined, 'ServiceUnavailable', { cause });
}

export function isApiStatus(body: unknown): body is ApiStatus {
  return typeof body === 'object' && body !== null && (body as ApiStatus).kind === 'Status';
}

export const isNotFound = (e: unknown): e is NotFoundError => e instanceof NotFoundError;
export const isConflict = (e: unknown): e is ConflictError => e instanceof ConflictError;
export const isAlreadyExists = (e: unknown): e is AlreadyExistsError => e instanceof AlreadyExistsError;

/** Returns undefined instead of throwing when the object is gone (the usual "already deleted"). */
export async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}
