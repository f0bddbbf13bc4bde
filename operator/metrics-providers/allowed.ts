// Which Prometheus addresses the operator may query. An InferenceService's
// spec.prometheus.address is chosen by whoever may write InferenceServices, and the operator
// requests it from inside the cluster: without a limit that is a way to make the operator call
// internal services (SSRF). The operator's own --prometheus-url is always allowed, others only
// when listed (--prometheus-allowed-url, the chart's prometheusAllowedUrls).
import type { MetricProvider, PromQL, Sample } from './provider.js';
import { MetricProviderError } from './provider.js';

/** scheme://host:port/path without a trailing slash, lower-case scheme and host; undefined if not a URL. */
function normalised(address: string): string | undefined {
  try {
    const u = new URL(address);
    if (u.username || u.password || u.search || u.hash) return undefined;
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

/**
 * True when `address` is one of `allowed`, or below one on a path boundary
 * (http://p:9090/prom allows http://p:9090/prom/x, not http://p:9090/prometheus).
 */
export function isAllowedAddress(address: string, allowed: readonly string[]): boolean {
  const a = normalised(address);
  if (a === undefined) return false;
  return allowed.some((entry) => {
    const e = normalised(entry);
    return e !== undefined && (a === e || a.startsWith(`${e}/`));
  });
}

/** A provider that refuses every query: the address is not allowed. */
export class ProviderRefusedError extends MetricProviderError {
  override name = 'ProviderRefusedError';
  readonly reason = 'ProviderRefused' as const;
}

export class RefusedProvider implements MetricProvider {
  readonly type = 'refused';
  constructor(readonly address: string) {}

  query(_q: PromQL): Promise<Sample[]> {
    return Promise.reject(
      new ProviderRefusedError(
        `spec.prometheus.address ${this.address} is not an address the operator may query: list it in the chart value prometheusAllowedUrls (operator flag --prometheus-allowed-url); nothing was requested`,
      ),
    );
  }
}
