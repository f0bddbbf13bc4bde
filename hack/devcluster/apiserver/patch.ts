// PATCH bodies: RFC 7386 JSON merge patch, RFC 6902 JSON patch, and Kubernetes strategic merge
// patch for built-in kinds (lists merged by their patchMergeKey, `$patch`, `$retainKeys`,
// `$setElementOrder/…`, `$deleteFromPrimitiveList/…` directives).
import { ApiError } from './errors.js';

type Json = any;

const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class PatchError extends Error {}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer: "${path}"`);
  return path.slice(1).split('/').map(unescapePointer);
}

function getAt(doc: Json, segs: string[]): Json {
  let cur = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObject(cur)) cur = cur[s];
    else return undefined;
  }
  return cur;
}

function containerOf(doc: Json, segs: string[], path: string): { parent: Json; key: string } {
  const parent = getAt(doc, segs.slice(0, -1));
  if (parent === undefined || parent === null || typeof parent !== 'object') {
    throw new PatchError(`doc is missing path: "${path}": missing value`);
  }
  return { parent, key: segs[segs.length - 1] };
}

function arrayIndex(arr: Json[], key: string, forAdd: boolean, path: string): number {
  if (forAdd && key === '-') return arr.length;
  if (!/^\d+$/.test(key)) throw new PatchError(`invalid index "${key}" in path "${path}"`);
  const i = Number(key);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchError(`Unable to access invalid index: ${i}`);
  return i;
}

function addAt(doc: Json, path: string, value: Json): Json {
  const segs = parsePointer(path);
  if (segs.length === 0) return value;
  const { parent, key } = containerOf(doc, segs, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, path), 0, value);
  else parent[key] = value;
  return doc;
}

function removeAt(doc: Json, path: string): Json {
  const segs = parsePointer(path);
  const { parent, key } = containerOf(doc, segs, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false, path), 1);
  else {
    if (!(key in parent)) throw new PatchError(`Unable to remove nonexistent key: ${key}: missing value`);
    delete parent[key];
  }
  return doc;
}

export function jsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = structuredClone(target);
  for (const op of ops) {
    const path: string = op.path;
    switch (op.op) {
      case 'add':
        doc = addAt(doc, path, structuredClone(op.value));
        break;
      case 'remove':
        doc = removeAt(doc, path);
        break;
      case 'replace': {
        const segs = parsePointer(path);
        if (segs.length === 0) {
          doc = structuredClone(op.value);
          break;
        }
        if (getAt(doc, segs) === undefined)
          throw new PatchError(`replace operation does not apply: doc is missing key: ${path}: missing value`);
        doc = removeAt(doc, path);
        doc = addAt(doc, path, structuredClone(op.value));
        break;
      }
      case 'move': {
        const v = getAt(doc, parsePointer(op.from));
        if (v === undefined)
          throw new PatchError(`move operation does not apply: doc is missing from path: ${op.from}: missing value`);
        doc = removeAt(doc, op.from);
        doc = addAt(doc, path, v);
        break;
      }
      case 'copy': {
        const v = getAt(doc, parsePointer(op.from));
        if (v === undefined)
          throw new PatchError(`copy operation does not apply: doc is missing from path: ${op.from}: missing value`);
        doc = addAt(doc, path, structuredClone(v));
        break;
      }
      case 'test': {
        const v = getAt(doc, parsePointer(path));
        if (JSON.stringify(canonical(v)) !== JSON.stringify(canonical(op.value))) {
          throw new PatchError(`testing value ${path} failed: test failed`);
        }
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}

/** JSON with sorted keys, for order-insensitive equality. */
export function canonical(v: Json): Json {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, canonical(v[k])]),
    );
  return v;
}

// ---- strategic merge patch ------------------------------------------------------------------

/**
 * patchMergeKey of list fields in the built-in types, by field name (field names are used
 * consistently across the API; `ports` picks its key from the items). Lists not named here
 * are atomic and replaced, as upstream (e.g. tolerations, args, command).
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  conditions: 'type',
  ownerReferences: 'uid',
  secrets: 'name',
  resourceClaims: 'name',
  schedulingGates: 'name',
  podIPs: 'ip',
  hostIPs: 'ip',
  ephemeralContainerStatuses: 'name',
  topologySpreadConstraints: 'topologyKey',
  readinessGates: 'conditionType',
};
/** Primitive lists with the merge strategy. */
const MERGE_PRIMITIVE = new Set(['finalizers']);

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  if (field === 'ports') return items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  return MERGE_KEYS[field];
}

export function strategicMergePatch(original: Json, patch: Json): Json {
  return smpMap(isObject(original) ? original : {}, patch);
}

function smpMap(original: Record<string, Json>, patch: Json): Json {
  if (!isObject(patch)) return patch;
  if (patch.$patch === 'replace') {
    const { $patch: _p, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  let out: Record<string, Json> = { ...original };
  const retain = patch.$retainKeys as string[] | undefined;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/') || k.startsWith('$deleteFromPrimitiveList/')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) out[k] = smpList(k, Array.isArray(out[k]) ? out[k] : [], v, patch);
    else if (isObject(v)) {
      const merged = smpMap(isObject(out[k]) ? out[k] : {}, v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else out[k] = v;
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field])) out[field] = out[field].filter((x: Json) => !(v as Json[]).includes(x));
    }
    if (k.startsWith('$setElementOrder/')) {
      const field = k.slice('$setElementOrder/'.length);
      if (Array.isArray(out[field])) out[field] = reorder(field, out[field], v as Json[]);
    }
  }
  if (retain) out = Object.fromEntries(Object.entries(out).filter(([k]) => retain.includes(k)));
  return out;
}

function smpList(field: string, original: Json[], patch: Json[], _parent: Json): Json[] {
  if (MERGE_PRIMITIVE.has(field)) {
    const out = [...original];
    for (const v of patch) if (!out.includes(v)) out.push(v);
    return out;
  }
  const key = mergeKeyFor(field, [...patch, ...original]);
  if (!key || !patch.every(isObject)) return patch.map(stripDirectives);
  if (patch.some((p) => p.$patch === 'replace'))
    return patch.filter((p) => p.$patch !== 'replace').map(stripDirectives);
  const out = original.map((o) => o);
  for (const item of patch) {
    const idx = out.findIndex((o) => isObject(o) && o[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smpMap(out[idx], item);
    else out.push(stripDirectives(item));
  }
  return out;
}

function reorder(field: string, list: Json[], order: Json[]): Json[] {
  const key = mergeKeyFor(field, list);
  const id = (x: Json) => (key && isObject(x) ? x[key] : x);
  const wanted = order.map(id);
  const ranked = list.map((x, i) => ({ x, i, r: wanted.indexOf(id(x)) }));
  ranked.sort((a, b) => (a.r < 0 ? Infinity : a.r) - (b.r < 0 ? Infinity : b.r) || a.i - b.i);
  return ranked.map((r) => r.x);
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

/** Wraps patch failures as the 422 the real server answers for inapplicable patches. */
export function patchFailure(err: unknown): ApiError {
  const msg = err instanceof Error ? err.message : String(err);
  return new ApiError(422, 'Invalid', msg, undefined, { cause: err });
}
