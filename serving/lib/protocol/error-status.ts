// The ONE mapping from an error code to an HTTP status and body, so that /predict,
// /feedback and the OIP v2 routes all agree on what a failure means. Typed over every
// ErrorCode: a new code does not compile until it has a status here.
import { asServingError, type ErrorCode } from '../errors.js';

export const statusByCode: Readonly<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  CORRUPT_IMAGE: 400,
  WRONG_TENSOR: 400,
  UNKNOWN_LABEL: 400,
  NOT_FOUND: 404,
  UNKNOWN_MODEL: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  TOO_MANY_PIXELS: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  REQUEST_TIMEOUT: 408,
  TOKEN_INVALID: 400,
  TOKEN_FORGED: 403,
  TOKEN_EXPIRED: 410,
  ALREADY_COUNTED: 409,
  UNAUTHENTICATED: 401,
  NOT_READY: 503,
  OVERLOADED: 503,
  DEADLINE_EXCEEDED: 503,
  INVALID_ARTIFACT: 500,
  SIGNATURE_MISMATCH: 500,
  INFERENCE_FAILED: 500,
  INTERNAL: 500,
};

export function httpStatusOf(err: unknown): number {
  return statusByCode[asServingError(err).code];
}

/** The body of /predict, /feedback and other friendly routes: {error: {code, message}}. */
export function errorBody(err: unknown): { error: { code: ErrorCode; message: string } } {
  const e = asServingError(err);
  return { error: { code: e.code, message: e.message } };
}

/** The Open Inference Protocol v2 error shape: {"error": "<message>"}. */
export function oipErrorBody(err: unknown): { error: string } {
  const e = asServingError(err);
  return { error: `${e.code}: ${e.message}` };
}

/** Headers an error needs to be actionable: when to retry, how to authenticate. */
export function errorHeaders(err: unknown): Record<string, string> | undefined {
  const e = asServingError(err);
  if (e.code === 'UNAUTHENTICATED') return { 'www-authenticate': 'Bearer realm="modelship-feedback"' };
  if (e.retryAfterSeconds !== undefined) return { 'retry-after': String(e.retryAfterSeconds) };
  return undefined;
}
