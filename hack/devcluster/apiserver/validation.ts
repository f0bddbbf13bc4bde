// The one adapter between the REST layer and the schema engine (hack/devcluster/schema/):
// defaulting → pruning (unknown fields: 400 under fieldValidation=Strict, warnings under Warn)
// → validation, with field errors turned into kube-apiserver's 422 Invalid Status.
import { compileCrdSchema, isKnownBuiltin, validateBuiltin, validateCrd, type FieldError } from '../schema/index.js';
import { errors, type ApiError } from './errors.js';
import type { KObject, ResourceType } from './registry.js';
import { apiVersionOf } from './registry.js';
import { pruneUnknownBuiltinFields } from './unknown-fields.js';

export type { FieldError } from '../schema/index.js';
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** kube-apiserver's `Kind.group "name" is invalid: …` 422 from field errors. */
export function invalidError(t: ResourceType, name: string, errs: FieldError[]): ApiError {
  const kindGroup = t.group ? `${t.kind}.${t.group}` : t.kind;
  return errors.invalid(
    kindGroup,
    name,
    t.group,
    errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
  );
}

export function unknownFieldMessage(path: string): string {
  return `unknown field "${path.replace(/^\./, '')}"`;
}

/**
 * Admission of an object about to be stored (create, update, patch, apply; `subresource`
 * 'status' for status writes). Mutates `obj` (defaults, pruning). Returns warnings; throws
 * 400 for unknown fields under `Strict`, 422 when invalid. `oldObj` enables transition rules.
 */
export function admit(
  t: ResourceType,
  obj: KObject,
  oldObj: KObject | undefined,
  mode: FieldValidation,
  subresource?: 'status',
  decodedFromBody = true,
): string[] {
  const name = obj.metadata?.name ?? '';
  let schema: ReturnType<typeof compileCrdSchema> | undefined;
  let unknown: string[];
  if (t.crd) {
    schema = compileCrdSchema(t.crd.object, t.version, subresource);
    schema.applyDefaults(obj);
    unknown = schema.prune(obj);
  } else unknown = pruneUnknownBuiltinFields(t.group, t.version, t.kind, obj);
  const warnings = unknownFields(t, unknown, mode, decodedFromBody);
  const errs = schema
    ? schema.validate(obj, oldObj)
    : t.kind === 'CustomResourceDefinition' && t.builtin
      ? validateCrd(obj)
      : isKnownBuiltin(apiVersionOf(t), t.kind)
        ? validateBuiltin(apiVersionOf(t), t.kind, obj)
        : [];
  if (errs.length) throw invalidError(t, name, errs);
  return warnings;
}

/**
 * Unknown fields were dropped: Strict answers 400 (POST/PUT bodies with the decoder's prefix,
 * patches without, as upstream), Warn returns them as warnings, Ignore says nothing.
 */
function unknownFields(t: ResourceType, paths: string[], mode: FieldValidation, decodedFromBody: boolean): string[] {
  if (!paths.length || mode === 'Ignore') return [];
  const messages = paths.map(unknownFieldMessage);
  if (mode === 'Warn') return messages;
  const strict = `strict decoding error: ${messages.join(', ')}`;
  throw errors.badRequest(
    decodedFromBody ? `${t.kind} in version "${t.version}" cannot be handled as a ${t.kind}: ${strict}` : strict,
  );
}
