// DELETE of one object, and of a collection (deletecollection).
import type { KObject } from '../registry.js';
import { deleteOptions, readObject } from './request.js';
import { renderOne, sendJson, sendListJson } from './response.js';
import type { RequestScope } from './scope.js';

export async function deleteResource(s: RequestScope): Promise<number> {
  const {
    ctx: { rest },
    resource: t,
  } = s;
  const body = await readObject(s.req);
  const opts = deleteOptions(body, s.query);
  const { object, deleted } = rest.delete(t, s.namespace, s.name!, opts);
  // A deletion that finished answers a Status naming the object, unless the type's storage
  // returns the deleted object; one still waiting on finalizers answers the object.
  if (deleted && !t.returnDeletedObject) {
    const details: KObject = { name: object.metadata.name };
    if (t.group) details.group = t.group;
    details.kind = t.plural;
    details.uid = object.metadata.uid;
    sendJson(s.res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
  } else sendJson(s.res, 200, renderOne(s, object));
  return 200;
}

export async function deleteCollection(s: RequestScope): Promise<number> {
  const { ctx, resource: t, query: q } = s;
  const body = await readObject(s.req);
  const items = ctx.rest.deleteCollection(
    t,
    s.namespace || undefined,
    { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined },
    deleteOptions(body, q),
  );
  sendListJson(s.res, t, { resourceVersion: String(ctx.store.rv) }, items);
  return 200;
}
