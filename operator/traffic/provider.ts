// The traffic-provider plug-in interface: how the stable/canary split reaches the
// data path. One file per implementation (router.ts, gateway-api.ts); factory.ts picks one by
// name and refuses unknown names. Providers derive everything from the InferenceService and
// the weights given, so a reconcile after an operator restart produces the same objects.
import type { InferenceService } from '../api/index.js';
import type { KubeClient } from '../runtime/client.js';
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
  /** The provider's objects for `isvc` (pure): applied by reconcile, listed for tests. */
  desired(isvc: InferenceService, topology: TrafficTopology, weights: TrafficWeights): KubeObject[];
  /** Applies the provider's objects (idempotent). */
  reconcile(isvc: InferenceService, topology: TrafficTopology, weights: TrafficWeights, client: KubeClient): Promise<void>;
  /** Makes `weights` effective on the data path. */
  setWeights(isvc: InferenceService, topology: TrafficTopology, weights: TrafficWeights, client: KubeClient): Promise<void>;
  /** The weights the data path uses now, as far as the provider can tell. */
  getWeights(isvc: InferenceService, client: KubeClient): Promise<TrafficWeights | undefined>;
  /** Removes what the provider created beyond owner-reference garbage collection. */
  finalize(isvc: InferenceService, client: KubeClient): Promise<void>;
}

export class UnknownTrafficProviderError extends Error {
  override name = 'UnknownTrafficProviderError';
  constructor(readonly providerType: string, readonly known: readonly string[]) {
    super(`unknown traffic provider ${JSON.stringify(providerType)}; known providers: ${known.join(', ')}`);
  }
}

/** Weights of a status (stable gets the rest); no status yet = everything to stable. */
export function weightsFromStatus(isvc: InferenceService): TrafficWeights {
  const canary = isvc.status?.canary?.weight ?? 0;
  return { stable: 100 - canary, canary };
}
