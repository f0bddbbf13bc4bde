// Prometheus HTTP API provider: instant queries through POST /api/v1/query (form-encoded, so
// long expressions never hit URL limits). Every failure maps to a typed error:
//   connection failures            → ProviderUnreachableError
//   client timeout / errorType timeout → ProviderTimeoutError
//   errorType bad_data (HTTP 400), or a range-vector result → BadQueryError
//   anything else (5xx, execution errors, malformed bodies) → BadResponseError
//   a redirect                      → BadResponseError, not followed: the address comes from an
//                                     InferenceService, and following it would let whoever
//                                     answers there make the operator request any URL (SSRF)
// What the server sent is never echoed whole into status or logs: a body that is not JSON is
// described by its size and type only, and a Prometheus error text is cut to MAX_ERROR_TEXT.
// See https://prometheus.io/docs/prometheus/latest/querying/api/ for the response format.
import {
  BadQueryError,
  BadResponseError,
  ProviderTimeoutError,
  ProviderUnreachableError,
  type MetricProvider,
  type PromQL,
  type Sample,
} from './provider.js';

export interface PrometheusProviderOptions {
  /** Base URL of the HTTP API, e.g. http://prometheus.monitoring:9090 (a path prefix is kept). */
  address: string;
  /** Client-side limit per query; also sent as the server's query timeout. Default 10 s. */
  timeoutMs?: number;
  /** Extra request headers (e.g. Authorization for a proxy in front of Prometheus). */
  headers?: Record<string, string>;
}

export const DEFAULT_QUERY_TIMEOUT_MS = 10_000;

/** The longest error text of a Prometheus answer that is passed on (status messages are bounded). */
export const MAX_ERROR_TEXT = 200;

interface ApiEnvelope {
  status?: unknown;
  errorType?: unknown;
  error?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

export class PrometheusProvider implements MetricProvider {
  readonly type = 'prometheus';
  readonly address: string;
  private readonly endpoint: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(opts: PrometheusProviderOptions) {
    let url: URL;
    try {
      url = new URL(opts.address);
    } catch (err) {
      throw new TypeError(`invalid Prometheus address ${JSON.stringify(opts.address)}`, { cause: err });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TypeError(`Prometheus address must be http(s): ${opts.address}`);
    this.address = opts.address.replace(/\/+$/, '');
    this.endpoint = `${this.address}/api/v1/query`;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS;
    this.headers = opts.headers ?? {};
  }

  async query(q: PromQL, at?: Date): Promise<Sample[]> {
    const form = new URLSearchParams({ query: q, timeout: `${Math.max(1, Math.floor(this.timeoutMs / 1000))}s` });
    if (at) form.set('time', (at.getTime() / 1000).toFixed(3));
    const res = await this.post(form, q);
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new BadResponseError(
        `Prometheus at ${this.address} answered HTTP ${res.status}, a redirect, which the operator does not follow: set the address it points to`,
        res.status,
      );
    }
    const text = await res.text().catch((err: unknown) => {
      throw new ProviderUnreachableError(`Prometheus at ${this.address}: connection lost while reading the answer`, {
        cause: err,
      });
    });
    let body: ApiEnvelope;
    try {
      body = JSON.parse(text) as ApiEnvelope;
    } catch (err) {
      const type = res.headers.get('content-type') ?? 'no content type';
      throw new BadResponseError(
        `Prometheus at ${this.address} answered HTTP ${res.status} with ${text.length} characters that are not JSON (${bounded(type)}): is it the Prometheus HTTP API?`,
        res.status,
        { cause: err },
      );
    }
    if (body.status !== 'success') throw errorFromEnvelope(body, res.status, q, this.address);
    return parseResult(body.data, q, this.address);
  }

  private async post(form: URLSearchParams, q: PromQL): Promise<Response> {
    try {
      return await fetch(this.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', ...this.headers },
        body: form.toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
        throw new ProviderTimeoutError(
          `Prometheus at ${this.address} did not answer within ${this.timeoutMs} ms (query ${q})`,
          { cause: err },
        );
      }
      throw new ProviderUnreachableError(`Prometheus at ${this.address} is unreachable: ${describeCause(err)}`, {
        cause: err,
      });
    }
  }
}

/** At most MAX_ERROR_TEXT printable characters of text a server sent. */
function bounded(text: string): string {
  // eslint-disable-next-line no-control-regex
  const printable = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return printable.length > MAX_ERROR_TEXT ? `${printable.slice(0, MAX_ERROR_TEXT - 1)}…` : printable;
}

function errorFromEnvelope(body: ApiEnvelope, status: number, q: PromQL, address: string): Error {
  const type = typeof body.errorType === 'string' ? bounded(body.errorType) : undefined;
  const detail = typeof body.error === 'string' ? bounded(body.error) : `HTTP ${status}`;
  if (type === 'bad_data') return new BadQueryError(`Prometheus refused the query: ${detail} (query ${q})`, q);
  if (type === 'timeout')
    return new ProviderTimeoutError(`Prometheus at ${address} timed out evaluating ${q}: ${detail}`);
  return new BadResponseError(
    `Prometheus at ${address} failed (${type ?? 'no errorType'}, HTTP ${status}): ${detail}`,
    status,
  );
}

function parseResult(data: ApiEnvelope['data'], q: PromQL, address: string): Sample[] {
  const resultType = data?.resultType;
  const result = data?.result;
  if (resultType === 'vector' && Array.isArray(result)) {
    return result.map((item: { metric?: Record<string, string>; value?: unknown }) => ({
      labels: { ...(item.metric ?? {}) },
      ...parsePoint(item.value, address),
    }));
  }
  if (resultType === 'scalar') return [{ labels: {}, ...parsePoint(result, address) }];
  if (resultType === 'matrix') {
    throw new BadQueryError(`query returns a range vector; analysis needs an instant vector or scalar (query ${q})`, q);
  }
  throw new BadResponseError(
    `Prometheus at ${address} returned an unexpected result type ${JSON.stringify(resultType)}`,
  );
}

function parsePoint(point: unknown, address: string): { value: number; timestamp: Date } {
  if (!Array.isArray(point) || point.length !== 2 || typeof point[0] !== 'number' || typeof point[1] !== 'string') {
    throw new BadResponseError(`Prometheus at ${address} returned a malformed sample ${JSON.stringify(point)}`);
  }
  return { value: parseSampleValue(point[1]), timestamp: new Date(Math.round(point[0] * 1000)) };
}

/** Prometheus writes sample values as strings, including "NaN", "+Inf" and "-Inf". */
export function parseSampleValue(text: string): number {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const n = Number(text);
  if (text.trim() === '' || Number.isNaN(n))
    throw new BadResponseError(`malformed sample value ${JSON.stringify(text)}`);
  return n;
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } } | undefined)?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}
