// HTTP front of the API server: authentication and authorization, fault injection, counters,
// and the non-resource endpoints (/version, discovery, /openapi, /healthz, /metrics, /debug/*).
// Resource requests go to handlers/, one handler per verb.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { INSECURE_USER, type Access } from './access.js';
import { ApiError, errors } from './errors.js';
import type { Counters } from './counters.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import type { FaultInjector, RequestInfo } from './faults.js';
import type { Registry } from './registry.js';
import type { Rest } from './rest.js';
import { PATCH_TYPES } from './rest.js';
import type { Store } from './store.js';
import type { PodLogReader } from './podlogs.js';
import { requestAttributes, type RequestAttributes, type UserInfo } from './rbac.js';
import type { TokenIssuer } from './tokens.js';
import { route, serveResource, verbOf, type Route } from './handlers/index.js';
import { parseJson, readBody } from './handlers/request.js';
import { sendError, sendJson } from './handlers/response.js';

export interface HttpContext {
  store: Store;
  registry: Registry;
  rest: Rest;
  faults: FaultInjector;
  counters: Counters;
  bookmarkIntervalMs: number;
  serverAddress(): string;
  /** /openapi/v2 and /openapi/v3[/…] documents; undefined → 404. */
  openapi(path: string, accept: string): { contentType: string; body: string | Buffer } | undefined;
  /** Supplies pods/log text (set by whoever runs the pods); undefined → logs unavailable. */
  podLogs(): PodLogReader | undefined;
  /** Authentication, impersonation and authorization (the secure port authenticates; both authorize). */
  access: Access;
  /** Signs the tokens of the serviceaccounts/token subresource. */
  issuer: TokenIssuer;
  /** Milliseconds since the epoch (token lifetimes). */
  now(): number;
}

export const VERSION_INFO = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0',
  gitCommit: '9edcffcde5595e8a5b1a35f88c421764e575afce',
  gitTreeState: 'clean',
  buildDate: '2024-08-13T07:28:49Z',
  goVersion: 'go1.22.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export function createHandler(ctx: HttpContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(ctx, req, res).catch((err) => {
      const apiErr = err instanceof ApiError ? err : errors.internal((err as Error)?.message ?? String(err));
      if (!(err instanceof ApiError)) console.error('devcluster apiserver: unexpected error', err);
      sendError(res, apiErr);
    });
  };
}

/**
 * Who the request acts as, once allowed to: the secure port authenticates its bearer token
 * (401 when rejected), the insecure port is the superuser; then impersonation, then the
 * authorizer, before any routing (so an unknown path is a 403 for whoever may not see it).
 */
function admitRequest(ctx: HttpContext, req: IncomingMessage, attrs: RequestAttributes): UserInfo {
  const secure = (req.socket as TLSSocket).encrypted === true;
  const requester = secure ? ctx.access.authenticate(req) : INSECURE_USER;
  const user = ctx.access.impersonate(req, requester);
  ctx.access.check(user, attrs);
  return user;
}

async function handle(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const segs = url.pathname.split('/').filter((s) => s !== '');
  const method = req.method ?? 'GET';
  const attrs = requestAttributes(method, req.url ?? '/');
  let user: UserInfo;
  try {
    user = admitRequest(ctx, req, attrs);
  } catch (err) {
    const label = attrs.resourceRequest
      ? attrs.apiGroup
        ? `${attrs.resource}.${attrs.apiGroup}`
        : attrs.resource
      : url.pathname;
    ctx.counters.record(attrs.verb, label, attrs.subresource, err instanceof ApiError ? err.code : 500);
    throw err;
  }
  const nonResource = serveNonResource(ctx, req, res, url);
  if (nonResource) return nonResource;
  const r = route(ctx.registry, segs);
  if (!r) {
    ctx.counters.record(method.toLowerCase(), url.pathname, '', 404);
    throw errors.notFoundPath();
  }
  // A server-side apply that creates its object is authorized as a create too (handlers/patch.go).
  if (
    method === 'PATCH' &&
    r.name &&
    String(req.headers['content-type'] ?? '').startsWith(PATCH_TYPES.apply) &&
    !ctx.rest.find(r.t, r.namespace, r.name)
  ) {
    ctx.access.check(user, { ...attrs, verb: 'create' });
  }
  const q = url.searchParams;
  const watch = q.get('watch') === 'true' || q.get('watch') === '1';
  const verb = verbOf(method, r, watch);
  const info: RequestInfo = {
    verb,
    resource: r.t.plural,
    group: r.t.group,
    subresource: r.subresource ?? '',
    namespace: r.namespace,
    name: r.name ?? '',
  };
  const resourceLabel = r.t.group ? `${r.t.plural}.${r.t.group}` : r.t.plural;
  let code = 200;
  try {
    const latency = ctx.faults.takeLatency(info);
    if (latency) await new Promise((resolve) => setTimeout(resolve, latency));
    const fault = ctx.faults.takeError(info);
    if (fault && verb === 'watch' && fault.code === 410) {
      // An expired watch is a 200 stream carrying one ERROR event, as from kube-apiserver.
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: forcedError(ctx, r, 410, fault.message).toStatus() })}\n`);
      return;
    }
    if (fault) throw forcedError(ctx, r, fault.code, fault.message);
    code = await serveResource({
      ctx,
      req,
      res,
      resource: r.t,
      namespace: r.namespace,
      name: r.name,
      subresource: r.subresource,
      verb,
      query: q,
      info,
      user,
    });
  } catch (err) {
    code = err instanceof ApiError ? err.code : 500;
    throw err;
  } finally {
    ctx.counters.record(verb, resourceLabel, r.subresource ?? '', code);
  }
}

function forcedError(ctx: HttpContext, r: Route, code: number, message?: string): ApiError {
  const gr = { group: r.t.group, resource: r.t.plural };
  const name = r.name ?? '';
  switch (code) {
    case 409:
      return message ? new ApiError(409, 'Conflict', message) : errors.conflict(gr, name);
    case 410:
      return errors.gone(message ?? `too old resource version: 1 (${ctx.store.rv})`);
    case 404:
      return errors.notFound(gr, name);
    case 429:
      return new ApiError(429, 'TooManyRequests', message ?? 'injected: too many requests', { retryAfterSeconds: 1 });
    case 503:
      return new ApiError(503, 'ServiceUnavailable', message ?? 'injected: service unavailable');
    default:
      return new ApiError(
        code,
        code >= 500 ? 'InternalError' : 'BadRequest',
        message ?? `Internal error occurred: injected fault`,
      );
  }
}

function serveNonResource(
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> | undefined {
  const path = url.pathname;
  const segs = path.split('/').filter((s) => s !== '');
  const method = req.method ?? 'GET';
  const json = (body: unknown) => {
    ctx.counters.record('get', path, '', 200);
    sendJson(res, 200, body);
    return Promise.resolve();
  };
  if (path === '/version' || path === '/version/') return json(VERSION_INFO);
  if (path === '/healthz' || path === '/livez' || path === '/readyz') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('ok');
    return Promise.resolve();
  }
  if (path === '/api' || path === '/api/') return json(apiVersions(ctx.serverAddress()));
  if (path === '/apis' || path === '/apis/') return json(apiGroupList(ctx.registry));
  if (segs[0] === 'api' && segs.length === 2) {
    const doc = apiResourceList(ctx.registry, '', segs[1]);
    if (!doc) throw errors.notFoundPath();
    return json(doc);
  }
  if (segs[0] === 'apis' && segs.length === 2) {
    const doc = apiGroup(ctx.registry, segs[1]);
    if (!doc) throw errors.notFoundPath();
    return json(doc);
  }
  if (segs[0] === 'apis' && segs.length === 3) {
    const doc = apiResourceList(ctx.registry, segs[1], segs[2]);
    if (!doc) throw errors.notFoundPath();
    return json(doc);
  }
  if (segs[0] === 'openapi') {
    const doc = ctx.openapi(path, String(req.headers.accept ?? ''));
    if (!doc) throw errors.notFoundPath();
    ctx.counters.record('get', '/openapi', '', 200);
    res.writeHead(200, { 'Content-Type': doc.contentType });
    res.end(doc.body);
    return Promise.resolve();
  }
  if (path === '/metrics') {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(
      ctx.counters.prometheus({
        apiserver_current_resource_version: ctx.store.rv,
        apiserver_open_watches: ctx.faults.watches.size,
        process_resident_memory_bytes: process.memoryUsage().rss,
        process_cpu_seconds_total: cpuSeconds(),
      }),
    );
    return Promise.resolve();
  }
  if (path === '/debug/counters') {
    if (method === 'DELETE') ctx.counters.reset();
    sendJson(res, 200, ctx.counters.snapshot());
    return Promise.resolve();
  }
  if (path === '/debug/faults') {
    return (async () => {
      if (method === 'GET') return sendJson(res, 200, ctx.faults.list());
      if (method === 'DELETE') {
        ctx.faults.clear();
        return sendJson(res, 200, { cleared: true });
      }
      try {
        sendJson(res, 200, ctx.faults.control(parseJson(await readBody(req))));
      } catch (err) {
        throw err instanceof ApiError ? err : errors.badRequest((err as Error).message);
      }
    })();
  }
  return undefined;
}
