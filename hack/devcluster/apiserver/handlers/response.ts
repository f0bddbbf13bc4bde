// Writing responses: JSON with kube-apiserver's headers, lists, and the representations a
// client may ask for in its Accept header (Table, PartialObjectMetadata).
import type { ServerResponse } from 'node:http';
import type { ApiError } from '../errors.js';
import { apiVersionOf, type KObject, type ResourceType } from '../registry.js';
import { toTable, type IncludeObject } from '../tables.js';
import type { RequestScope } from './scope.js';

export function sendJson(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
  const json = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
  };
  if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(json);
}

export function sendError(res: ServerResponse, err: ApiError): void {
  if (!res.headersSent) sendJson(res, err.code, err.toStatus());
  else res.end();
}

export function sendListJson(res: ServerResponse, t: ResourceType, meta: KObject, items: KObject[]): void {
  // Items are stored immutable objects; stringify once, without building a wrapper copy.
  const head = `{"kind":${JSON.stringify(t.listKind)},"apiVersion":${JSON.stringify(apiVersionOf(t))},"metadata":${JSON.stringify(meta)},"items":[`;
  sendJson(res, 200, `${head}${items.map((i) => JSON.stringify(i)).join(',')}]}`);
}

/** The representation asked for; only the Accept header's first media type counts. */
export interface Negotiated {
  table: boolean;
  partial: boolean;
}

export function negotiate(s: RequestScope): Negotiated {
  const a = s.req.headers.accept ?? '';
  const first = a.split(',')[0] ?? '';
  return {
    table: /as=Table/.test(first) && /g=meta\.k8s\.io/.test(first),
    partial: /as=PartialObjectMetadata/.test(first),
  };
}

export function includeObjectOf(s: RequestScope): IncludeObject {
  return (s.query.get('includeObject') ?? 'Metadata') as IncludeObject;
}

export function partialOf(obj: KObject): KObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

/** One object as the client asked to see it. */
export function renderOne(s: RequestScope, obj: KObject): KObject {
  const neg = negotiate(s);
  if (neg.table) return toTable(s.resource, [obj], {}, includeObjectOf(s));
  if (neg.partial) return partialOf(obj);
  return obj;
}
