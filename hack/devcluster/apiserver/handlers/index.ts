// The dispatcher of resource requests: a path names a type, namespace, name and subresource
// (route), the method names the verb (verbOf), and the pair picks the handler: one per verb,
// each in a file of its own, as kube-apiserver's are.
import { errors } from '../errors.js';
import type { Registry, ResourceType } from '../registry.js';
import { createResource, createReview, createToken } from './create.js';
import { deleteCollection, deleteResource } from './delete.js';
import { getPodLog, getResource, getScale } from './get.js';
import { listResource } from './list.js';
import { patchResource, patchScale } from './patch.js';
import type { Handler, RequestScope } from './scope.js';
import { finalizeNamespace, updateResource, updateScale } from './update.js';
import { watchResource } from './watch.js';

export type { Handler, RequestScope } from './scope.js';

export interface Route {
  t: ResourceType;
  namespace: string;
  name?: string;
  subresource?: string;
  watchPath: boolean;
}

/** Splits a resource path into type / namespace / name / subresource. */
export function route(registry: Registry, segs: string[]): Route | undefined {
  let group = '';
  let rest: string[];
  if (segs[0] === 'api' && segs[1] === 'v1') rest = segs.slice(2);
  else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1];
    rest = segs.slice(3);
  } else return undefined;
  const version = segs[0] === 'api' ? 'v1' : segs[2];
  let watchPath = false;
  if (rest[0] === 'watch') {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace = '';
  if (
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))
  ) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const t = registry.lookup(group, version, rest[0]);
  if (!t || rest.length > 3) return undefined;
  if (namespace && !t.namespaced) return undefined;
  return { t, namespace, name: rest[1], subresource: rest[2], watchPath };
}

export function verbOf(method: string, r: Route, watch: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch || r.watchPath ? 'watch' : r.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return r.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

const byVerb = new Map<string, Handler>([
  ['get', getResource],
  ['list', listResource],
  ['watch', watchResource],
  ['create', createResource],
  ['update', updateResource],
  ['patch', patchResource],
  ['delete', deleteResource],
  ['deletecollection', deleteCollection],
]);

// Subresources whose storage is not the object's. A verb missing here goes to the object's
// handler, which sees the subresource in the scope (status is written through it).
const bySubresource = new Map<string, Map<string, Handler>>([
  [
    'scale',
    new Map<string, Handler>([
      ['get', getScale],
      ['update', updateScale],
      ['patch', patchScale],
    ]),
  ],
  ['finalize', new Map<string, Handler>([['update', finalizeNamespace]])],
]);

/** Serves a routed resource request; returns the status code it answered. */
export async function serveResource(s: RequestScope): Promise<number> {
  return handlerFor(s)(s);
}

function handlerFor(s: RequestScope): Handler {
  const { resource: t, subresource: sub, verb } = s;
  if (sub === 'token' && t.kind === 'ServiceAccount' && t.builtin) return only(verb === 'create', createToken);
  if (sub === 'log' && t.kind === 'Pod' && t.builtin) return only(verb === 'get', getPodLog);
  if (sub && !servesSubresource(t, sub)) throw errors.notFoundPath();
  // Reviews are answered, never stored: a create of the collection is all they take.
  if (t.virtual) return only(verb === 'create' && !s.name, createReview);
  const handler = (sub && bySubresource.get(sub)?.get(verb)) || byVerb.get(verb);
  if (!handler) throw errors.methodNotAllowed();
  return handler;
}

function servesSubresource(t: ResourceType, sub: string): boolean {
  return (
    (sub === 'status' && t.status) || (sub === 'scale' && t.scale) || (sub === 'finalize' && t.kind === 'Namespace')
  );
}

/** The handler of a path that takes a single verb; any other is refused. */
function only(allowed: boolean, handler: Handler): Handler {
  if (!allowed) throw errors.methodNotAllowed();
  return handler;
}
