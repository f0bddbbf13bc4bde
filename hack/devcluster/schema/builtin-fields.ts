// Unknown fields of built-in objects. A real kube-apiserver decodes built-ins into Go structs, so
// fields the type does not have are dropped (fieldValidation=Ignore), reported as warnings (Warn,
// the server default) or rejected with `strict decoding error: unknown field "spec.x"` (Strict,
// kubectl's default). The field tables come from @kubernetes/client-node's generated models
// (attributeTypeMap of every upstream type), not from hand-written lists.
//
// Loading every model takes a noticeable fraction of a second, so this module is separate from
// index.ts (which stays quick to import): import it where startup can afford it.
import * as models from '@kubernetes/client-node/dist/gen/models/ObjectSerializer.js';
import { isPlainObject } from './types.js';

interface Attribute {
  baseName: string;
  type: string;
}

type ModelClass = { getAttributeTypeMap?: () => Attribute[]; attributeTypeMap?: Attribute[] };

const tables = new Map<string, Map<string, string>>();

function table(typeName: string): Map<string, string> | undefined {
  const cached = tables.get(typeName);
  if (cached) return cached;
  const cls = (models as unknown as Record<string, ModelClass | undefined>)[typeName];
  const attrs = cls?.getAttributeTypeMap?.() ?? cls?.attributeTypeMap;
  if (!Array.isArray(attrs)) return undefined;
  const t = new Map(attrs.map((a) => [a.baseName, a.type]));
  tables.set(typeName, t);
  return t;
}

/** client-node's class for "<apiVersion>/<kind>": V1Pod, V1Deployment, V2HorizontalPodAutoscaler, CoreV1Event, ... */
function modelName(apiVersion: string, kind: string): string | undefined {
  const version = apiVersion.split('/').pop() ?? '';
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
  const v = version.charAt(0).toUpperCase() + version.slice(1);
  const candidates =
    kind === 'Event' ? [group === 'events.k8s.io' ? `Events${v}Event` : `Core${v}Event`] : [`${v}${kind}`];
  return candidates.find((c) => table(c) !== undefined);
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

function walk(value: unknown, type: string, path: string, unknown: string[]): void {
  const arr = ARRAY.exec(type);
  if (arr) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, arr[1], `${path}[${i}]`, unknown));
    return;
  }
  const map = MAP.exec(type);
  if (map) {
    if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walk(v, map[1], `${path}.${k}`, unknown);
    return;
  }
  const fields = table(type);
  if (!fields || !isPlainObject(value)) return; // scalars, IntOrString, Date, any, object
  for (const key of Object.keys(value)) {
    const fieldType = fields.get(key);
    if (fieldType === undefined) {
      unknown.push(`${path}.${key}`);
      delete value[key];
    } else {
      walk(value[key], fieldType, `${path}.${key}`, unknown);
    }
  }
}

/**
 * Drops fields the built-in type does not have, in place, and returns their paths
 * ('.spec.replicass', '.spec.template.spec.containers[0].imagee'), like CompiledSchema.prune.
 * Kinds client-node has no model for are left alone.
 */
export function pruneBuiltin(apiVersion: string, kind: string, obj: unknown): string[] {
  const name = modelName(apiVersion, kind);
  const unknown: string[] = [];
  if (name) walk(obj, name, '', unknown);
  return unknown;
}
