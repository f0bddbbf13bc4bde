// Names and labels derived from objects (pure). Kubernetes caps label values and Job names at
// 63 characters while object names may be longer, so long names are cut and suffixed with a
// hash of the full name: stable across reconciles and operator restarts, and unique in practice.
import { createHash } from 'node:crypto';

export const MAX_LABEL_VALUE = 63;

/** `name` when it fits in `max` characters, else a prefix and 8 hex digits of its hash. */
export function shortName(name: string, max = MAX_LABEL_VALUE): string {
  if (name.length <= max) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const prefix = name.slice(0, max - hash.length - 1).replace(/[-.]+$/, '');
  return `${prefix}-${hash}`;
}

/** A stable digest of a JSON value, independent of key order. */
export function stableHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
