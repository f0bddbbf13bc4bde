// PUT of an object or its status, of the scale subresource, and of a Namespace's finalizers.
import { scaleOf, updateScale as writeScale } from '../subresources.js';
import { confirmRbacWrite, guardsEscalation } from './escalation.js';
import { readWrite } from './request.js';
import { renderOne, sendJson } from './response.js';
import type { RequestScope } from './scope.js';

export async function updateResource(s: RequestScope): Promise<number> {
  const {
    ctx: { rest },
    resource: t,
    namespace,
  } = s;
  const { body, opts } = await readWrite(s);
  if (guardsEscalation(s)) confirmRbacWrite(s, body, rest.find(t, namespace, s.name!));
  const result = rest.update(t, namespace, s.name!, body, opts, s.subresource as 'status' | undefined);
  sendJson(s.res, 200, renderOne(s, result.object), result.warnings);
  return 200;
}

export async function updateScale(s: RequestScope): Promise<number> {
  const {
    ctx: { rest },
    resource: t,
  } = s;
  const { body, opts } = await readWrite(s);
  sendJson(s.res, 200, scaleOf(t, writeScale(rest, t, s.namespace, s.name!, body, opts)));
  return 200;
}

/** namespaces/finalize: only spec.finalizers is taken from the body. */
export async function finalizeNamespace(s: RequestScope): Promise<number> {
  const {
    ctx: { rest },
    resource: t,
  } = s;
  const { body, opts } = await readWrite(s);
  const old = rest.get(t, s.namespace, s.name!);
  const result = rest.commitUpdate(
    t,
    old,
    { ...old, spec: { ...(old.spec ?? {}), finalizers: body.spec?.finalizers ?? [] } },
    opts,
  );
  sendJson(s.res, 200, result.object);
  return 200;
}
