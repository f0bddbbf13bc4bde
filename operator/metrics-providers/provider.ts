// The metric-provider plug-in interface: analysis asks instant PromQL queries
// and gets samples back, or a typed error. A provider never turns a failure into a number:
// "unreachable", "bad query" and "no data" stay distinguishable, so that analysis can report
// them as inconclusive instead of silently passing on a 0.

/** A PromQL expression, e.g. `sum(increase(modelship_requests_total{version="3"}[1m]))`. */
export type PromQL = string;

/** One element of an instant-vector (or scalar) result. */
export interface Sample {
  /** Series labels; `{}` for a scalar or an aggregated vector without grouping. */
  labels: Record<string, string>;
  /** May be NaN or ±Infinity (e.g. histogram_quantile over no requests is NaN). */
  value: number;
  /** Evaluation time of the sample. */
  timestamp: Date;
}

export interface MetricProvider {
  /** Provider type, as named in configuration ("prometheus"). */
  readonly type: string;
  /**
   * Instant query evaluated at `at` (now when omitted). Resolves to the samples, `[]` when
   * the expression selects no series. Rejects with a MetricProviderError subclass.
   */
  query(q: PromQL, at?: Date): Promise<Sample[]>;
}

/** Base of every provider failure; `reason` is a machine-readable CamelCase word. */
export abstract class MetricProviderError extends Error {
  abstract readonly reason:
    | 'ProviderUnreachable'
    | 'ProviderTimeout'
    | 'ProviderRefused'
    | 'BadQuery'
    | 'EmptyResult'
    | 'BadResponse'
    | 'UnknownProvider';
}

/** The provider could not be reached (connection refused, DNS, TLS, reset). */
export class ProviderUnreachableError extends MetricProviderError {
  override name = 'ProviderUnreachableError';
  readonly reason = 'ProviderUnreachable' as const;
}

/** No answer within the provider's timeout (client side, or the server's own query timeout). */
export class ProviderTimeoutError extends MetricProviderError {
  override name = 'ProviderTimeoutError';
  readonly reason = 'ProviderTimeout' as const;
}

/** The server refused the query as malformed (Prometheus errorType bad_data, HTTP 400). */
export class BadQueryError extends MetricProviderError {
  override name = 'BadQueryError';
  readonly reason = 'BadQuery' as const;
  constructor(
    message: string,
    readonly query: PromQL,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A query that must select data selected none (raised by requireSamples, not by query()). */
export class EmptyResultError extends MetricProviderError {
  override name = 'EmptyResultError';
  readonly reason = 'EmptyResult' as const;
  constructor(
    message: string,
    readonly query: PromQL,
  ) {
    super(message);
  }
}

/** The server answered, but not with a usable result (5xx, execution error, malformed JSON). */
export class BadResponseError extends MetricProviderError {
  override name = 'BadResponseError';
  readonly reason = 'BadResponse' as const;
  constructor(
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Configuration named a provider type that does not exist: a validation error, never a fallback. */
export class UnknownProviderError extends MetricProviderError {
  override name = 'UnknownProviderError';
  readonly reason = 'UnknownProvider' as const;
  constructor(
    readonly providerType: string,
    readonly known: readonly string[],
  ) {
    super(`unknown metric provider type ${JSON.stringify(providerType)}; known types: ${known.join(', ')}`);
  }
}

/** The samples of `q`, or EmptyResultError when it selected none. */
export async function requireSamples(provider: MetricProvider, q: PromQL, at?: Date): Promise<Sample[]> {
  const samples = await provider.query(q, at);
  if (samples.length === 0) throw new EmptyResultError(`query returned no series: ${q}`, q);
  return samples;
}
