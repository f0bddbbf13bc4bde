// Minimal OpenAPI v3 documents: per group-version, one path per resource with the operations
// and their `x-kubernetes-group-version-kind`, and the query parameters kubectl/helm probe.
// kubectl ≥ 1.27 (and helm, through the same factory) checks the PATCH operation of a kind
// for the `fieldValidation` parameter; when present it leaves validation to the server
// instead of validating client-side against full schemas. Custom resources also carry their
// CRD's structural schema, so `kubectl explain` works for them.
import { createHash } from 'node:crypto';
import { builtinComponents } from './builtin-schemas.js';
import { apiVersionOf, type KObject, type Registry, type ResourceType } from './registry.js';

const QUERY_PARAMS = ['dryRun', 'fieldManager', 'fieldValidation', 'force', 'pretty'];
const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

function gvPath(t: Pick<ResourceType, 'group' | 'version'>): string {
  return t.group ? `apis/${t.group}/${t.version}` : 'api/v1';
}

/** Component name as kube-apiserver names it: reversed group + version + kind. */
export function schemaName(t: ResourceType): string {
  if (t.crd) return `${t.group.split('.').reverse().join('.')}.${t.version}.${t.kind}`;
  const g = t.group ? t.group.replace(/\.k8s\.io$/, '').replace(/\./g, '_') : 'core';
  return `io.k8s.api.${g}.${t.version}.${t.kind}`;
}

function gvk(t: ResourceType): KObject {
  return { group: t.group, version: t.version, kind: t.kind };
}

function queryParams(names: string[]): KObject[] {
  return names.map((name) => ({
    name,
    in: 'query',
    schema: { type: name === 'force' ? 'boolean' : 'string', uniqueItems: true },
  }));
}

/** Built-in kinds use their model's component name; filled while a document is built. */
const schemaNames = new WeakMap<ResourceType, string>();
function ref(t: ResourceType): KObject {
  return { $ref: `#/components/schemas/${schemaNames.get(t) ?? schemaName(t)}` };
}

function operations(t: ResourceType, item: boolean): KObject {
  const ext = { 'x-kubernetes-group-version-kind': gvk(t) };
  const okResponse = (schema: KObject) => ({
    '200': { description: 'OK', content: { 'application/json': { schema } } },
  });
  const id = (verb: string) => `${verb}${t.kind}`;
  if (!item) {
    return {
      get: {
        operationId: id('list'),
        parameters: queryParams([
          'labelSelector',
          'fieldSelector',
          'limit',
          'continue',
          'watch',
          'resourceVersion',
          'timeoutSeconds',
          'allowWatchBookmarks',
        ]),
        responses: okResponse({ type: 'object' }),
        'x-kubernetes-action': 'list',
        ...ext,
      },
      post: {
        operationId: id('create'),
        parameters: queryParams(['dryRun', 'fieldManager', 'fieldValidation', 'pretty']),
        requestBody: { content: { '*/*': { schema: ref(t) } }, required: true },
        responses: okResponse(ref(t)),
        'x-kubernetes-action': 'post',
        ...ext,
      },
    };
  }
  const patchTypes = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
  return {
    get: { operationId: id('read'), responses: okResponse(ref(t)), 'x-kubernetes-action': 'get', ...ext },
    put: {
      operationId: id('replace'),
      parameters: queryParams(['dryRun', 'fieldManager', 'fieldValidation', 'pretty']),
      requestBody: { content: { '*/*': { schema: ref(t) } }, required: true },
      responses: okResponse(ref(t)),
      'x-kubernetes-action': 'put',
      ...ext,
    },
    patch: {
      operationId: id('patch'),
      parameters: queryParams(QUERY_PARAMS),
      requestBody: {
        content: Object.fromEntries(patchTypes.map((ct) => [ct, { schema: { type: 'object' } }])),
        required: true,
      },
      responses: okResponse(ref(t)),
      'x-kubernetes-action': 'patch',
      ...ext,
    },
    delete: {
      operationId: id('delete'),
      responses: okResponse({ type: 'object' }),
      'x-kubernetes-action': 'delete',
      ...ext,
    },
  };
}

function schemaOf(t: ResourceType): KObject {
  const base: KObject = t.crd?.version.schema?.openAPIV3Schema
    ? structuredClone(t.crd.version.schema.openAPIV3Schema)
    : { type: 'object', description: `${t.kind} (${apiVersionOf(t)})`, 'x-kubernetes-preserve-unknown-fields': true };
  base.properties = {
    apiVersion: {
      type: 'string',
      description: 'APIVersion defines the versioned schema of this representation of an object.',
    },
    kind: {
      type: 'string',
      description: 'Kind is a string value representing the REST resource this object represents.',
    },
    metadata: {
      allOf: [{ $ref: `#/components/schemas/${OBJECT_META}` }],
      default: {},
      description: "Standard object's metadata.",
    },
    ...(base.properties ?? {}),
  };
  delete base.properties.metadata.type;
  base['x-kubernetes-group-version-kind'] = [gvk(t)];
  return base;
}

export function groupVersionDocument(registry: Registry, path: string): KObject | undefined {
  const types = registry.types().filter((t) => gvPath(t) === path);
  if (!types.length) return undefined;
  const paths: KObject = {};
  const schemas: KObject = {
    [OBJECT_META]: {
      type: 'object',
      description: 'ObjectMeta is metadata that all persisted resources must have.',
      'x-kubernetes-preserve-unknown-fields': true,
    },
  };
  const builtins = builtinComponents(types);
  Object.assign(schemas, builtins.schemas);
  for (const t of types) {
    const prefix = `/${gvPath(t)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
    const root = builtins.rootOf.get(t);
    if (root) schemaNames.set(t, root);
    paths[prefix] = operations(t, false);
    paths[`${prefix}/{name}`] = operations(t, true);
    if (t.status) paths[`${prefix}/{name}/status`] = operations(t, true);
    if (!root) schemas[schemaName(t)] = schemaOf(t);
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.31.0' }, paths, components: { schemas } };
}

function hashOf(doc: KObject): string {
  return createHash('sha512').update(JSON.stringify(doc)).digest('hex').slice(0, 128).toUpperCase();
}

// A group-version's document is rebuilt only when its types change (a CRD of that group
// added, changed or removed): built-in groups are built once.
const docCache = new WeakMap<Registry, Map<string, { types: ResourceType[]; body: string; hash: string }>>();

function documents(registry: Registry): Map<string, { body: string; hash: string }> {
  let cached = docCache.get(registry);
  if (!cached) docCache.set(registry, (cached = new Map()));
  const byGv = new Map<string, ResourceType[]>();
  for (const t of registry.types()) byGv.set(gvPath(t), [...(byGv.get(gvPath(t)) ?? []), t]);
  for (const gv of cached.keys()) if (!byGv.has(gv)) cached.delete(gv);
  for (const [gv, types] of byGv) {
    const hit = cached.get(gv);
    if (hit && hit.types.length === types.length && hit.types.every((t, i) => t === types[i])) continue;
    const doc = groupVersionDocument(registry, gv)!;
    cached.set(gv, { types, body: JSON.stringify(doc), hash: hashOf(doc) });
  }
  return new Map([...cached].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export function openapiDocument(
  registry: Registry,
  path: string,
  _accept: string,
): { contentType: string; body: string } | undefined {
  const docs = documents(registry);
  if (path === '/openapi/v3' || path === '/openapi/v3/') {
    const entries = [...docs].map(([gv, d]) => [gv, { serverRelativeURL: `/openapi/v3/${gv}?hash=${d.hash}` }]);
    return { contentType: 'application/json', body: JSON.stringify({ paths: Object.fromEntries(entries) }) };
  }
  if (path.startsWith('/openapi/v3/')) {
    const doc = docs.get(path.slice('/openapi/v3/'.length).replace(/\/$/, ''));
    return doc ? { contentType: 'application/json', body: doc.body } : undefined;
  }
  return undefined;
}
