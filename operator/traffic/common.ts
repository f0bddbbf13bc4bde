// Pieces every traffic provider's objects share (pure).
import {
  BUILTIN_WORKLOAD_DEFAULTS,
  Labels,
  podPlacement,
  type InferenceService,
  type PodPlacementFields,
  type WorkloadDefaults,
} from '../api/index.js';
import { controllerReference } from '../controllers/common/owner.js';
import type { ObjectMeta } from '../runtime/kinds.js';

export const USER_SERVICE_PORT = 80;

/** The labels of everything made for `isvc`: how watches and users find it. */
export function serviceLabels(isvc: InferenceService): Record<string, string> {
  return {
    [Labels.inferenceService]: isvc.metadata.name ?? '',
    [Labels.model]: isvc.spec.model,
    [Labels.managedBy]: 'modelship',
  };
}

/** Metadata of a child owned by `isvc` (garbage-collected with it). */
export function childMeta(isvc: InferenceService, name: string, labels: Record<string, string> = {}): ObjectMeta {
  return {
    name,
    namespace: isvc.metadata.namespace,
    labels: { ...serviceLabels(isvc), ...labels },
    ownerReferences: [controllerReference('InferenceService', isvc)],
  };
}

/**
 * prometheus.io scrape annotations for a pod template, for Prometheus setups that scrape
 * annotated pods. Left off (`--scrape-annotations=false`) where PodMonitors scrape the same
 * pods, since a pod scraped by two jobs has every counter twice in sums.
 */
export function scrapeAnnotations(enabled: boolean | undefined, port: number, path: string): Record<string, string> {
  return enabled === false
    ? {}
    : { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': path };
}

/** `status.url`: the user-facing Service `<name>` by its DNS name. */
export function userServiceUrl(isvc: InferenceService): string {
  return `http://${isvc.metadata.name}.${isvc.metadata.namespace}.svc.cluster.local`;
}

/** The serving image's user, under whatever the workload defaults and the resource set. */
export const SERVING_POD_SECURITY_BASE = { runAsUser: 65532 } as const;

/**
 * Pod spec placement of the serving and router pods: the InferenceService's fields over the
 * operator's workload defaults. Router pods keep their own ServiceAccount (`routerAccount`),
 * the one allowed to read the InferenceService, whatever spec.serviceAccountName says.
 */
export function servingPlacement(
  isvc: InferenceService,
  defaults: WorkloadDefaults | undefined,
  routerAccount?: string,
): PodPlacementFields {
  const { imagePullSecrets, serviceAccountName, nodeSelector, tolerations, affinity, securityContext } = isvc.spec;
  const own = {
    imagePullSecrets,
    serviceAccountName: routerAccount ?? serviceAccountName,
    nodeSelector,
    tolerations,
    affinity,
    securityContext,
  };
  return podPlacement(own, defaults ?? BUILTIN_WORKLOAD_DEFAULTS, SERVING_POD_SECURITY_BASE);
}
