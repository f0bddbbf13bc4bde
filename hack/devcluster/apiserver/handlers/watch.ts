// Watch of a collection, or of one object (the path's name becomes a field selector).
import type { KObject } from '../registry.js';
import { toTable } from '../tables.js';
import { serveWatch } from '../watch.js';
import { includeObjectOf, negotiate, partialOf } from './response.js';
import type { RequestScope } from './scope.js';

export function watchResource(s: RequestScope): number {
  const { ctx, resource: t, query: q, name } = s;
  const timeout = q.get('timeoutSeconds');
  serveWatch(
    { store: ctx.store, rest: ctx.rest, faults: ctx.faults, bookmarkIntervalMs: ctx.bookmarkIntervalMs },
    t,
    {
      namespace: s.namespace || undefined,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: name
        ? `metadata.name=${name}${q.get('fieldSelector') ? `,${q.get('fieldSelector')}` : ''}`
        : (q.get('fieldSelector') ?? undefined),
      allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
      timeoutSeconds: timeout ? Number(timeout) : undefined,
      sendInitialEvents: q.has('sendInitialEvents') ? q.get('sendInitialEvents') === 'true' : undefined,
      render: eventRenderer(s),
    },
    s.info,
    s.res,
  );
  return 200;
}

/** How each event's object is shown; undefined sends it as stored. */
function eventRenderer(s: RequestScope): ((o: KObject) => KObject) | undefined {
  const neg = negotiate(s);
  if (neg.table) {
    const includeObject = includeObjectOf(s);
    // Only the first event's Table carries the column definitions, as from kube-apiserver.
    let first = true;
    return (o) => {
      const tb = toTable(s.resource, [o], {}, includeObject, first);
      first = false;
      return tb;
    };
  }
  return neg.partial ? partialOf : undefined;
}
