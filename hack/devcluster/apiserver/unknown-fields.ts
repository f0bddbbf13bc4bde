// Unknown fields of built-in kinds. kube-apiserver decodes built-ins into typed structs, so a
// field the type lacks is dropped (reported as a warning under fieldValidation=Warn, a 400
// under Strict). The field lists come from @kubernetes/client-node's generated models of the
// upstream OpenAPI (their attributeTypeMap), the same schema the real structs follow.
// Only the generated models (26 MiB loaded), not the whole client (68 MiB).
import * as models from '@kubernetes/client-node/dist/gen/models/all.js';

export interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format?: string;
}
type Model = { getAttributeTypeMap?: () => Attribute[] };

const modelTable = models as unknown as Record<string, Model | undefined>;
const attributeCache = new Map<string, Map<string, string> | null>();

/** The generated model's attributes (JSON names, TypeScript-style types, OpenAPI formats). */
export function modelAttributes(typeName: string): Attribute[] | undefined {
  return modelTable[typeName]?.getAttributeTypeMap?.();
}

function attributesOf(typeName: string): Map<string, string> | null {
  let cached = attributeCache.get(typeName);
  if (cached !== undefined) return cached;
  const attrs = modelTable[typeName]?.getAttributeTypeMap?.();
  cached = attrs ? new Map(attrs.map((a) => [a.baseName, a.type])) : null;
  attributeCache.set(typeName, cached);
  return cached;
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** The generated model of a built-in kind: `V1Deployment`, `CoreV1Event`, `EventsV1Event`, `V2HorizontalPodAutoscaler`. */
export function modelName(group: string, version: string, kind: string): string | undefined {
  const v = capitalise(version);
  const prefix = group === '' ? 'Core' : capitalise(group.split('.')[0]);
  for (const name of [`${prefix}${v}${kind}`, `${v}${kind}`]) if (attributesOf(name)) return name;
  return undefined;
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Paths of fields `obj` has but its type does not ('spec.template.spec.containers[0].imagex'),
 * removed from `obj` in place as the real decoder drops them.
 */
export function pruneUnknownBuiltinFields(group: string, version: string, kind: string, obj: unknown): string[] {
  const root = modelName(group, version, kind);
  const out: string[] = [];
  if (root) walk(obj, root, '', out);
  return out;
}

function walk(value: unknown, typeName: string, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  const array = ARRAY.exec(typeName);
  if (array) {
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, array[1], `${path}[${i}]`, out));
    return;
  }
  const map = MAP.exec(typeName);
  if (map) {
    if (isObject(value)) for (const [k, v] of Object.entries(value)) walk(v, map[1], `${path}[${k}]`, out);
    return;
  }
  const attrs = attributesOf(typeName);
  if (!attrs || !isObject(value)) return;
  for (const key of Object.keys(value)) {
    const child = path ? `${path}.${key}` : key;
    const type = attrs.get(key);
    if (type === undefined) {
      out.push(child);
      delete value[key];
      continue;
    }
    walk(value[key], type, child, out);
  }
}
