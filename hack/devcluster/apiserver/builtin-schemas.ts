// OpenAPI v3 component schemas of built-in kinds, derived from @kubernetes/client-node's
// generated models (field names, types, formats; no descriptions). They let `kubectl explain`
// walk built-in kinds; validation itself stays on the server.
import { modelAttributes, modelName } from './unknown-fields.js';
import type { KObject, ResourceType } from './registry.js';

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

function typeSchema(type: string, format: string | undefined, refs: Set<string>): KObject {
  const array = ARRAY.exec(type);
  if (array) return { type: 'array', items: typeSchema(array[1], undefined, refs) };
  const map = MAP.exec(type);
  if (map) return { type: 'object', additionalProperties: typeSchema(map[1], undefined, refs) };
  switch (type) {
    case 'string':
      return format === 'byte' ? { type: 'string', format: 'byte' } : { type: 'string' };
    case 'number':
      return format === 'double'
        ? { type: 'number', format: 'double' }
        : { type: 'integer', format: format || 'int64' };
    case 'boolean':
      return { type: 'boolean' };
    case 'Date':
      return { type: 'string', format: 'date-time' };
    case 'IntOrString':
      return { 'x-kubernetes-int-or-string': true };
    case 'any':
      return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }
  if (modelAttributes(type)) {
    refs.add(type);
    return { $ref: `#/components/schemas/${type}` };
  }
  return {};
}

function modelSchema(typeName: string, refs: Set<string>): KObject {
  const properties: KObject = {};
  for (const a of modelAttributes(typeName) ?? []) properties[a.baseName] = typeSchema(a.type, a.format, refs);
  return { type: 'object', properties };
}

/**
 * Schemas for the built-in kinds among `types`: one component per model reached, the kinds'
 * roots tagged with `x-kubernetes-group-version-kind` (how kubectl finds them).
 */
export function builtinComponents(types: ResourceType[]): { schemas: KObject; rootOf: Map<ResourceType, string> } {
  const schemas: KObject = {};
  const rootOf = new Map<ResourceType, string>();
  const pending: string[] = [];
  for (const t of types) {
    const name = t.builtin && !t.virtual ? modelName(t.group, t.version, t.kind) : undefined;
    if (name) {
      rootOf.set(t, name);
      pending.push(name);
    }
  }
  while (pending.length) {
    const name = pending.pop()!;
    if (schemas[name]) continue;
    const refs = new Set<string>();
    schemas[name] = modelSchema(name, refs);
    for (const r of refs) if (!schemas[r]) pending.push(r);
  }
  for (const [t, name] of rootOf) {
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    schemas[name]['x-kubernetes-group-version-kind'] = [
      ...(schemas[name]['x-kubernetes-group-version-kind'] ?? []),
      gvk,
    ];
  }
  return { schemas, rootOf };
}
