// RBAC's storage refuses a Role, ClusterRole or binding that grants more than its writer
// holds; the create, update and patch handlers ask before they write one.
import { escalationGuarded } from '../escalation.js';
import type { KObject } from '../registry.js';
import type { RequestScope } from './scope.js';

/** Whether this write is one the check applies to (system:masters skips it). */
export function guardsEscalation(s: RequestScope): boolean {
  return (
    escalationGuarded(s.resource.group, s.resource.plural, s.subresource ?? '') && s.ctx.access.checksEscalation(s.user)
  );
}

/** Throws the storage's Forbidden when `object` grants more than the user holds. */
export function confirmRbacWrite(s: RequestScope, object: KObject, old: KObject | undefined): void {
  const t = s.resource;
  s.ctx.access.confirmRbacWrite(s.user, {
    resource: t.plural,
    apiGroup: t.group,
    namespace: s.namespace,
    name: s.name ?? '',
    object,
    old,
  });
}
