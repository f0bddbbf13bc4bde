// An InferenceService's children are objects it created, never objects that merely have the
// names it would give them. Applying over a user's Service named like a new InferenceService
// would rewrite its selector, add an ownerReference, and let garbage collection delete it with
// the InferenceService. So an existing object without this service's controller reference is
// left alone: for the kinds the operator watches (Services, Deployments) the conflict is seen
// before anything is applied and the service is Failed with a condition that names it; for the
// others (RBAC, ServiceAccount, HPA) each apply checks first and refuses. The feedback Secret's
// name carries the service's uid, so nothing made before the service can be in its way.
import { Kinds, type KindRef, type KubeObject } from '../../runtime/kinds.js';
import { ignoreNotFound } from '../../runtime/errors.js';
import type { InferenceService } from '../../api/index.js';
import { ROLE_SERVICE_PORT, roleName } from './builders.js';
import type { Problem } from './conditions.js';
import type { RolloutContext } from './context.js';

/** Whether `obj` is controlled by `isvc` (by uid: a re-created service is another owner). */
export function controlledBy(obj: KubeObject, isvc: InferenceService): boolean {
  const uid = isvc.metadata.uid;
  return !!uid && (obj.metadata?.ownerReferences ?? []).some((r) => r.controller === true && r.uid === uid);
}

export function conflictMessage(kind: string, namespace: string, name: string): string {
  return `${kind} ${namespace}/${name} already exists and was not created by this InferenceService: it is left untouched. Rename the InferenceService, or delete or rename the ${kind}`;
}

/** A child that would take over an object this service does not control. */
export class ChildConflictError extends Error {
  override name = 'ChildConflictError';
}

/** Every Service and Deployment this service may create, by name (its traffic provider's included). */
function watchedChildren(ctx: RolloutContext): Array<{ kind: KindRef; name: string }> {
  const { isvc } = ctx;
  const topology = {
    stableService: roleName(isvc, 'stable'),
    canaryService: roleName(isvc, 'canary'),
    port: ROLE_SERVICE_PORT,
  };
  const traffic = ctx.deps.trafficProvider(isvc).desired(isvc, topology, { stable: 100, canary: 0 });
  const named = (kind: KindRef, name: string) => ({ kind, name });
  return [
    ...(['stable', 'canary'] as const).flatMap((role) => [
      named(Kinds.Service, roleName(isvc, role)),
      named(Kinds.Deployment, roleName(isvc, role)),
    ]),
    ...traffic
      .filter((o) => o.kind === 'Service' || o.kind === 'Deployment')
      .map((o) => named(o.kind === 'Service' ? Kinds.Service : Kinds.Deployment, o.metadata?.name ?? '')),
  ];
}

/** The first watched child name held by an object this service does not control, from the cache. */
export function cachedConflict(ctx: RolloutContext): Problem | undefined {
  const namespace = ctx.isvc.metadata.namespace ?? '';
  for (const { kind, name } of watchedChildren(ctx)) {
    const existing = ctx.kube.cache.get(kind, namespace, name);
    if (existing && !controlledBy(existing, ctx.isvc))
      return { reason: 'ChildConflict', message: conflictMessage(kind.kind, namespace, name) };
  }
  return undefined;
}

/** Throws ChildConflictError when `existing` (named like a child of kind `kind`) is not this service's. */
export function refuseIfForeign(ctx: RolloutContext, kind: string, existing: KubeObject | undefined): void {
  if (existing && !controlledBy(existing, ctx.isvc))
    throw new ChildConflictError(
      conflictMessage(kind, existing.metadata?.namespace ?? '', existing.metadata?.name ?? ''),
    );
}

/** refuseIfForeign for a kind the cache does not hold: the API server is asked. */
export async function refuseForeign(ctx: RolloutContext, kind: KindRef, desired: KubeObject): Promise<void> {
  const namespace = desired.metadata?.namespace ?? '';
  const name = desired.metadata?.name ?? '';
  refuseIfForeign(ctx, kind.kind, await ignoreNotFound(ctx.kube.client.get(kind, namespace, name)));
}
