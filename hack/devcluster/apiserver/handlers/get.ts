// GET of one object, of its scale subresource, and of a pod's log.
import { parseLogQuery, serveLog } from '../podlogs.js';
import { scaleOf } from '../subresources.js';
import { renderOne, sendJson } from './response.js';
import type { RequestScope } from './scope.js';

export function getResource(s: RequestScope): number {
  const obj = s.ctx.rest.get(s.resource, s.namespace, s.name!);
  sendJson(s.res, 200, renderOne(s, obj));
  return 200;
}

export function getScale(s: RequestScope): number {
  const obj = s.ctx.rest.get(s.resource, s.namespace, s.name!);
  sendJson(s.res, 200, scaleOf(s.resource, obj));
  return 200;
}

/** pods/log: plain text from whoever runs the pods, followed while the client asks. */
export function getPodLog(s: RequestScope): number {
  const {
    ctx: { rest },
    resource: t,
    namespace,
  } = s;
  rest.get(t, namespace, s.name!); // 404 with the pod's name when absent
  serveLog(s.ctx.podLogs(), () => rest.find(t, namespace, s.name!), parseLogQuery(s.query), s.res);
  return 200;
}
