// GET of a collection: selectors, chunking (limit/continue), and the list's representation.
import type { KObject } from '../registry.js';
import { toTable } from '../tables.js';
import { includeObjectOf, negotiate, partialOf, sendJson, sendListJson } from './response.js';
import type { RequestScope } from './scope.js';

export function listResource(s: RequestScope): number {
  const {
    ctx: { rest },
    resource: t,
    query: q,
    res,
  } = s;
  const limit = q.get('limit') ? Number(q.get('limit')) : undefined;
  const list = rest.list(t, s.namespace || undefined, {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    limit,
    continue: q.get('continue') ?? undefined,
  });
  const meta: KObject = { resourceVersion: list.resourceVersion };
  if (list.continue) meta.continue = list.continue;
  if (list.remainingItemCount !== undefined) meta.remainingItemCount = list.remainingItemCount;
  const neg = negotiate(s);
  if (neg.table) sendJson(res, 200, toTable(t, list.items, meta, includeObjectOf(s)));
  else if (neg.partial)
    sendJson(res, 200, {
      kind: 'PartialObjectMetadataList',
      apiVersion: 'meta.k8s.io/v1',
      metadata: meta,
      items: list.items.map(partialOf),
    });
  else sendListJson(res, t, meta, list.items);
  return 200;
}
