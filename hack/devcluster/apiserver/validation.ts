// The one adapter between the REST layer and the schema module (hack/devcluster/schema/),
// which a teammate owns. Until that module exists every call here is a no-op, so the server
// works without validation; once it exists it is loaded once at start-up.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { errors, type ApiError } from './errors.js';
import type { KObject, ResourceType } from './registry.js';
import { apiVersionOf } from './registry.js';

export interface FieldError { type: string; field: string; message: string }
interface CompiledSchema {
  applyDefaults(obj: any): void;
  prune(obj: any): string[];
  validate(obj: any, oldObj?: any): FieldError[];
}
interface SchemaModule {
  validateBuiltin(apiVersion: string, kind: string, obj: unknown): FieldError[];
  validateCrd(crd: unknown): FieldError[];
  compileCrdSchema(crd: unknown, version: string, subresource?: 'status'): CompiledSchema;
}

let schemaModule: SchemaModule | undefined;
let loaded = false;

export async function loadSchemaModule(): Promise<boolean> {
  if (loaded) return !!schemaModule;
  loaded = true;
  const url = new URL('../schema/index.ts', import.meta.url);
  if (!existsSync(fileURLToPath(url))) return false;
  const specifier = '../schema/index.js';
  try {
    schemaModule = (await import(specifier)) as SchemaModule;
  } catch (err) {
    console.error(`devcluster: schema module failed to load, validation is off: ${(err as Error).message}`);
  }
  return !!schemaModule;
}

const REASONS: Record<string, string> = {};

/** kube-apiserver's `Kind.group "name" is invalid: …` 422 from field errors. */
export function invalidError(t: ResourceType, name: string, errs: FieldError[]): ApiError {
  const kindGroup = t.group ? `${t.kind}.${t.group}` : t.kind;
  return errors.invalid(kindGroup, name, t.group, errs.map((e) => ({ reason: REASONS[e.type] ?? e.type, message: e.message, field: e.field })));
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

interface SchemaCache { key: string; main: CompiledSchema; status?: CompiledSchema }
const compiled = new Map<string, SchemaCache>();

function schemasFor(t: ResourceType): SchemaCache | undefined {
  if (!schemaModule || !t.crd) return undefined;
  const crdObj = { spec: t.crd.spec, metadata: { name: t.crd.name } };
  const key = JSON.stringify(t.crd.version.schema ?? null) + t.crd.version.name;
  const cacheKey = `${t.storageKey}/${t.version}`;
  const hit = compiled.get(cacheKey);
  if (hit && hit.key === key) return hit;
  const entry: SchemaCache = {
    key,
    main: schemaModule.compileCrdSchema(crdObj, t.version),
    status: t.status ? schemaModule.compileCrdSchema(crdObj, t.version, 'status') : undefined,
  };
  compiled.set(cacheKey, entry);
  return entry;
}

/**
 * Defaulting → pruning → validation of an object about to be stored. Returns warnings
 * (unknown fields under `Warn`); throws 400 for unknown fields under `Strict`, 422 when invalid.
 */
export function admit(t: ResourceType, obj: KObject, oldObj: KObject | undefined, mode: FieldValidation, subresource?: 'status'): string[] {
  if (!schemaModule) return [];
  const warnings: string[] = [];
  if (t.crd) {
    const s = schemasFor(t)!;
    const schema = subresource === 'status' && s.status ? s.status : s.main;
    schema.applyDefaults(obj);
    const unknown = schema.prune(obj);
    if (unknown.length && mode === 'Strict') {
      const list = unknown.map((p) => `unknown field "${p.replace(/^\./, '')}"`);
      throw errors.badRequest(`strict decoding error: ${list.join(', ')}`);
    }
    if (unknown.length && mode === 'Warn') for (const p of unknown) warnings.push(`unknown field "${p.replace(/^\./, '')}"`);
    const errs = schema.validate(obj, oldObj);
    if (errs.length) throw invalidError(t, obj.metadata?.name ?? '', errs);
    return warnings;
  }
  if (t.kind === 'CustomResourceDefinition') {
    const errs = schemaModule.validateCrd(obj);
    if (errs.length) throw invalidError(t, obj.metadata?.name ?? '', errs);
    return warnings;
  }
  const errs = schemaModule.validateBuiltin(apiVersionOf(t), t.kind, obj);
  if (errs.length) throw invalidError(t, obj.metadata?.name ?? '', errs);
  return warnings;
}

export function validationLoaded(): boolean { return !!schemaModule; }
