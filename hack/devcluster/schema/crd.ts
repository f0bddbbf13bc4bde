// CustomResourceDefinitions: static validation of the CRD object, and compilation of one served
// version's schema into a CompiledSchema (cached per CRD generation: it runs on every write).
import { CelCompileError, compileRule, type CompiledRule } from './cel.js';
import { applyDefaults, pruneNonNullableNulls } from './defaulting.js';
import { invalid, notSupported, required, type FieldError } from './errors.js';
import { isDNS1035Label, isDNS1123Subdomain, validateLabelsAndAnnotations, validateObjectMetaName } from './names.js';
import { buildNode, type SchemaNode } from './node.js';
import { pruneUnknown } from './pruning.js';
import { validateStructuralSchema } from './structural.js';
import { isPlainObject, type JSONSchemaProps, type ValidationRule } from './types.js';
import { CEL_SKIPPED_ERROR, isBlocking, validateTree } from './validate.js';

export interface CompiledSchema {
  /** In place, per OpenAPI `default`: absent (or non-nullable null) fields; nested objects when present. */
  applyDefaults(obj: any): void;
  /** Removes unknown fields in place; returns their paths ('.spec.foo') for fieldValidation=Strict/Warn. */
  prune(obj: any): string[];
  /** Schema, list-type and CEL validation; `oldObj` enables transition rules and ratcheting. */
  validate(obj: any, oldObj?: any): FieldError[];
}

interface PrinterColumn {
  name?: string;
  type?: string;
  format?: string;
  jsonPath?: string;
}

interface CrdVersion {
  name?: string;
  served?: boolean;
  storage?: boolean;
  additionalPrinterColumns?: PrinterColumn[];
  schema?: { openAPIV3Schema?: JSONSchemaProps };
  subresources?: { status?: object; scale?: object };
}

function versionsOf(crd: any): CrdVersion[] {
  return Array.isArray(crd?.spec?.versions) ? crd.spec.versions : [];
}

// ---------------------------------------------------------------------------------------------
// Compilation.

/** Kubernetes adds apiVersion, kind and metadata.name/generateName to the root for CEL and typing. */
const IMPLICIT_ROOT: Record<string, JSONSchemaProps> = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object', properties: { name: { type: 'string' }, generateName: { type: 'string' } } },
};

function withImplicitRoot(schema: JSONSchemaProps): JSONSchemaProps {
  const properties = { ...(schema.properties ?? {}) };
  for (const [k, v] of Object.entries(IMPLICIT_ROOT)) {
    const declared = properties[k];
    properties[k] =
      k === 'metadata'
        ? { ...v, ...(declared ?? {}), properties: { ...v.properties, ...(declared?.properties ?? {}) } }
        : (declared ?? v);
  }
  return { ...schema, type: schema.type ?? 'object', properties };
}

/** Builds the node tree, compiling every x-kubernetes-validations rule once. */
function compileTree(schema: JSONSchemaProps): SchemaNode {
  return buildNode(withImplicitRoot(schema), (node) => {
    const rules = node.schema['x-kubernetes-validations'] ?? [];
    const compiled: CompiledRule[] = [];
    rules.forEach((rule, index) => {
      try {
        compiled.push(compileRule(rule, index, node));
      } catch (err) {
        if (!(err instanceof CelCompileError)) throw err;
        compiled.push(failingRule(rule, index, err.message));
      }
    });
    return compiled;
  });
}

/** A stored CRD whose rule does not compile reports it on every write, as upstream does. */
function failingRule(rule: ValidationRule, index: number, message: string): CompiledRule {
  return {
    rule,
    index,
    isTransition: false,
    messageProgram: undefined,
    program: () => Object.assign(new Error(`rule compile error: ${message}`), { compileError: true }) as never,
  };
}

class Compiled implements CompiledSchema {
  constructor(
    private readonly root: SchemaNode,
    private readonly namespaced: boolean,
  ) {}

  applyDefaults(obj: any): void {
    pruneNonNullableNulls(obj, this.root);
    applyDefaults(obj, this.root);
  }

  prune(obj: any): string[] {
    return pruneUnknown(obj, this.root);
  }

  validate(obj: any, oldObj?: any): FieldError[] {
    const errs: FieldError[] = [
      ...validateObjectMetaName(obj?.metadata),
      ...validateLabelsAndAnnotations(obj?.metadata),
    ];
    if (!this.namespaced && typeof obj?.metadata?.namespace === 'string' && obj.metadata.namespace) {
      errs.push({
        type: 'FieldValueForbidden',
        field: 'metadata.namespace',
        message: 'Forbidden: not allowed on this type',
      });
    }
    const result = validateTree(obj, oldObj ?? undefined, this.root);
    errs.push(...result.schemaErrs, ...result.listErrs);
    if (this.root.hasRules) {
      if (errs.some(isBlocking)) errs.push(CEL_SKIPPED_ERROR);
      else errs.push(...result.celErrs);
    }
    // errors on the object itself carry upstream's nil field path, printed "<nil>"
    return errs.map((e) => (e.field === '' ? { ...e, field: '<nil>' } : e));
  }
}

const PERMISSIVE: JSONSchemaProps = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const CACHE_LIMIT = 256;
const cache = new Map<string, CompiledSchema>();
const byIdentity = new WeakMap<object, Map<string, CompiledSchema>>();

/**
 * Compiles the schema of `version` (a served version of the CRD). Cached by CRD uid + generation
 * (+ version, subresource); CRD objects without those (tests, fixtures) are cached by identity.
 * `subresource: 'status'` validates the same way: status writes keep the stored spec, and
 * ratcheting (validate with oldObj) drops errors in the unchanged parts, as upstream.
 */
export function compileCrdSchema(crd: unknown, version: string, subresource?: 'status'): CompiledSchema {
  const c = crd as any;
  const key = `${version}|${subresource ?? ''}`;
  const uid = c?.metadata?.uid;
  const generation = c?.metadata?.generation;
  const globalKey = uid && generation !== undefined ? `${uid}|${generation}|${key}` : undefined;
  const hit = globalKey ? cache.get(globalKey) : isPlainObject(crd) ? byIdentity.get(crd)?.get(key) : undefined;
  if (hit) return hit;

  const v = versionsOf(crd).find((x) => x.name === version);
  if (!v)
    throw new Error(`CustomResourceDefinition ${c?.metadata?.name ?? ''} has no version ${JSON.stringify(version)}`);
  const schema = v.schema?.openAPIV3Schema ?? c?.spec?.validation?.openAPIV3Schema ?? PERMISSIVE;
  const compiled = new Compiled(compileTree(schema), c?.spec?.scope !== 'Cluster');

  if (globalKey) {
    if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
    cache.set(globalKey, compiled);
  } else if (isPlainObject(crd)) {
    const m = byIdentity.get(crd) ?? new Map<string, CompiledSchema>();
    m.set(key, compiled);
    byIdentity.set(crd, m);
  }
  return compiled;
}

// ---------------------------------------------------------------------------------------------
// Validation of the CustomResourceDefinition object itself.

function goVersions(versions: CrdVersion[]): string {
  const items = versions.map(
    (v) =>
      `apiextensions.CustomResourceDefinitionVersion{Name:${JSON.stringify(v.name ?? '')}, Served:${!!v.served}, Storage:${!!v.storage}, ...}`,
  );
  return `[]apiextensions.CustomResourceDefinitionVersion{${items.join(', ')}}`;
}

function invalidVersions(versions: CrdVersion[], detail: string): FieldError {
  return {
    type: 'FieldValueInvalid',
    field: 'spec.versions',
    message: `Invalid value: ${goVersions(versions)}: ${detail}`,
  };
}

function validateNames(names: any): FieldError[] {
  const errs: FieldError[] = [];
  const p = 'spec.names';
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const plural = str(names?.plural);
  const singular = str(names?.singular) || str(names?.kind).toLowerCase(); // v1 defaults singular
  const kind = str(names?.kind);
  const listKind = str(names?.listKind) || (kind ? `${kind}List` : ''); // v1 defaults listKind
  if (!plural) errs.push(required(`${p}.plural`));
  if (!singular) errs.push(required(`${p}.singular`));
  if (!kind) errs.push(required(`${p}.kind`));
  if (!listKind) errs.push(required(`${p}.listKind`));
  const label = (field: string, value: string) => {
    const m = isDNS1035Label(value);
    if (value && m.length) errs.push(invalid(`${p}.${field}`, value, m.join(',')));
  };
  const mixed = (field: string, value: string) => {
    const m = isDNS1035Label(value.toLowerCase());
    if (value && m.length)
      errs.push(invalid(`${p}.${field}`, value, `may have mixed case, but should otherwise match: ${m.join(',')}`));
  };
  label('plural', plural);
  label('singular', singular);
  mixed('kind', kind);
  mixed('listKind', listKind);
  (Array.isArray(names?.shortNames) ? names.shortNames : []).forEach((s: string, i: number) => {
    const m = isDNS1035Label(String(s));
    if (m.length) errs.push(invalid(`${p}.shortNames[${i}]`, s, m.join(',')));
  });
  if (kind && kind === listKind) errs.push(invalid(`${p}.listKind`, listKind, 'kind and listKind may not be the same'));
  (Array.isArray(names?.categories) ? names.categories : []).forEach((s: string, i: number) => {
    const m = isDNS1035Label(String(s));
    if (m.length) errs.push(invalid(`${p}.categories[${i}]`, s, m.join(',')));
  });
  return errs;
}

function validateVersionSchema(v: CrdVersion, i: number): FieldError[] {
  const path = `spec.versions[${i}].schema.openAPIV3Schema`;
  const schema = v.schema?.openAPIV3Schema;
  if (!schema) return [required(path, 'schemas are required')];
  const errs = validateStructuralSchema(schema, path);
  if (errs.length) return errs;
  errs.push(...validateDefaults(schema, path));
  errs.push(...validateRules(schema, path));
  return errs;
}

/** Go's %#v of apiextensions.ValidationRule, the value upstream prints for rule compile errors. */
function goRule(rule: ValidationRule): string {
  // a set pointer prints as an address upstream; a fixed placeholder keeps the shape
  const ptr = (type: string, v: unknown) => (v === undefined ? `(*${type})(nil)` : `(*${type})(0xc000000000)`);
  return (
    `apiextensions.ValidationRule{Rule:${JSON.stringify(rule.rule ?? '')}, Message:${JSON.stringify(rule.message ?? '')}, ` +
    `MessageExpression:${JSON.stringify(rule.messageExpression ?? '')}, Reason:${ptr('apiextensions.FieldValueErrorReason', rule.reason)}, ` +
    `FieldPath:${JSON.stringify(rule.fieldPath ?? '')}, OptionalOldSelf:${ptr('bool', rule.optionalOldSelf)}}`
  );
}

const REASONS = ['FieldValueInvalid', 'FieldValueForbidden', 'FieldValueRequired', 'FieldValueDuplicate'];

/** Every rule (and messageExpression) must compile; reported with cel-go's "compilation failed" wording. */
function validateRules(schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const visit = (s: JSONSchemaProps, p: string, isRoot: boolean) => {
    const node = buildNode(isRoot ? withImplicitRoot(s) : s, () => []);
    (s['x-kubernetes-validations'] ?? []).forEach((rule, i) => {
      const rulePath = `${p}.x-kubernetes-validations[${i}]`;
      if (typeof rule?.rule !== 'string' || !rule.rule.trim()) {
        errs.push(required(`${rulePath}.rule`));
        return;
      }
      if (rule.reason && !REASONS.includes(rule.reason))
        errs.push(notSupported(`${rulePath}.reason`, rule.reason, REASONS));
      try {
        compileRule(rule, i, node);
      } catch (err) {
        if (!(err instanceof CelCompileError)) throw err;
        const detail = err.part === 'rule' ? 'compilation failed' : 'messageExpression compilation failed';
        errs.push({
          type: 'FieldValueInvalid',
          field: `${rulePath}.${err.part}`,
          message: `Invalid value: ${goRule(rule)}: ${detail}: ${err.message}`,
        });
      }
    });
    for (const [name, prop] of Object.entries(s.properties ?? {})) visit(prop, `${p}.properties[${name}]`, false);
    if (isPlainObject(s.additionalProperties))
      visit(s.additionalProperties as JSONSchemaProps, `${p}.additionalProperties`, false);
    if (isPlainObject(s.items)) visit(s.items as JSONSchemaProps, `${p}.items`, false);
  };
  visit(schema, path, true);
  return errs;
}

/**
 * Defaults must be pruned-clean and valid against their own schema, including its CEL rules
 * (evaluated with oldSelf = the default), as upstream checks when the CRD is written. Errors sit
 * at "<schema path>.default", messages named relative to the default (" in body ..." at its root).
 */
function validateDefaults(schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const visit = (s: JSONSchemaProps, p: string) => {
    if (s.default !== undefined) errs.push(...validateDefault(s, `${p}.default`));
    for (const [name, prop] of Object.entries(s.properties ?? {})) visit(prop, `${p}.properties[${name}]`);
    if (isPlainObject(s.additionalProperties))
      visit(s.additionalProperties as JSONSchemaProps, `${p}.additionalProperties`);
    if (isPlainObject(s.items)) visit(s.items as JSONSchemaProps, `${p}.items`);
  };
  visit(schema, path);
  return errs;
}

function validateDefault(s: JSONSchemaProps, at: string): FieldError[] {
  const node = compileTreeAt(s);
  const value = structuredClone(s.default);
  const pruned = pruneUnknown(
    { v: structuredClone(value) },
    buildNode({ type: 'object', properties: { v: s } }, () => []),
  );
  if (pruned.length) return [invalid(at, s.default, 'must not have unknown fields')];
  const rebase = (e: FieldError): FieldError => ({
    ...e,
    field: e.field ? `${at}${e.field.startsWith('[') ? '' : '.'}${e.field}` : at,
  });
  const result = validateTree(value, value, node, { ratchet: false });
  const schemaErrs = [...result.schemaErrs, ...result.listErrs];
  if (schemaErrs.length) return schemaErrs.map(rebase);
  return result.celErrs.filter((e) => !e.message.includes('rule compile error')).map(rebase);
}

/** A sub-schema compiled with its rules (no implicit root fields). */
function compileTreeAt(schema: JSONSchemaProps): SchemaNode {
  return buildNode(schema, (node) =>
    (node.schema['x-kubernetes-validations'] ?? []).map((rule, index) => {
      try {
        return compileRule(rule, index, node);
      } catch (err) {
        if (!(err instanceof CelCompileError)) throw err;
        return failingRule(rule, index, err.message);
      }
    }),
  );
}

const COLUMN_TYPES = ['boolean', 'date', 'integer', 'number', 'string'];
const COLUMN_FORMATS = ['byte', 'date', 'date-time', 'double', 'float', 'int32', 'int64', 'password'];

/** Printer columns as ValidateCustomResourceColumnDefinition checks them (its paths name "JSONPath"). */
function validateColumns(columns: PrinterColumn[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  columns.forEach((col, i) => {
    const p = `${path}[${i}]`;
    if (!col?.name) errs.push(required(`${p}.name`));
    if (!col?.type) errs.push(required(`${p}.type`, `must be one of ${COLUMN_TYPES.join(',')}`));
    else if (!COLUMN_TYPES.includes(col.type))
      errs.push(invalid(`${p}.type`, col.type, `must be one of ${COLUMN_TYPES.join(',')}`));
    if (col?.format && !COLUMN_FORMATS.includes(col.format))
      errs.push(invalid(`${p}.format`, col.format, `must be one of ${COLUMN_FORMATS.join(',')}`));
    if (!col?.jsonPath) errs.push(required(`${p}.JSONPath`));
    else if (!col.jsonPath.startsWith('.'))
      errs.push(invalid(`${p}.JSONPath`, col.jsonPath, 'must be a simple json path starting with .'));
  });
  return errs;
}

/** Static validation of a CustomResourceDefinition (apiextensions.k8s.io/v1), upstream wording. */
export function validateCrd(crd: unknown): FieldError[] {
  const c = crd as any;
  const errs: FieldError[] = [];
  const spec = isPlainObject(c?.spec) ? c.spec : {};
  const group = typeof spec.group === 'string' ? spec.group : '';
  const plural = typeof spec.names?.plural === 'string' ? spec.names.plural : '';

  errs.push(
    ...validateObjectMetaName(c?.metadata, (name) => {
      const msgs = isDNS1123Subdomain(name);
      if (name !== `${plural}.${group}`) msgs.push('must be spec.names.plural+"."+spec.group');
      return msgs;
    }),
  );

  errs.push(...validateLabelsAndAnnotations(c?.metadata));

  if (!group) errs.push(required('spec.group'));
  else if (isDNS1123Subdomain(group).length)
    errs.push(invalid('spec.group', group, isDNS1123Subdomain(group).join(',')));
  else if (group.split('.').length < 2)
    errs.push(invalid('spec.group', group, 'should be a domain with at least one dot'));

  if (!spec.scope) errs.push(required('spec.scope'));
  else if (spec.scope !== 'Cluster' && spec.scope !== 'Namespaced')
    errs.push(notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));

  const versions = versionsOf(crd);
  const seen = new Set<string>();
  let storage = 0;
  let duplicateName = false;
  versions.forEach((v, i) => {
    if (v.storage) storage++;
    const name = typeof v.name === 'string' ? v.name : '';
    if (seen.has(name)) duplicateName = true;
    seen.add(name);
    const m = isDNS1035Label(name);
    if (m.length) errs.push(invalid(`spec.versions[${i}].name`, name, m.join(',')));
    errs.push(...validateVersionSchema(v, i));
    if (Array.isArray(v.additionalPrinterColumns))
      errs.push(...validateColumns(v.additionalPrinterColumns, `spec.versions[${i}].additionalPrinterColumns`));
  });
  if (duplicateName) errs.push(invalidVersions(versions, 'must contain unique version names'));
  if (storage !== 1) errs.push(invalidVersions(versions, 'must have exactly one version marked as storage version'));

  errs.push(...validateNames(spec.names));
  return errs;
}
