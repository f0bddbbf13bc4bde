// Simplified field management (server-side apply): a manager's fields are a set of paths in
// the FieldsV1 encoding (`f:name`, `k:{"name":"x"}` for keyed list items, `v:"x"` for set
// items); lists without a merge key are atomic. Apply conflicts arise when another manager
// owns a field the applied configuration sets to a different value.
import { canonical } from './patch.js';
import type { KObject } from './registry.js';

const KEYED: Record<string, string[]> = {
  containers: ['name'],
  initContainers: ['name'],
  ephemeralContainers: ['name'],
  env: ['name'],
  volumes: ['name'],
  volumeMounts: ['mountPath'],
  imagePullSecrets: ['name'],
  conditions: ['type'],
  ownerReferences: ['uid'],
  hostAliases: ['ip'],
  secrets: ['name'],
  versions: ['name'],
  additionalPrinterColumns: ['name'],
};
const SETS = new Set(['finalizers']);
const IGNORED_METADATA = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generateName',
]);

export type FieldPath = string[];
const isObject = (v: unknown): v is KObject => typeof v === 'object' && v !== null && !Array.isArray(v);

function listKeys(field: string, items: unknown[]): string[] | undefined {
  if (field === 'ports') {
    return items.some((i) => isObject(i) && 'containerPort' in i)
      ? ['containerPort', 'protocol']
      : ['port', 'protocol'];
  }
  return KEYED[field];
}

function itemSegment(keys: string[], item: KObject): string {
  const k: KObject = {};
  for (const key of keys) if (item[key] !== undefined) k[key] = item[key];
  return `k:${JSON.stringify(k)}`;
}

/** Leaf paths set by `value` (an object being applied or written). */
export function fieldsOf(obj: KObject, includeStatus = false): Set<string> {
  const out = new Set<string>();
  const walk = (v: unknown, field: string, path: string[]): void => {
    if (Array.isArray(v)) {
      const keys = listKeys(field, v);
      if (SETS.has(field)) {
        for (const x of v) out.add(JSON.stringify([...path, `v:${JSON.stringify(x)}`]));
        return;
      }
      if (keys && v.every(isObject)) {
        for (const item of v) {
          const p = [...path, itemSegment(keys, item)];
          out.add(JSON.stringify([...p, '.']));
          for (const [k, x] of Object.entries(item)) walk(x, k, [...p, `f:${k}`]);
        }
        return;
      }
      out.add(JSON.stringify(path));
      return;
    }
    if (isObject(v) && Object.keys(v).length) {
      for (const [k, x] of Object.entries(v)) walk(x, k, [...path, `f:${k}`]);
      return;
    }
    out.add(JSON.stringify(path));
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (k === 'status' && !includeStatus) continue;
    if (k === 'metadata') {
      for (const [mk, mv] of Object.entries((v as KObject) ?? {}))
        if (!IGNORED_METADATA.has(mk)) walk(mv, mk, ['f:metadata', `f:${mk}`]);
      continue;
    }
    walk(v, k, [`f:${k}`]);
  }
  return out;
}

export function toFieldsV1(paths: Iterable<string>): KObject {
  const root: KObject = {};
  for (const p of paths) {
    let node = root;
    for (const seg of JSON.parse(p) as string[]) node = node[seg] ??= {};
  }
  return root;
}

export function fromFieldsV1(tree: KObject | undefined): Set<string> {
  const out = new Set<string>();
  const walk = (node: KObject, path: string[]): void => {
    const keys = Object.keys(node);
    if (keys.length === 0) {
      out.add(JSON.stringify(path));
      return;
    }
    for (const k of keys) walk(node[k], [...path, k]);
  };
  if (tree) walk(tree, []);
  return out;
}

/** Value at a FieldsV1 path (undefined when absent). */
export function valueAt(obj: unknown, path: string[]): unknown {
  let cur: any = obj;
  for (const seg of path) {
    if (cur === undefined) return undefined;
    if (seg === '.') return cur;
    if (seg.startsWith('f:')) cur = isObject(cur) ? cur[seg.slice(2)] : undefined;
    else if (seg.startsWith('k:')) {
      const key = JSON.parse(seg.slice(2)) as KObject;
      cur = Array.isArray(cur)
        ? cur.find((i) => isObject(i) && Object.entries(key).every(([k, v]) => i[k] === v))
        : undefined;
    } else if (seg.startsWith('v:')) {
      const want = JSON.parse(seg.slice(2));
      cur = Array.isArray(cur) && cur.includes(want) ? want : undefined;
    }
  }
  return cur;
}

/** Removes the field at a path from `obj` in place (parents left as they are). */
export function removeAt(obj: KObject, path: string[]): void {
  if (path[path.length - 1] === '.') path = path.slice(0, -1);
  const parent = valueAt(obj, path.slice(0, -1));
  const last = path[path.length - 1];
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  else if (Array.isArray(parent)) {
    const idx = parent.findIndex((item) => valueAt([item], [last]) !== undefined);
    if (idx >= 0) parent.splice(idx, 1);
  }
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: KObject;
  subresource?: string;
}

export interface Conflict {
  manager: string;
  apiVersion: string;
  path: string;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Dotted path for conflict messages: `.spec.replicas`, `.spec.containers[name="c"].image`. */
export function displayPath(path: string[]): string {
  let out = '';
  for (const seg of path) {
    if (seg === '.') continue;
    if (seg.startsWith('f:')) out += `.${seg.slice(2)}`;
    else if (seg.startsWith('k:'))
      out += `[${Object.entries(JSON.parse(seg.slice(2)))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}]`;
    else if (seg.startsWith('v:')) out += `[${seg.slice(2)}]`;
  }
  return out;
}

function nowTime(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function entryKey(e: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'subresource'>): string {
  return `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ''}`;
}

/** Records an Update by `manager`: it owns what it changed; others lose those fields. */
export function recordUpdate(
  entries: ManagedFieldsEntry[] | undefined,
  oldObj: KObject | undefined,
  newObj: KObject,
  manager: string,
  apiVersion: string,
  subresource?: string,
): ManagedFieldsEntry[] {
  const status = subresource === 'status';
  const before = oldObj ? fieldsOf(oldObj, status) : new Set<string>();
  const after = fieldsOf(newObj, status);
  const changed = new Set<string>();
  for (const p of after) {
    if (!before.has(p) || !sameValue(valueAt(oldObj, JSON.parse(p)), valueAt(newObj, JSON.parse(p)))) changed.add(p);
  }
  const removed = [...before].filter((p) => !after.has(p));
  if (!changed.size && !removed.length) return entries ?? [];
  const out: ManagedFieldsEntry[] = [];
  let mine: Set<string> | undefined;
  const key = entryKey({ manager, operation: 'Update', subresource });
  for (const e of entries ?? []) {
    const fields = fromFieldsV1(e.fieldsV1);
    if (entryKey(e) === key) {
      mine = fields;
      continue;
    }
    for (const p of changed) fields.delete(p);
    for (const p of removed) fields.delete(p);
    if (fields.size) out.push({ ...e, fieldsV1: toFieldsV1(fields) });
  }
  mine ??= new Set();
  for (const p of changed) mine.add(p);
  for (const p of removed) mine.delete(p);
  if (mine.size) {
    const entry: ManagedFieldsEntry = {
      manager,
      operation: 'Update',
      apiVersion,
      time: nowTime(),
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(mine),
    };
    if (subresource) entry.subresource = subresource;
    out.push(entry);
  }
  return out;
}

/**
 * Server-side apply of `config` by `manager` onto `live` (undefined: create). Returns the new
 * object and managedFields, or the conflicts when another manager owns a field the config
 * changes and `force` is false.
 */
export interface ApplyOptions {
  manager: string;
  apiVersion: string;
  force: boolean;
  mergeInto: (base: KObject, cfg: KObject) => KObject;
  subresource?: string;
}

export function applyConfig(
  live: KObject | undefined,
  config: KObject,
  opts: ApplyOptions,
): { object: KObject; managedFields: ManagedFieldsEntry[] } | { conflicts: Conflict[] } {
  const { manager, apiVersion, force, mergeInto, subresource } = opts;
  const status = subresource === 'status';
  const applied = fieldsOf(config, status);
  const entries: ManagedFieldsEntry[] = live?.metadata?.managedFields ?? [];
  const conflicts: Conflict[] = [];
  const others: Array<{ e: ManagedFieldsEntry; fields: Set<string> }> = [];
  let previous = new Set<string>();
  for (const e of entries) {
    const fields = fromFieldsV1(e.fieldsV1);
    if (e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === (subresource ?? '')) {
      previous = fields;
      continue;
    }
    others.push({ e, fields });
    for (const p of applied) {
      if (!fields.has(p)) continue;
      const path = JSON.parse(p) as string[];
      // A keyed item's "." only records that the item exists; its fields conflict on their own.
      if (path[path.length - 1] === '.') continue;
      if (!sameValue(valueAt(live, path), valueAt(config, path)))
        conflicts.push({ manager: e.manager, apiVersion: e.apiVersion, path: displayPath(path) });
    }
  }
  if (conflicts.length && !force) return { conflicts };
  let base: KObject = live ? structuredClone(live) : {};
  const ownedByOthers = new Set<string>();
  for (const o of others) {
    if (force) for (const p of applied) o.fields.delete(p);
    for (const p of o.fields) ownedByOthers.add(p);
  }
  for (const p of previous) {
    if (!applied.has(p) && !ownedByOthers.has(p)) removeAt(base, JSON.parse(p));
  }
  base = mergeInto(base, config);
  const out: ManagedFieldsEntry[] = others
    .filter((o) => o.fields.size)
    .map((o) => ({ ...o.e, fieldsV1: toFieldsV1(o.fields) }));
  const entry: ManagedFieldsEntry = {
    manager,
    operation: 'Apply',
    apiVersion,
    time: nowTime(),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(applied),
  };
  if (subresource) entry.subresource = subresource;
  out.push(entry);
  return { object: base, managedFields: out };
}
