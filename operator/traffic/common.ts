// Pieces every traffic provider's objects share (pure).
import { API_VERSION, Labels, type InferenceService } from '../api/index.js';
import type { ObjectMeta } from '../runtime/kinds.js';

export const USER_SERVICE_PORT = 80;

/** Metadata of a child owned by `isvc` (garbage-collected with it). */
export function childMeta(isvc: InferenceService, name: string, labels: Record<string, string> = {}): ObjectMeta {
  return {
    name,
    namespace: isvc.metadata.namespace,
    labels: { [Labels.inferenceService]: isvc.metadata.name ?? '', [Labels.model]: isvc.spec.model, [Labels.managedBy]: 'modelship', ...labels },
    ownerReferences: [{ apiVersion: API_VERSION, kind: 'InferenceService', name: isvc.metadata.name ?? '', uid: isvc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
  };
}

/** `status.url`: the user-facing Service `<name>` by its DNS name. */
export function userServiceUrl(isvc: InferenceService): string {
  return `http://${isvc.metadata.name}.${isvc.metadata.namespace}.svc.cluster.local`;
}

/** Restricted pod security (Pod Security Standards "restricted"). */
export const RESTRICTED_CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
} as const;
export const RESTRICTED_POD_SECURITY = { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } } as const;
