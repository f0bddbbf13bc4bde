// Provider `gateway-api`: an HTTPRoute (gateway.networking.k8s.io/v1) attached to the Gateways
// of spec.traffic.gateway, one rule whose weighted backendRefs are the stable and canary
// Services. Weight changes re-apply the route; the Gateway implementation does the split. The
// user-facing Service `<name>` selects every serving pod of the service (unweighted), for
// in-cluster callers that do not go through the Gateway.
import { Labels, type InferenceService } from '../api/index.js';
import type { KubeObject } from '../runtime/kinds.js';
import { childMeta, USER_SERVICE_PORT } from './common.js';
import type { TrafficProvider, TrafficTopology, TrafficWeights } from './provider.js';

export const SERVING_PORT = 8080;

interface BackendRef {
  name: string;
  port: number;
  weight: number;
}

export function buildHttpRoute(isvc: InferenceService, topology: TrafficTopology, weights: TrafficWeights): KubeObject {
  const gw = isvc.spec.traffic?.gateway;
  const backendRefs: BackendRef[] = [{ name: topology.stableService, port: topology.port, weight: weights.stable }];
  if (topology.canaryService)
    backendRefs.push({ name: topology.canaryService, port: topology.port, weight: weights.canary });
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: childMeta(isvc, isvc.metadata.name ?? ''),
    spec: {
      parentRefs: (gw?.parentRefs ?? []).map((p) => ({ group: 'gateway.networking.k8s.io', kind: 'Gateway', ...p })),
      ...(gw?.hostnames?.length ? { hostnames: gw.hostnames } : {}),
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs }],
    },
  };
}

export function buildGatewayUserService(isvc: InferenceService): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(isvc, isvc.metadata.name ?? ''),
    spec: {
      selector: { [Labels.inferenceService]: isvc.metadata.name ?? '', [Labels.role]: 'stable' },
      ports: [{ name: 'http', port: USER_SERVICE_PORT, targetPort: SERVING_PORT }],
    },
  };
}

export class GatewayApiTrafficProvider implements TrafficProvider {
  readonly type = 'gateway-api';

  desired(isvc: InferenceService, topology: TrafficTopology, weights: TrafficWeights): KubeObject[] {
    return [buildGatewayUserService(isvc), buildHttpRoute(isvc, topology, weights)];
  }
}
