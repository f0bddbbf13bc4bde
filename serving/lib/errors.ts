// One typed error for everything a request or a model directory can get wrong, thrown by
// every layer (model, pipeline, protocol, cli), so that one code names one failure. Its
// single mapping to an HTTP status lives with the server (protocol/error-status.ts).

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
  | 'UNAUTHENTICATED' // feedback without the credential the service requires
  | 'NOT_READY' // model not loaded yet, or draining
  | 'OVERLOADED' // admission refused: too many requests or bytes in flight, or replay memory full
  | 'DEADLINE_EXCEEDED' // the server could not finish in time (overload)
  | 'INVALID_ARTIFACT' // model directory breaks the artifact contract
  | 'SIGNATURE_MISMATCH' // modelship.json disagrees with the ONNX graph
  | 'INFERENCE_FAILED'
  | 'INTERNAL';

export class ServingError extends Error {
  readonly code: ErrorCode;
  /** sent as Retry-After: when trying again has a chance */
  readonly retryAfterSeconds?: number;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.name = 'ServingError';
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** Any thrown value as a ServingError; unknown failures become INTERNAL (never leak a stack). */
export function asServingError(err: unknown): ServingError {
  if (err instanceof ServingError) return err;
  return new ServingError('INTERNAL', 'internal error', { cause: err });
}
