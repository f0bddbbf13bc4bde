// One factory for every metric provider type. Unknown types throw UnknownProviderError: a
// misspelt provider must surface as a validation error, never as a silent fallback.
import { PrometheusProvider } from './prometheus.js';
import { UnknownProviderError, type MetricProvider } from './provider.js';

export interface PrometheusProviderConfig {
  type: 'prometheus';
  address: string;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** Every configuration the factory accepts; extend with one member per implementation file. */
export type MetricProviderConfig = PrometheusProviderConfig;

export const METRIC_PROVIDER_TYPES = ['prometheus'] as const;
export type MetricProviderType = (typeof METRIC_PROVIDER_TYPES)[number];

export function isMetricProviderType(type: string): type is MetricProviderType {
  return (METRIC_PROVIDER_TYPES as readonly string[]).includes(type);
}

/** A provider for `config`; throws UnknownProviderError for unknown types, TypeError for a bad address. */
export function createMetricProvider(config: { type: string } & Record<string, unknown>): MetricProvider {
  switch (config.type) {
    case 'prometheus': {
      const c = config as unknown as PrometheusProviderConfig;
      return new PrometheusProvider({ address: c.address, timeoutMs: c.timeoutMs, headers: c.headers });
    }
    default:
      throw new UnknownProviderError(String(config.type), METRIC_PROVIDER_TYPES);
  }
}
