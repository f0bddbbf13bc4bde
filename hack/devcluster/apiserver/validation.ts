// The one adapter between the REST layer and the schema engine (hack/devcluster/schema/):
// defaulting → pruning (unknown fields: 400 under fieldValidation=Strict, warnings under Warn)
// → validation, with field errors turned into kube-apiserver's 422 Invalid Status.
import { compileCrdSchema, isKnownBuiltin, validateBuiltin, validateCrd, type FieldError } from '../schema/index.js';
import { errors, type ApiError } from './errors.js';
import type { KObject, ResourceType } from './registry.js';
import { apiVersionOf } from './registry.js';

export type { FieldError } from '../schema/index.js';
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** kube-apiserver's `Kind.group "name" is invalid: …` 422 from field errors. */
export function invalidError(t: ResourceType, name: string, errs: FieldError[]): ApiError {
  const kindGroup = t.group ? `${t.kind}.${t.group}` : t.kind;
  return errors.invalid(kindGroup, name, t.group, errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })));
}

function unknownFieldMessage(path: string): string {
  return `unknown field "${path.replace(/^\./, '')}"`;
}

/**
 * Admission of an object about to be stored (create, update, patch, apply; `subresource`
 * 'status' for status writes). Mutates `obj` (defaults, pruning). Returns warnings; throws
 * 400 for unknown fields under `Strict`, 422 when invalid. `oldObj` enables transition rules.
 */
export function admit(t: ResourceType, obj: KObject, oldObj: KObject | undefined, mode: FieldValidation, subresource?: 'status'): string[] {
  const name = obj.metadata?.name ?? '';
  if (t.crd) {
    const schema = compileCrdSchema(t.crd.object, t.version, subresource);
    schema.applyDefaults(obj);
    const unknown = schema.prune(obj);
    const warnings: string[] = [];
    if (unknown.length && mode === 'Strict') {
      throw errors.badRequest(`strict decoding error: ${unknown.map(unknownFieldMessage).join(', ')}`);
    }
    if (mode === 'Warn') for (const p of unknown) warnings.push(unknownFieldMessage(p));
    const errs = schema.validate(obj, oldObj);
    if (errs.length) throw invalidError(t, name, errs);
    return warnings;
  }
  if (t.kind === 'CustomResourceDefinition' && t.builtin) {
    const errs = validateCrd(obj);
    if (errs.length) throw invalidError(t, name, errs);
    return [];
  }
  if (!isKnownBuiltin(apiVersionOf(t), t.kind)) return [];
  const errs = validateBuiltin(apiVersionOf(t), t.kind, obj);
  if (errs.length) throw invalidError(t, name, errs);
  return [];
}
