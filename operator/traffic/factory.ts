// One factory for every traffic provider. An unknown name is a validation error, never a
// silent fallback to the default.
import { GatewayApiTrafficProvider } from './gateway-api.js';
import { UnknownTrafficProviderError, type TrafficProvider } from './provider.js';
import { RouterTrafficProvider, type RouterProviderOptions } from './router.js';

export const TRAFFIC_PROVIDER_TYPES = ['router', 'gateway-api'] as const;

/** The provider named `type` (spec.traffic.provider, defaulted by the CRD); throws UnknownTrafficProviderError. */
export function createTrafficProvider(type: string, opts: RouterProviderOptions): TrafficProvider {
  switch (type) {
    case 'router':
      return new RouterTrafficProvider(opts);
    case 'gateway-api':
      return new GatewayApiTrafficProvider();
    default:
      throw new UnknownTrafficProviderError(String(type), TRAFFIC_PROVIDER_TYPES);
  }
}
