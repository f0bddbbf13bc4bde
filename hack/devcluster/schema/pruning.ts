// apiextensions pruning: fields the structural schema does not specify are dropped, except below
// x-kubernetes-preserve-unknown-fields, and apiVersion/kind/metadata of the resource root and of
// x-kubernetes-embedded-resource objects. Returns what was dropped, e.g. ".spec.foo", so the API
// server can warn (fieldValidation=Warn) or reject (Strict) with upstream's "unknown field" wording.
import type { SchemaNode } from './node.js';
import { isPlainObject } from './types.js';

const RESOURCE_META = new Set(['apiVersion', 'kind', 'metadata']);

export function pruneUnknown(value: unknown, root: SchemaNode): string[] {
  const pruned: string[] = [];
  pruneNode(value, root, '', true, pruned);
  return pruned;
}

function pruneNode(
  value: unknown,
  node: SchemaNode | undefined,
  path: string,
  isResource: boolean,
  pruned: string[],
): void {
  if (!node) return;
  if (Array.isArray(value)) {
    if (node.items)
      value.forEach((item, i) => pruneNode(item, node.items, `${path}[${i}]`, node.items!.embedded, pruned));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    // metadata of a resource is ObjectMeta, coerced by the API server rather than by this schema
    if (isResource && RESOURCE_META.has(key)) continue;
    const childPathText = `${path}.${key}`;
    const prop = node.properties?.get(key);
    if (prop) {
      pruneNode(value[key], prop, childPathText, prop.embedded, pruned);
      continue;
    }
    if (typeof node.additional === 'object') {
      pruneNode(value[key], node.additional, childPathText, node.additional.embedded, pruned);
      continue;
    }
    if (node.additional === true || node.preserveUnknown) continue;
    delete value[key];
    pruned.push(childPathText);
  }
}
