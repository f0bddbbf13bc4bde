// A structural schema compiled once per CRD generation into a tree of nodes with everything the hot
// paths (defaulting, pruning, validation, CEL) need precomputed: property maps, regexes, CEL programs.
import type { JSONSchemaProps } from './types.js';
import type { CompiledRule } from './cel.js';

export interface SchemaNode {
  schema: JSONSchemaProps;
  /** "object" | "array" | "string" | "integer" | "number" | "boolean" | undefined (int-or-string / preserved) */
  type: string | undefined;
  intOrString: boolean;
  preserveUnknown: boolean;
  embedded: boolean;
  nullable: boolean;
  properties: Map<string, SchemaNode> | undefined;
  /** additionalProperties as a schema; `true` keeps any value, `false`/undefined allows none beyond properties. */
  additional: SchemaNode | boolean | undefined;
  items: SchemaNode | undefined;
  required: string[];
  pattern: RegExp | undefined;
  enumValues: unknown[] | undefined;
  listType: string | undefined;
  listMapKeys: string[];
  rules: CompiledRule[];
  /** True when this node or any descendant carries x-kubernetes-validations (lets CEL skip whole subtrees). */
  hasRules: boolean;
  /** allOf/anyOf/oneOf/not value validations, compiled lazily only when present. */
  allOf: SchemaNode[];
  anyOf: SchemaNode[];
  oneOf: SchemaNode[];
  not: SchemaNode | undefined;
}

/** Go's regexp (RE2) and ECMAScript agree on the patterns CRDs use; `u` keeps code-point semantics. */
function compilePattern(pattern: string): RegExp {
  return new RegExp(pattern, 'u');
}

export function buildNode(schema: JSONSchemaProps, compileRules: (node: SchemaNode) => CompiledRule[]): SchemaNode {
  const node: SchemaNode = {
    schema,
    type: schema.type,
    intOrString: schema['x-kubernetes-int-or-string'] === true,
    preserveUnknown: schema['x-kubernetes-preserve-unknown-fields'] === true,
    embedded: schema['x-kubernetes-embedded-resource'] === true,
    nullable: schema.nullable === true,
    properties: undefined,
    additional: undefined,
    items: undefined,
    required: Array.isArray(schema.required) ? schema.required : [],
    pattern: undefined,
    enumValues: Array.isArray(schema.enum) ? schema.enum : undefined,
    listType: schema['x-kubernetes-list-type'],
    listMapKeys: schema['x-kubernetes-list-map-keys'] ?? [],
    rules: [],
    hasRules: false,
    allOf: (schema.allOf ?? []).map((s) => buildNode(s, compileRules)),
    anyOf: (schema.anyOf ?? []).map((s) => buildNode(s, compileRules)),
    oneOf: (schema.oneOf ?? []).map((s) => buildNode(s, compileRules)),
    not: schema.not ? buildNode(schema.not, compileRules) : undefined,
  };
  if (typeof schema.pattern === 'string') {
    try {
      node.pattern = compilePattern(schema.pattern);
    } catch {
      node.pattern = undefined; // validateCrd reports invalid patterns; a stored CRD never has one
    }
  }
  if (schema.properties) {
    node.properties = new Map(Object.entries(schema.properties).map(([k, v]) => [k, buildNode(v, compileRules)]));
  }
  if (typeof schema.additionalProperties === 'boolean') node.additional = schema.additionalProperties;
  else if (schema.additionalProperties) node.additional = buildNode(schema.additionalProperties, compileRules);
  if (schema.items && !Array.isArray(schema.items)) node.items = buildNode(schema.items, compileRules);
  node.rules = compileRules(node);
  node.hasRules =
    node.rules.length > 0 ||
    [...(node.properties?.values() ?? [])].some((p) => p.hasRules) ||
    (typeof node.additional === 'object' && node.additional.hasRules) ||
    (node.items?.hasRules ?? false);
  return node;
}

/** The value kube-openapi prints for a rule failure: the schema type ("object", "string", ...). */
export function schemaTypeName(node: SchemaNode): string {
  return node.type ?? '';
}
