// Ownership of the objects a controller creates for one of its resources (pure). The controller
// ownerReference has the API server garbage-collect a child with its owner, and tells a child
// the controller created from one that merely has the same name.
import { API_VERSION } from '../../api/index.js';
import type { KubeObject, OwnerReference } from '../../runtime/kinds.js';

/** The controller ownerReference to `owner`, a modelship resource of kind `kind`. */
export function controllerReference(kind: string, owner: KubeObject): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind,
    name: owner.metadata?.name ?? '',
    uid: owner.metadata?.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Whether `obj` names `owner` (by uid: a deleted and re-created owner is another object). */
export const isOwnedBy = (obj: KubeObject, owner: KubeObject): boolean =>
  obj.metadata?.ownerReferences?.some((r) => r.uid === owner.metadata?.uid) ?? false;
