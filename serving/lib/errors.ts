// One typed error for everything a request or a model directory can get wrong, and ONE
// mapping from its code to an HTTP status, so that /predict, /feedback, the OIP v2 routes
// and the CLI all agree on what a failure means.

export type ErrorCode =
  | 'INVALID_INPUT' // malformed body, wrong JSON shape, bad base64
  | 'CORRUPT_IMAGE' // bytes that sharp cannot decode
  | 'WRONG_TENSOR' // tensor of the wrong shape, datatype or length
  | 'UNKNOWN_LABEL' // feedback names a head or label the model does not have
  | 'NOT_FOUND' // no such route
  | 'UNKNOWN_MODEL' // OIP route names another model
  | 'METHOD_NOT_ALLOWED'
  | 'PAYLOAD_TOO_LARGE' // body bytes or images per request over the limit
  | 'TOO_MANY_PIXELS' // decoded size over the limit (decompression bomb)
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'REQUEST_TIMEOUT' // the client did not send its body in time
  | 'TOKEN_INVALID' // predictionId is not a token at all
  | 'TOKEN_FORGED' // signature does not verify, or issued for another model
  | 'TOKEN_EXPIRED'
  | 'ALREADY_COUNTED' // feedback for this predictionId was already counted
  | 'NOT_READY' // model not loaded yet, or draining
  | 'DEADLINE_EXCEEDED' // the server could not finish in time (overload)
  | 'INVALID_ARTIFACT' // model directory breaks the artifact contract
  | 'SIGNATURE_MISMATCH' // modelship.json disagrees with the ONNX graph
  | 'INFERENCE_FAILED'
  | 'INTERNAL';

const statusByCode: Record<ErrorCode, number> = {
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
  TOKEN_INVALID: 401,
  TOKEN_FORGED: 403,
  TOKEN_EXPIRED: 410,
  ALREADY_COUNTED: 409,
  NOT_READY: 503,
  DEADLINE_EXCEEDED: 503,
  INVALID_ARTIFACT: 500,
  SIGNATURE_MISMATCH: 500,
  INFERENCE_FAILED: 500,
  INTERNAL: 500,
};

export class ServingError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ServingError';
    this.code = code;
  }
}

/** Any thrown value as a ServingError; unknown failures become INTERNAL (never leak a stack). */
export function asServingError(err: unknown): ServingError {
  if (err instanceof ServingError) return err;
  return new ServingError('INTERNAL', 'internal error', { cause: err });
}

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
