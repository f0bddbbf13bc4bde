// The traffic-provider plug-in interface: how the stable/canary split reaches the
// data path. One file per implementation (router.ts, gateway-api.ts); factory.ts picks one by
// name and refuses unknown names. A provider only computes objects from the InferenceService and
// the weights (pure), so a reconcile after an operator restart produces the same objects; the
// controller applies them like any other child.
import type { InferenceService } from '../api/index.js';
import type { KubeObject } from '../runtime/kinds.js';

/** Percent of traffic per role; stable + canary = 100. */
export interface TrafficWeights {
  stable: number;
  canary: number;
}

/** What a provider needs to know about the serving topology. */
export interface TrafficTopology {
  /** Service in front of the stable pods. */
  stableService: string;
  /** Service in front of the canary pods; absent when no canary runs. */
  canaryService?: string;
  /** Port of the role Services. */
  port: number;
}

export interface TrafficProvider {
  readonly type: string;
  /**
   * The provider's objects for `isvc` carrying `weights` (pure). Everything is owned by the
   * InferenceService, so garbage collection removes it with the service.
   */
  desired(isvc: InferenceService, topology: TrafficTopology, weights: TrafficWeights): KubeObject[];
}

export class UnknownTrafficProviderError extends Error {
  override name = 'UnknownTrafficProviderError';
  constructor(
    readonly providerType: string,
    readonly known: readonly string[],
  ) {
    super(`unknown traffic provider ${JSON.stringify(providerType)}; known providers: ${known.join(', ')}`);
  }
}
