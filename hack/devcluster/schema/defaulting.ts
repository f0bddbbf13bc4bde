// apiextensions defaulting: absent (or null, when not nullable) fields get their schema `default`,
// and defaulting recurses into every present object, map value and list item — including values
// that were themselves just defaulted, so nested defaults inside a defaulted object apply too.
import type { SchemaNode } from './node.js';
import { deepCopy, isPlainObject } from './types.js';

function isNonNullableNull(value: unknown, node: SchemaNode | undefined): boolean {
  return value === null && !!node && !node.nullable;
}

export function applyDefaults(value: unknown, node: SchemaNode | undefined): void {
  if (!node) return;
  if (Array.isArray(value)) {
    const items = node.items;
    if (!items) return;
    for (let i = 0; i < value.length; i++) {
      if (isNonNullableNull(value[i], items) && items.schema.default !== undefined)
        value[i] = deepCopy(items.schema.default);
      applyDefaults(value[i], items);
    }
    return;
  }
  if (!isPlainObject(value)) return;
  if (node.properties) {
    for (const [key, prop] of node.properties) {
      const d = prop.schema.default;
      if (d === undefined) continue;
      if (!(key in value) || isNonNullableNull(value[key], prop)) value[key] = deepCopy(d);
    }
  }
  const additional = typeof node.additional === 'object' ? node.additional : undefined;
  for (const key of Object.keys(value)) {
    const child = node.properties?.get(key) ?? additional;
    if (!child) continue;
    if (child === additional && isNonNullableNull(value[key], child) && child.schema.default !== undefined) {
      value[key] = deepCopy(child.schema.default);
    }
    applyDefaults(value[key], child);
  }
}

/**
 * Upstream drops nulls of non-nullable fields that have no default before defaulting
 * (structuraldefaulting.PruneNonNullableNullsWithoutDefaults); this does the same, in place.
 */
export function pruneNonNullableNulls(value: unknown, node: SchemaNode | undefined): void {
  if (!node) return;
  if (Array.isArray(value)) {
    for (const item of value) pruneNonNullableNulls(item, node.items);
    return;
  }
  if (!isPlainObject(value)) return;
  const additional = typeof node.additional === 'object' ? node.additional : undefined;
  for (const key of Object.keys(value)) {
    const child = node.properties?.get(key) ?? additional;
    if (!child) continue;
    if (isNonNullableNull(value[key], child) && child.schema.default === undefined) {
      delete value[key];
      continue;
    }
    pruneNonNullableNulls(value[key], child);
  }
}
