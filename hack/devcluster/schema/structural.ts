// Static checks of a CRD version's openAPIV3Schema: the structural-schema invariants and the API
// validation of JSONSchemaProps, worded as apiextensions-apiserver words them.
import { forbidden, invalid, keyPath, required, type FieldError } from './errors.js';
import type { JSONSchemaProps } from './types.js';
import { isPlainObject } from './types.js';

type Level = 'root' | 'item' | 'field';

const SUPPORTED_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];

export function validateStructuralSchema(schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  checkSchema(schema, 'root', path, errs);
  return errs;
}

/** The vendor extensions and type most rules depend on, read once per schema node. */
interface Flags {
  type: string;
  intOrString: boolean;
  preserve: boolean;
  embedded: boolean;
}

/**
 * One schema node and then its children. The rule groups run in a fixed order: error lists are
 * compared in order, so moving a group changes results.
 */
function checkSchema(s: JSONSchemaProps, level: Level, path: string, errs: FieldError[]): void {
  if (!isPlainObject(s)) {
    errs.push(invalid(path, s, 'must be an object'));
    return;
  }
  const flags: Flags = {
    intOrString: s['x-kubernetes-int-or-string'] === true,
    preserve: s['x-kubernetes-preserve-unknown-fields'] === true,
    embedded: s['x-kubernetes-embedded-resource'] === true,
    type: s.type ?? '',
  };
  checkKeywords(s, flags.type, path, errs);
  checkAdditionalProperties(s, level, path, errs);
  checkType(flags, level, path, errs);
  checkEmbedded(s, flags, path, errs);
  checkExtensions(s, flags, path, errs);
  checkListType(s, path, errs);
  checkPattern(s, path, errs);
  if (level === 'root' && s.properties?.metadata)
    checkRootMetadata(s.properties.metadata, `${keyPath(`${path}.properties`, 'metadata')}`, errs);
  checkChildren(s, path, errs);
}

/** Keywords the API server rejects outright, and the shape of type and items. */
function checkKeywords(s: JSONSchemaProps, type: string, path: string, errs: FieldError[]): void {
  if (s.$ref !== undefined) errs.push(forbidden(`${path}.$ref`, '$ref is not supported'));
  if (type && !SUPPORTED_TYPES.includes(type)) {
    errs.push({
      type: 'FieldValueNotSupported',
      field: `${path}.type`,
      message: `Unsupported value: ${JSON.stringify(type)}: supported values: ${SUPPORTED_TYPES.map((t) => JSON.stringify(t)).join(', ')}`,
    });
  }
  if (s.uniqueItems === true) {
    errs.push(
      forbidden(
        `${path}.uniqueItems`,
        'uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
      ),
    );
  }
  if (type === 'array' && s.items === undefined) errs.push(required(`${path}.items`, 'must be specified'));
  if (Array.isArray(s.items)) errs.push(forbidden(`${path}.items`, 'items must be a schema object and not an array'));
}

function checkAdditionalProperties(s: JSONSchemaProps, level: Level, path: string, errs: FieldError[]): void {
  if (s.additionalProperties !== undefined && s.properties && Object.keys(s.properties).length) {
    if (s.additionalProperties === false || isPlainObject(s.additionalProperties)) {
      errs.push(forbidden(`${path}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    }
  }
  if (s.additionalProperties !== undefined && level === 'root') {
    errs.push(forbidden(`${path}.additionalProperties`, 'must not be used at the root'));
  }
}

/** A structural schema names a type everywhere, except where an extension stands in for it. */
function checkType(flags: Flags, level: Level, path: string, errs: FieldError[]): void {
  const { type, intOrString, preserve, embedded } = flags;
  if (embedded && type !== 'object') {
    if (!type) errs.push(required(`${path}.type`, 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(invalid(`${path}.type`, type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!type && !intOrString && !preserve) {
    const detail =
      level === 'root'
        ? 'must not be empty at the root'
        : level === 'item'
          ? 'must not be empty for specified array items'
          : 'must not be empty for specified object fields';
    errs.push(required(`${path}.type`, detail));
  }
  if (level === 'root' && type && type !== 'object')
    errs.push(invalid(`${path}.type`, type, 'must be object at the root'));
}

/** An embedded resource is an object whose fields are either declared or preserved. */
function checkEmbedded(s: JSONSchemaProps, flags: Flags, path: string, errs: FieldError[]): void {
  if (flags.embedded && s.additionalProperties !== undefined) {
    errs.push(forbidden(`${path}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'));
  }
  if (flags.embedded && !flags.preserve && !(s.properties && Object.keys(s.properties).length)) {
    errs.push(
      required(
        `${path}.properties`,
        'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      ),
    );
  }
}

/** x-kubernetes-int-or-string excludes the other extensions and an explicit type. */
function checkExtensions(s: JSONSchemaProps, flags: Flags, path: string, errs: FieldError[]): void {
  const { type, intOrString, preserve, embedded } = flags;
  if (s['x-kubernetes-preserve-unknown-fields'] === false) {
    errs.push(invalid(`${path}.x-kubernetes-preserve-unknown-fields`, false, 'must be true or undefined'));
  }
  if (intOrString && preserve) {
    errs.push(
      invalid(
        `${path}.x-kubernetes-preserve-unknown-fields`,
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }
  if (intOrString && embedded) {
    errs.push(
      invalid(`${path}.x-kubernetes-embedded-resource`, true, 'must be false if x-kubernetes-int-or-string is true'),
    );
  }
  if (intOrString && type) {
    errs.push(invalid(`${path}.type`, type, 'must be empty if x-kubernetes-int-or-string is true'));
  }
}

function checkPattern(s: JSONSchemaProps, path: string, errs: FieldError[]): void {
  if (typeof s.pattern !== 'string') return;
  try {
    new RegExp(s.pattern, 'u');
  } catch (err) {
    errs.push(
      invalid(`${path}.pattern`, s.pattern, `must be a valid regular expression, but isn't: ${(err as Error).message}`),
    );
  }
}

/** Declared children are full schemas; the junctors below them hold value validations only. */
function checkChildren(s: JSONSchemaProps, path: string, errs: FieldError[]): void {
  for (const [name, prop] of Object.entries(s.properties ?? {}))
    checkSchema(prop, 'field', keyPath(`${path}.properties`, name), errs);
  if (isPlainObject(s.additionalProperties))
    checkSchema(s.additionalProperties as JSONSchemaProps, 'field', `${path}.additionalProperties`, errs);
  if (isPlainObject(s.items)) checkSchema(s.items as JSONSchemaProps, 'item', `${path}.items`, errs);
  // the two int-or-string shapes may name types under anyOf: anyOf [integer, string], or that as allOf[0]
  if (!isIntOrStringAnyOf(s.anyOf)) (s.anyOf ?? []).forEach((n, i) => checkNested(n, `${path}.anyOf[${i}]`, errs));
  (s.allOf ?? []).forEach((n, i) => {
    if (i === 0 && isIntOrStringAnyOf(n.anyOf)) checkNested({ ...n, anyOf: undefined }, `${path}.allOf[0]`, errs);
    else checkNested(n, `${path}.allOf[${i}]`, errs);
  });
  (s.oneOf ?? []).forEach((n, i) => checkNested(n, `${path}.oneOf[${i}]`, errs));
  if (s.not) checkNested(s.not, `${path}.not`, errs);
}

function isIntOrStringAnyOf(anyOf: JSONSchemaProps[] | undefined): boolean {
  return (
    anyOf?.length === 2 &&
    Object.keys(anyOf[0]).length === 1 &&
    anyOf[0].type === 'integer' &&
    Object.keys(anyOf[1]).length === 1 &&
    anyOf[1].type === 'string'
  );
}

function checkListType(s: JSONSchemaProps, path: string, errs: FieldError[]): void {
  const listType = s['x-kubernetes-list-type'];
  const keys = s['x-kubernetes-list-map-keys'];
  if (listType === undefined) {
    if (keys?.length)
      errs.push(forbidden(`${path}.x-kubernetes-list-map-keys`, 'must be empty if x-kubernetes-list-type is not map'));
    return;
  }
  if (s.type !== 'array') {
    errs.push(invalid(`${path}.type`, s.type ?? '', 'must be array if x-kubernetes-list-type is specified'));
    return;
  }
  if (!['atomic', 'set', 'map'].includes(listType)) {
    errs.push({
      type: 'FieldValueNotSupported',
      field: `${path}.x-kubernetes-list-type`,
      message: `Unsupported value: ${JSON.stringify(listType)}: supported values: "atomic", "set", "map"`,
    });
    return;
  }
  if (listType !== 'map') {
    if (keys?.length)
      errs.push(forbidden(`${path}.x-kubernetes-list-map-keys`, 'must be empty if x-kubernetes-list-type is not map'));
    return;
  }
  if (!keys?.length) {
    errs.push(required(`${path}.x-kubernetes-list-map-keys`, 'must not be empty if x-kubernetes-list-type is map'));
    return;
  }
  const items = isPlainObject(s.items) ? (s.items as JSONSchemaProps) : undefined;
  if (items?.type !== 'object') {
    errs.push(
      invalid(
        `${path}.items.type`,
        items?.type ?? '',
        "must be object if parent array's x-kubernetes-list-type is map",
      ),
    );
    return;
  }
  keys.forEach((k, i) => {
    const keySchema = items.properties?.[k];
    if (!keySchema) {
      errs.push(
        required(`${path}.items.properties[${k}]`, `must exist because listed by x-kubernetes-list-map-keys[${i}]`),
      );
      return;
    }
    if (!['string', 'integer', 'number', 'boolean'].includes(keySchema.type ?? '')) {
      errs.push(
        invalid(
          `${path}.items.properties[${k}].type`,
          keySchema.type ?? '',
          "must be a scalar type if parent array's x-kubernetes-list-type is map",
        ),
      );
    }
    if (!(items.required ?? []).includes(k) && keySchema.default === undefined) {
      errs.push(
        required(
          `${path}.items.required`,
          `must contain "${k}" or ${path}.items.properties[${k}].default must be specified`,
        ),
      );
    }
  });
}

function checkRootMetadata(metadata: JSONSchemaProps, path: string, errs: FieldError[]): void {
  if (metadata.type !== undefined && metadata.type !== 'object')
    errs.push(invalid(`${path}.type`, metadata.type, 'must be object'));
  const extra = Object.keys(metadata.properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName');
  const restricted = Object.keys(metadata).filter((k) => !['type', 'properties', 'description'].includes(k));
  if (extra.length || restricted.length) {
    errs.push(
      forbidden(
        path,
        'must not specify anything other than name and generateName, but metadata is implicitly specified',
      ),
    );
  }
}

/** Inside allOf/anyOf/oneOf/not only value validations are allowed (structural rule). */
function checkNested(s: JSONSchemaProps, path: string, errs: FieldError[]): void {
  if (!isPlainObject(s)) return;
  const forbiddenChecks: [boolean, string, string][] = [
    [s.type !== undefined && s.type !== '', 'type', 'must be empty to be structural'],
    [s.additionalProperties !== undefined, 'additionalProperties', 'must be undefined to be structural'],
    [s.default !== undefined, 'default', 'must be undefined to be structural'],
    [!!s.title, 'title', 'must be empty to be structural'],
    [!!s.description, 'description', 'must be empty to be structural'],
    [s.nullable === true, 'nullable', 'must be false to be structural'],
    [
      s['x-kubernetes-preserve-unknown-fields'] === true,
      'x-kubernetes-preserve-unknown-fields',
      'must be false to be structural',
    ],
    [s['x-kubernetes-embedded-resource'] === true, 'x-kubernetes-embedded-resource', 'must be false to be structural'],
    [s['x-kubernetes-int-or-string'] === true, 'x-kubernetes-int-or-string', 'must be false to be structural'],
    [!!s['x-kubernetes-list-map-keys']?.length, 'x-kubernetes-list-map-keys', 'must be empty to be structural'],
    [s['x-kubernetes-list-type'] !== undefined, 'x-kubernetes-list-type', 'must be undefined to be structural'],
  ];
  for (const [bad, key, detail] of forbiddenChecks) if (bad) errs.push(forbidden(`${path}.${key}`, detail));
  if (s.properties?.metadata)
    errs.push(forbidden(keyPath(`${path}.properties`, 'metadata'), 'must not be specified in a nested context'));
  for (const [name, prop] of Object.entries(s.properties ?? {}))
    checkNested(prop, keyPath(`${path}.properties`, name), errs);
  if (isPlainObject(s.items)) checkNested(s.items as JSONSchemaProps, `${path}.items`, errs);
  (['allOf', 'anyOf', 'oneOf'] as const).forEach((j) =>
    (s[j] ?? []).forEach((n, i) => checkNested(n, `${path}.${j}[${i}]`, errs)),
  );
  if (s.not) checkNested(s.not, `${path}.not`, errs);
}
