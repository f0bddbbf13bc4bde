// Structural defaulting, as the API server does it for a CRD schema: a missing (or null) field
// that has a `default` gets a copy of it, then its own fields are defaulted in turn, through
// objects, array items and map values. The trees it walks are generated from crds/*.yaml into
// types.gen.ts, so the CRDs stay the one home of every default. Objects that bypassed the API
// server (tests, a cache primed by hand) read exactly as a stored object would.

/** The defaults beneath one schema node (only nodes that have a default somewhere below). */
export interface DefaultsNode {
  default?: unknown;
  properties?: Readonly<Record<string, DefaultsNode>>;
  items?: DefaultsNode;
  additionalProperties?: DefaultsNode;
}

/** A defaulted copy of `value`; the input is never changed (cache objects are shared). */
export function applyDefaults<T>(value: T, node: DefaultsNode): T {
  if (Array.isArray(value)) return (node.items ? value.map((v) => defaulted(v, node.items!)) : value) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  const known = node.properties ?? {};
  for (const [key, child] of Object.entries(known)) {
    if (key in out || child.default !== undefined) out[key] = defaulted(out[key], child);
  }
  if (node.additionalProperties) {
    for (const key of Object.keys(out)) if (!(key in known)) out[key] = defaulted(out[key], node.additionalProperties);
  }
  return out as T;
}

/** One field's value: its default when absent or null (and it has one), then defaulted within. */
function defaulted(value: unknown, node: DefaultsNode): unknown {
  const present =
    value === undefined || value === null
      ? node.default === undefined
        ? value
        : structuredClone(node.default)
      : value;
  return present === undefined || present === null ? present : applyDefaults(present, node);
}
