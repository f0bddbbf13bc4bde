// HTTP front of the API server: routing of Kubernetes REST paths, content negotiation (JSON,
// Table, PartialObjectMetadata), query options, fault injection, counters, and the
// non-resource endpoints (/version, discovery, /openapi, /healthz, /metrics, /debug/*).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { INSECURE_USER, type Access } from './access.js';
import { ApiError, errors } from './errors.js';
import type { Counters } from './counters.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions } from './discovery.js';
import type { FaultInjector, RequestInfo } from './faults.js';
import { apiVersionOf, type KObject, type Registry, type ResourceType } from './registry.js';
import type { DeleteOptions, Rest, WriteOptions } from './rest.js';
import { PATCH_TYPES } from './rest.js';
import type { Store } from './store.js';
import { toTable, type IncludeObject } from './tables.js';
import type { FieldValidation } from './validation.js';
import { serveWatch } from './watch.js';
import { patchScale, reviewResponse, scaleOf, updateScale } from './subresources.js';
import { decodeProtobuf, PROTOBUF } from './protobuf.js';
import { parseLogQuery, serveLog, type PodLogReader } from './podlogs.js';
import { requestAttributes, type RequestAttributes, type UserInfo } from './rbac.js';
import { createTokenRequest, type TokenIssuer } from './tokens.js';
import { escalationGuarded } from './escalation.js';

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
  major: '1', minor: '31', gitVersion: 'v1.31.0', gitCommit: '9edcffcde5595e8a5b1a35f88c421764e575afce',
  gitTreeState: 'clean', buildDate: '2024-08-13T07:28:49Z', goVersion: 'go1.22.5', compiler: 'gc', platform: 'linux/amd64',
};

interface Route { t: ResourceType; namespace: string; name?: string; subresource?: string; watchPath: boolean }

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };
  if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(json);
}

function sendError(res: ServerResponse, err: ApiError): void {
  if (!res.headersSent) sendJson(res, err.code, err.toStatus());
  else res.end();
}

// Event-based rather than `for await`: the async iterator costs measurably on the write path.
function readRaw(req: IncomingMessage): Promise<Buffer> {
  if (req.headers['content-length'] === '0') return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRaw(req)).toString('utf8');
}

/** A create/update/delete body: JSON, or protobuf from typed client-go clients (helm). */
async function readObject(req: IncomingMessage): Promise<KObject> {
  const raw = await readRaw(req);
  if (String(req.headers['content-type'] ?? '').startsWith(PROTOBUF) && raw.length) return decodeProtobuf(raw);
  return parseJson(raw.toString('utf8'));
}

function parseJson(raw: string): KObject {
  if (!raw.trim()) return {};
  try { return JSON.parse(raw); } catch (err) {
    throw new ApiError(400, 'BadRequest', `couldn't get version/kind; json parse error: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Splits a resource path into type / namespace / name / subresource. */
function route(registry: Registry, segs: string[]): Route | undefined {
  let group = '';
  let rest: string[];
  if (segs[0] === 'api' && segs[1] === 'v1') rest = segs.slice(2);
  else if (segs[0] === 'apis' && segs.length >= 3) { group = segs[1]; rest = segs.slice(3); }
  else return undefined;
  const version = segs[0] === 'api' ? 'v1' : segs[2];
  let watchPath = false;
  if (rest[0] === 'watch') { watchPath = true; rest = rest.slice(1); }
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const t = registry.lookup(group, version, rest[0]);
  if (!t || rest.length > 3) return undefined;
  if (namespace && !t.namespaced) return undefined;
  return { t, namespace, name: rest[1], subresource: rest[2], watchPath };
}

function verbOf(method: string, r: Route, watch: boolean): string {
  switch (method) {
    case 'GET': case 'HEAD': return watch || r.watchPath ? 'watch' : r.name ? 'get' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return r.name ? 'delete' : 'deletecollection';
    default: return method.toLowerCase();
  }
}

interface Negotiated { table: boolean; partial: boolean }
function negotiate(accept: string | undefined): Negotiated {
  const a = accept ?? '';
  const first = a.split(',')[0] ?? '';
  return { table: /as=Table/.test(first) && /g=meta\.k8s\.io/.test(first), partial: /as=PartialObjectMetadata/.test(first) };
}

function writeOptions(q: URLSearchParams, userAgent: string | undefined): WriteOptions {
  const fv = q.get('fieldValidation');
  let fieldValidation: FieldValidation | undefined;
  if (fv) {
    if (!['Strict', 'Warn', 'Ignore'].includes(fv)) throw errors.badRequest(`fieldValidation parameter unsupported: ${fv}`);
    fieldValidation = fv as FieldValidation;
  }
  const forceParam = q.get('force');
  return {
    fieldManager: q.get('fieldManager') ?? defaultManager(userAgent),
    fieldValidation: fieldValidation ?? 'Warn',
    dryRun: q.getAll('dryRun').includes('All'),
    force: forceParam === 'true',
  };
}

/** kube-apiserver names an Update's manager after the user agent's command name. */
function defaultManager(userAgent: string | undefined): string {
  const name = (userAgent ?? 'unknown').split('/')[0];
  return name.slice(0, 128) || 'unknown';
}

function listKindOf(t: ResourceType): string { return t.listKind; }

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
  try { user = admitRequest(ctx, req, attrs); } catch (err) {
    const label = attrs.resourceRequest ? (attrs.apiGroup ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource) : url.pathname;
    ctx.counters.record(attrs.verb, label, attrs.subresource, err instanceof ApiError ? err.code : 500);
    throw err;
  }
  const nonResource = serveNonResource(ctx, req, res, url, segs, method);
  if (nonResource) return nonResource;
  const r = route(ctx.registry, segs);
  if (!r) {
    ctx.counters.record(method.toLowerCase(), url.pathname, '', 404);
    throw errors.notFoundPath();
  }
  // A server-side apply that creates its object is authorized as a create too (handlers/patch.go).
  if (method === 'PATCH' && r.name && String(req.headers['content-type'] ?? '').startsWith(PATCH_TYPES.apply) && !ctx.rest.find(r.t, r.namespace, r.name)) {
    ctx.access.check(user, { ...attrs, verb: 'create' });
  }
  const q = url.searchParams;
  const watch = q.get('watch') === 'true' || q.get('watch') === '1';
  const verb = verbOf(method, r, watch);
  const info: RequestInfo = { verb, resource: r.t.plural, group: r.t.group, subresource: r.subresource ?? '', namespace: r.namespace, name: r.name ?? '' };
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
    code = await serveResource(ctx, req, res, r, verb, q, info, user);
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
    case 409: return message ? new ApiError(409, 'Conflict', message) : errors.conflict(gr, name);
    case 410: return errors.gone(message ?? `too old resource version: 1 (${ctx.store.rv})`);
    case 404: return errors.notFound(gr, name);
    case 429: return new ApiError(429, 'TooManyRequests', message ?? 'injected: too many requests', { retryAfterSeconds: 1 });
    case 503: return new ApiError(503, 'ServiceUnavailable', message ?? 'injected: service unavailable');
    default: return new ApiError(code, code >= 500 ? 'InternalError' : 'BadRequest', message ?? `Internal error occurred: injected fault`);
  }
}

function serveNonResource(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, url: URL, segs: string[], method: string): Promise<void> | undefined {
  const path = url.pathname;
  const json = (body: unknown) => { ctx.counters.record('get', path, '', 200); sendJson(res, 200, body); return Promise.resolve(); };
  if (path === '/version' || path === '/version/') return json(VERSION_INFO);
  if (path === '/healthz' || path === '/livez' || path === '/readyz') { res.writeHead(200, { 'Content-Type': 'text/plain' }); res.end('ok'); return Promise.resolve(); }
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
    res.end(ctx.counters.prometheus({ apiserver_current_resource_version: ctx.store.rv, apiserver_open_watches: ctx.faults.watches.size, process_resident_memory_bytes: process.memoryUsage().rss, process_cpu_seconds_total: cpuSeconds() }));
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
      if (method === 'DELETE') { ctx.faults.clear(); return sendJson(res, 200, { cleared: true }); }
      try { sendJson(res, 200, ctx.faults.control(parseJson(await readBody(req)))); } catch (err) {
        throw err instanceof ApiError ? err : errors.badRequest((err as Error).message);
      }
    })();
  }
  return undefined;
}

async function serveResource(ctx: HttpContext, req: IncomingMessage, res: ServerResponse, r: Route, verb: string, q: URLSearchParams, info: RequestInfo, user: UserInfo): Promise<number> {
  const { rest } = ctx;
  const { t, namespace } = r;
  const neg = negotiate(req.headers.accept);
  const includeObject = (q.get('includeObject') ?? 'Metadata') as IncludeObject;
  const one = (obj: KObject): KObject => {
    if (neg.table) return toTable(t, [obj], {}, includeObject);
    if (neg.partial) return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
    return obj;
  };
  const sub = r.subresource;
  const podLog = sub === 'log' && t.kind === 'Pod' && t.builtin;
  const tokenRequest = sub === 'token' && t.kind === 'ServiceAccount' && t.builtin;
  if (sub && !(sub === 'status' && t.status) && !(sub === 'scale' && t.scale) && !(sub === 'finalize' && t.kind === 'Namespace') && !podLog && !tokenRequest) throw errors.notFoundPath();
  if (tokenRequest) {
    if (verb !== 'create') throw errors.methodNotAllowed();
    const sa = rest.get(t, namespace, r.name!); // 404 with the ServiceAccount's name when absent
    sendJson(res, 201, createTokenRequest(ctx.issuer, namespace, sa, await readObject(req), ctx.access.tokenLookups(), ctx.now()));
    return 201;
  }
  if (podLog) {
    if (verb !== 'get') throw errors.methodNotAllowed();
    rest.get(t, namespace, r.name!); // 404 with the pod's name when absent
    serveLog(ctx.podLogs(), () => rest.find(t, namespace, r.name!), parseLogQuery(q), res);
    return 200;
  }

  // RBAC's storage refuses Roles and bindings granting more than the requester holds.
  const guarded = escalationGuarded(t.group, t.plural, sub ?? '') && ctx.access.checksEscalation(user);
  const confirmRbac = (object: KObject, old: KObject | undefined) => ctx.access.confirmRbacWrite(user, {
    resource: t.plural, apiGroup: t.group, namespace, name: r.name ?? '', object, old,
  });

  if (t.virtual) {
    if (verb !== 'create' || r.name) throw errors.methodNotAllowed();
    const review = reviewResponse(t, namespace, await readObject(req), {
      user, authorize: (u, a) => ctx.access.authorize(u, a), rulesFor: (u, ns) => ctx.access.rulesFor(u, ns),
    });
    sendJson(res, 201, review);
    return 201;
  }
  switch (verb) {
    case 'get': {
      const obj = rest.get(t, namespace, r.name!);
      sendJson(res, 200, sub === 'scale' ? scaleOf(t, obj) : one(obj));
      return 200;
    }
    case 'list': {
      const limit = q.get('limit') ? Number(q.get('limit')) : undefined;
      const list = rest.list(t, namespace || undefined, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined, limit, continue: q.get('continue') ?? undefined });
      const meta: KObject = { resourceVersion: list.resourceVersion };
      if (list.continue) meta.continue = list.continue;
      if (list.remainingItemCount !== undefined) meta.remainingItemCount = list.remainingItemCount;
      if (neg.table) sendJson(res, 200, toTable(t, list.items, meta, includeObject));
      else if (neg.partial) sendJson(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: meta, items: list.items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })) });
      else sendListJson(res, t, meta, list.items);
      return 200;
    }
    case 'watch': {
      let first = true;
      const render = neg.table
        ? (o: KObject) => { const tb = toTable(t, [o], {}, includeObject, first); first = false; return tb; }
        : neg.partial ? (o: KObject) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }) : undefined;
      const timeout = q.get('timeoutSeconds');
      serveWatch({ store: ctx.store, rest, faults: ctx.faults, bookmarkIntervalMs: ctx.bookmarkIntervalMs }, t, {
        namespace: namespace || undefined,
        resourceVersion: q.get('resourceVersion') ?? undefined,
        labelSelector: q.get('labelSelector') ?? undefined,
        fieldSelector: r.name ? `metadata.name=${r.name}${q.get('fieldSelector') ? `,${q.get('fieldSelector')}` : ''}` : q.get('fieldSelector') ?? undefined,
        allowWatchBookmarks: q.get('allowWatchBookmarks') === 'true',
        timeoutSeconds: timeout ? Number(timeout) : undefined,
        sendInitialEvents: q.has('sendInitialEvents') ? q.get('sendInitialEvents') === 'true' : undefined,
        render,
      }, info, res);
      return 200;
    }
    case 'create': {
      if (sub || r.name) throw errors.methodNotAllowed();
      const body = await readObject(req);
      const opts = writeOptions(q, req.headers['user-agent']);
      // Checked on the object as sent, before validation, as the storage does.
      if (guarded) confirmRbac(body, undefined);
      const result = rest.create(t, namespace, body, opts);
      sendJson(res, 201, one(result.object), result.warnings);
      return 201;
    }
    case 'update': {
      const body = await readObject(req);
      const opts = writeOptions(q, req.headers['user-agent']);
      if (sub === 'scale') { sendJson(res, 200, scaleOf(t, updateScale(rest, t, namespace, r.name!, body, opts))); return 200; }
      if (sub === 'finalize') {
        const old = rest.get(t, namespace, r.name!);
        const result = rest.commitUpdate(t, old, { ...old, spec: { ...(old.spec ?? {}), finalizers: body.spec?.finalizers ?? [] } }, opts);
        sendJson(res, 200, result.object);
        return 200;
      }
      if (guarded) confirmRbac(body, rest.find(t, namespace, r.name!));
      const result = rest.update(t, namespace, r.name!, body, opts, sub as 'status' | undefined);
      sendJson(res, 200, one(result.object), result.warnings);
      return 200;
    }
    case 'patch': {
      const raw = await readBody(req);
      const contentType = String(req.headers['content-type'] ?? '');
      const opts = writeOptions(q, req.headers['user-agent']);
      if (contentType.startsWith(PATCH_TYPES.apply)) opts.fieldManager = q.get('fieldManager') ?? undefined;
      if (sub === 'scale') {
        const current = scaleOf(t, rest.get(t, namespace, r.name!));
        const patched = patchScale(contentType, raw, current);
        sendJson(res, 200, scaleOf(t, updateScale(rest, t, namespace, r.name!, patched, opts)));
        return 200;
      }
      const existed = !!rest.find(t, namespace, r.name!);
      if (guarded) {
        // The storage checks the patched object: a dry run computes it (its own errors, such
        // as validation, then come before the check's, where upstream they come after).
        const next = rest.patch(t, namespace, r.name!, contentType, raw, { ...opts, dryRun: true }).object;
        confirmRbac(next, rest.find(t, namespace, r.name!));
      }
      const result = rest.patch(t, namespace, r.name!, contentType, raw, opts, sub as 'status' | undefined);
      const code = existed ? 200 : 201;
      sendJson(res, code, one(result.object), result.warnings);
      return code;
    }
    case 'delete': {
      const body = await readObject(req);
      const opts = deleteOptions(body, q);
      const { object, deleted } = rest.delete(t, namespace, r.name!, opts);
      if (deleted && !t.returnDeletedObject) {
        const details: KObject = { name: object.metadata.name };
        if (t.group) details.group = t.group;
        details.kind = t.plural;
        details.uid = object.metadata.uid;
        sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
      } else sendJson(res, 200, one(object));
      return 200;
    }
    case 'deletecollection': {
      const body = await readObject(req);
      const items = rest.deleteCollection(t, namespace || undefined, { labelSelector: q.get('labelSelector') ?? undefined, fieldSelector: q.get('fieldSelector') ?? undefined }, deleteOptions(body, q));
      sendListJson(res, t, { resourceVersion: String(ctx.store.rv) }, items);
      return 200;
    }
  }
  throw errors.methodNotAllowed();
}

function sendListJson(res: ServerResponse, t: ResourceType, meta: KObject, items: KObject[]): void {
  // Items are stored immutable objects; stringify once, without building a wrapper copy.
  const head = `{"kind":${JSON.stringify(listKindOf(t))},"apiVersion":${JSON.stringify(apiVersionOf(t))},"metadata":${JSON.stringify(meta)},"items":[`;
  sendJson(res, 200, `${head}${items.map((i) => JSON.stringify(i)).join(',')}]}`);
}

function deleteOptions(body: KObject, q: URLSearchParams): DeleteOptions {
  const opts: DeleteOptions = {
    propagationPolicy: body.propagationPolicy ?? q.get('propagationPolicy') ?? undefined,
    orphanDependents: body.orphanDependents ?? (q.has('orphanDependents') ? q.get('orphanDependents') === 'true' : undefined),
    preconditions: body.preconditions,
    dryRun: (body.dryRun ?? q.getAll('dryRun')).includes?.('All'),
  };
  if (opts.propagationPolicy && !['Background', 'Foreground', 'Orphan'].includes(opts.propagationPolicy)) {
    throw errors.badRequest(`DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
  }
  return opts;
}
