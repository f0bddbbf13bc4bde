// Applying a desired child without needless API calls: kinds with an informer are compared with
// the cache; kinds without one (router RBAC, HPA, Secret) are re-applied only when this intent
// was not applied recently. Steady state makes no API calls either way.
import type { KubeObject, KindRef } from '../../../runtime/kinds.js';
import { Kinds, kindId } from '../../../runtime/kinds.js';
import { memoPrefix, type RolloutContext } from '../context.js';
import { refuseForeign, refuseIfForeign } from '../ownership.js';

/** Whether every field of `want` is present with the same value in `have` (arrays compared by element). */
export function contains(have: unknown, want: unknown): boolean {
  if (want === null || typeof want !== 'object') return have === want;
  if (Array.isArray(want))
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => contains(have[i], w));
  if (have === null || typeof have !== 'object') return false;
  return Object.entries(want as Record<string, unknown>).every(
    ([k, v]) => v === undefined || contains((have as Record<string, unknown>)[k], v),
  );
}

function kindOfObject(obj: KubeObject): KindRef | undefined {
  return Object.values(Kinds).find(
    (k) => k.kind === obj.kind && (k.group ? `${k.group}/${k.version}` : k.version) === obj.apiVersion,
  );
}

/** The memo key of one child of this service. */
export const childMemoKey = (ctx: RolloutContext, kind: string, name: string): string =>
  `${memoPrefix(ctx)}${kind}|${name}`;

/**
 * Applies `desired` unless it is current; never over an object of that name this service does
 * not control (ownership.ts): that is a ChildConflictError, and nothing is written.
 */
export async function applyIfChanged(ctx: RolloutContext, desired: KubeObject): Promise<void> {
  const kind = kindOfObject(desired);
  const { cache, client } = ctx.kube;
  const namespace = desired.metadata?.namespace ?? '';
  const name = desired.metadata?.name ?? '';
  if (kind && cache.informs(kind)) {
    const cached = cache.get(kind, namespace, name);
    refuseIfForeign(ctx, kind.kind, cached);
    if (!cached || !contains(cached, desired)) await client.apply(desired);
    return;
  }
  const key = childMemoKey(ctx, kind ? kindId(kind) : `${desired.apiVersion}/${desired.kind}`, name);
  const now = ctx.now.getTime();
  if (ctx.deps.applied.isCurrent(key, desired, now)) return;
  if (kind) await refuseForeign(ctx, kind, desired);
  await client.apply(desired);
  ctx.deps.applied.remember(key, desired, now);
}
