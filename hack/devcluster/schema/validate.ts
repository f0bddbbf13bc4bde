// Custom resource validation as kube-apiserver 1.31 runs it: OpenAPI value validation (kube-openapi
// wording), x-kubernetes-list-type invariants, then CEL rules unless an earlier error is blocking.
// Updates ratchet: errors inside a subtree equal to the old object's are dropped (transition rules excepted).
import {
  childPath,
  duplicate,
  forbidden,
  indexPath,
  invalid,
  notSupported,
  required,
  tooLong,
  tooMany,
  typeInvalid,
  type FieldError,
} from './errors.js';
import { isCelError } from '@bufbuild/cel';
import { celErrorText, evaluate, toCel, type CelCache, type CompiledRule } from './cel.js';
import { matchesFormat } from './formats.js';
import { schemaTypeName, type SchemaNode } from './node.js';
import { deepEqual, isPlainObject, jsonTypeOf } from './types.js';

interface Walk {
  schemaErrs: FieldError[];
  listErrs: FieldError[];
  celErrs: FieldError[];
  cache: CelCache;
  oldCache: CelCache;
  ratcheting: boolean;
}

export interface ValidationResult {
  schemaErrs: FieldError[];
  listErrs: FieldError[];
  celErrs: FieldError[];
}

/** `ratchet: false` still binds oldSelf from `old` but reports errors in unchanged parts too. */
export function validateTree(
  value: unknown,
  old: unknown,
  root: SchemaNode,
  options: { ratchet?: boolean } = {},
): ValidationResult {
  const w: Walk = {
    schemaErrs: [],
    listErrs: [],
    celErrs: [],
    cache: new WeakMap(),
    oldCache: new WeakMap(),
    ratcheting: options.ratchet !== false,
  };
  walk(value, old, root, '', false, w);
  return w;
}

/** kube-apiserver skips CEL when OpenAPI validation already failed in one of these ways. */
export function isBlocking(e: FieldError): boolean {
  return (
    e.type === 'FieldValueNotSupported' ||
    e.type === 'FieldValueRequired' ||
    e.type === 'FieldValueTooLong' ||
    e.type === 'FieldValueTooMany' ||
    e.type === 'FieldValueTypeInvalid'
  );
}

export const CEL_SKIPPED_ERROR: FieldError = invalid(
  '<nil>',
  null,
  'some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
);

function walk(value: unknown, old: unknown, node: SchemaNode, path: string, ratchet: boolean, w: Walk): void {
  if (value === undefined) return;
  if (!ratchet && w.ratcheting && old !== undefined && deepEqual(value, old)) ratchet = true;
  if (ratchet && !node.hasRules) return;
  if (!ratchet) {
    checkValue(value, node, path, w.schemaErrs);
    if (Array.isArray(value) && node.listType) checkListType(value, node, path, w.listErrs);
  }
  if (value === null) return;
  if (node.rules.length) runRules(value, old, node, path, ratchet, w);
  if (Array.isArray(value)) {
    if (!node.items) return;
    const oldItems = Array.isArray(old) ? old : undefined;
    for (let i = 0; i < value.length; i++) {
      walk(value[i], oldItems && correlateItem(value[i], oldItems, node), node.items, indexPath(path, i), ratchet, w);
    }
    return;
  }
  if (isPlainObject(value)) {
    const oldObj = isPlainObject(old) ? old : undefined;
    for (const key of Object.keys(value)) {
      const child = node.properties?.get(key) ?? (typeof node.additional === 'object' ? node.additional : undefined);
      if (child) walk(value[key], oldObj?.[key], child, childPath(path, key), ratchet, w);
    }
  }
}

/** Only list-type=map items have an identity across versions (their keys); other items don't correlate. */
function correlateItem(item: unknown, oldItems: unknown[], node: SchemaNode): unknown {
  if (node.listType !== 'map' || !isPlainObject(item)) return undefined;
  return oldItems.find((o) => isPlainObject(o) && node.listMapKeys.every((k) => deepEqual(o[k], item[k])));
}

// ---------------------------------------------------------------------------------------------
// OpenAPI value validation (kube-openapi semantics and messages).

function typeNames(node: SchemaNode): string | undefined {
  if (node.intOrString) return 'integer,string';
  return node.type;
}

function checkValue(value: unknown, node: SchemaNode, path: string, errs: FieldError[]): void {
  const expected = typeNames(node);
  if (value === null) {
    if (expected && !node.nullable)
      errs.push(typeInvalid(path, 'null', `${path} in body must be of type ${expected}: "null"`));
    return;
  }
  const actual = jsonTypeOf(value);
  if (expected && !typeMatches(actual, node)) {
    errs.push(typeInvalid(path, actual, `${path} in body must be of type ${expected}: ${JSON.stringify(actual)}`));
  }
  if (node.allOf.length || node.anyOf.length || node.oneOf.length || node.not) checkJunctors(value, node, path, errs);
  if (typeof value === 'string') checkString(value, node, path, errs);
  else if (typeof value === 'number') checkNumber(value, node, path, errs);
  else if (Array.isArray(value)) checkArray(value, node, path, errs);
  if (node.enumValues && !node.enumValues.some((e) => deepEqual(e, value))) {
    errs.push(
      notSupported(
        path,
        value,
        node.enumValues.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))),
      ),
    );
  }
  if (isPlainObject(value)) checkObject(value, node, path, errs);
}

function typeMatches(actual: string, node: SchemaNode): boolean {
  if (node.intOrString) return actual === 'integer' || actual === 'string';
  if (node.type === 'number') return actual === 'number' || actual === 'integer';
  return actual === node.type;
}

function checkString(value: string, node: SchemaNode, path: string, errs: FieldError[]): void {
  const s = node.schema;
  if (s.maxLength !== undefined || s.minLength !== undefined) {
    const length = [...value].length; // Go counts runes
    if (s.maxLength !== undefined && length > s.maxLength) errs.push(tooLong(path, s.maxLength));
    if (s.minLength !== undefined && length < s.minLength) {
      errs.push(invalid(path, value, `${path} in body should be at least ${s.minLength} chars long`));
    }
  }
  if (node.pattern && !node.pattern.test(value)) {
    errs.push(invalid(path, value, `${path} in body should match '${s.pattern}'`));
  }
  if (s.format && (node.type === 'string' || node.intOrString) && !matchesFormat(s.format, value)) {
    errs.push(typeInvalid(path, value, `${path} in body must be of type ${s.format}: ${JSON.stringify(value)}`));
  }
}

function checkNumber(value: number, node: SchemaNode, path: string, errs: FieldError[]): void {
  const s = node.schema;
  if (s.multipleOf !== undefined && s.multipleOf > 0) {
    const q = value / s.multipleOf;
    if (Math.abs(q - Math.round(q)) > 1e-9)
      errs.push(invalid(path, value, `${path} in body should be a multiple of ${fmtNum(s.multipleOf)}`));
  }
  if (s.maximum !== undefined) {
    const bad = s.exclusiveMaximum ? value >= s.maximum : value > s.maximum;
    if (bad) {
      const rel = s.exclusiveMaximum ? 'less than' : 'less than or equal to';
      errs.push(invalid(path, value, `${path} in body should be ${rel} ${fmtNum(s.maximum)}`));
    }
  }
  if (s.minimum !== undefined) {
    const bad = s.exclusiveMinimum ? value <= s.minimum : value < s.minimum;
    if (bad) {
      const rel = s.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
      errs.push(invalid(path, value, `${path} in body should be ${rel} ${fmtNum(s.minimum)}`));
    }
  }
}

function fmtNum(n: number): string {
  return invalid('', n, '').message.replace(/^Invalid value: /, '');
}

function checkArray(value: unknown[], node: SchemaNode, path: string, errs: FieldError[]): void {
  const s = node.schema;
  if (s.minItems !== undefined && value.length < s.minItems) {
    errs.push(invalid(path, value.length, `${path} in body should have at least ${s.minItems} items`));
  }
  if (s.maxItems !== undefined && value.length > s.maxItems) errs.push(tooMany(path, value.length, s.maxItems));
  if (s.uniqueItems && value.some((v, i) => value.findIndex((u) => deepEqual(u, v)) !== i)) {
    errs.push(invalid(path, '', `${path} in body shouldn't contain duplicates`));
  }
}

function checkObject(value: Record<string, unknown>, node: SchemaNode, path: string, errs: FieldError[]): void {
  const s = node.schema;
  if (s.maxProperties !== undefined || s.minProperties !== undefined) {
    const count = Object.keys(value).length;
    if (s.maxProperties !== undefined && count > s.maxProperties) errs.push(tooMany(path, count, s.maxProperties));
    if (s.minProperties !== undefined && count < s.minProperties) {
      errs.push(invalid(path, count, `${path} in body should have at least ${s.minProperties} properties`));
    }
  }
  for (const key of node.required) {
    if (!(key in value)) errs.push(required(childPath(path, key)));
  }
  if (node.additional === false && node.properties === undefined) {
    for (const key of Object.keys(value))
      errs.push(invalid(childPath(path, key), '', `${path}.${key} in body is a forbidden property`));
  }
}

/** allOf/anyOf/oneOf/not: nested value validations, reported as kube-openapi's composite messages. */
function checkJunctors(value: unknown, node: SchemaNode, path: string, errs: FieldError[]): void {
  const failures = (n: SchemaNode): FieldError[] => {
    const sub: FieldError[] = [];
    checkValue(value, n, path, sub);
    return sub;
  };
  for (const n of node.allOf) errs.push(...failures(n));
  if (node.anyOf.length && !node.anyOf.some((n) => failures(n).length === 0)) {
    errs.push(invalid(path, '', `${path} in body must validate at least one schema (anyOf)`));
  }
  if (node.oneOf.length && node.oneOf.filter((n) => failures(n).length === 0).length !== 1) {
    errs.push(invalid(path, '', `${path} in body must validate one and only one schema (oneOf)`));
  }
  if (node.not && failures(node.not).length === 0)
    errs.push(invalid(path, '', `${path} in body must not validate the schema (not)`));
}

// ---------------------------------------------------------------------------------------------
// x-kubernetes-list-type: set items unique, map items unique by their keys.

function checkListType(value: unknown[], node: SchemaNode, path: string, errs: FieldError[]): void {
  if (node.listType === 'set') {
    const seen: unknown[] = [];
    value.forEach((item, i) => {
      if (seen.some((s) => deepEqual(s, item))) errs.push(duplicate(indexPath(path, i), item));
      else seen.push(item);
    });
    return;
  }
  if (node.listType !== 'map') return;
  const nonObjects = value.flatMap((item, i) =>
    item !== null && !isPlainObject(item)
      ? [invalid(indexPath(path, i), item, 'must be an object for an array of list-type map')]
      : [],
  );
  if (nonObjects.length) {
    errs.push(...nonObjects);
    return;
  }
  const seen: Record<string, unknown>[] = [];
  value.forEach((item, i) => {
    if (!isPlainObject(item)) return;
    const key: Record<string, unknown> = {};
    for (const k of node.listMapKeys) key[k] = k in item ? item[k] : node.items?.properties?.get(k)?.schema.default;
    if (seen.some((s) => deepEqual(s, key))) errs.push(duplicate(indexPath(path, i), key));
    else seen.push(key);
  });
}

// ---------------------------------------------------------------------------------------------
// CEL rules.

function runRules(value: unknown, old: unknown, node: SchemaNode, path: string, ratchet: boolean, w: Walk): void {
  let self: unknown;
  let oldSelf: unknown;
  const typeName = schemaTypeName(node);
  for (const rule of node.rules) {
    if (rule.isTransition && (old === undefined || old === null)) continue; // nothing to compare with: create or newly set
    if (ratchet && !rule.isTransition) continue; // unchanged values keep passing, as upstream ratchets them
    if (self === undefined) self = toCel(value, node, w.cache);
    if (rule.isTransition && oldSelf === undefined) oldSelf = toCel(old, node, w.oldCache);
    const result = evaluate(rule.program, self, rule.isTransition ? oldSelf : undefined);
    if (result === true) continue;
    if ((result as { compileError?: boolean } | null)?.compileError) {
      w.celErrs.push(invalid(path, typeName, (result as unknown as Error).message));
      continue;
    }
    if (isCelError(result) || result instanceof Error) {
      const err = celErrorText(result);
      const detail =
        err.startsWith('found no matching overload') || err.startsWith('no such overload')
          ? `'${err}': call arguments did not match a supported operator, function or macro signature for rule: ${ruleErrorString(rule)}`
          : `${err} evaluating rule: ${ruleErrorString(rule)}`;
      w.celErrs.push(invalid(path, typeName, detail));
      continue;
    }
    const detail = messageFor(rule, self, oldSelf);
    w.celErrs.push(errorForReason(fieldPathOf(path, rule), typeName, detail, rule));
  }
}

function ruleErrorString(rule: CompiledRule): string {
  return rule.rule.message?.trim() || rule.rule.rule.trim();
}

function messageFor(rule: CompiledRule, self: unknown, oldSelf: unknown): string {
  if (rule.messageProgram) {
    const m = evaluate(rule.messageProgram, self, rule.isTransition ? oldSelf : undefined);
    if (typeof m === 'string' && m.trim() && !m.includes('\n')) return m.trim();
  }
  return rule.rule.message?.trim() ? rule.rule.message.trim() : `failed rule: ${rule.rule.rule.trim()}`;
}

function errorForReason(path: string, typeName: string, detail: string, rule: CompiledRule): FieldError {
  switch (rule.rule.reason) {
    case 'FieldValueForbidden':
      return forbidden(path, detail);
    case 'FieldValueRequired':
      return required(path, detail);
    case 'FieldValueDuplicate':
      return duplicate(path, typeName);
    default:
      return invalid(path, typeName, detail);
  }
}

/** `fieldPath: .spec.x` / `['a.b']` moves the error below the rule's own location. */
function fieldPathOf(path: string, rule: CompiledRule): string {
  const fp = rule.rule.fieldPath;
  if (!fp) return path;
  const segments: string[] = [];
  const re = /\.([^.[\]]+)|\['((?:[^'\\]|\\.)*)'\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(fp))) segments.push(m[1] ?? m[2].replace(/\\(.)/g, '$1'));
  return segments.reduce((p, s) => childPath(p, s), path);
}
