// Generates operator/api/types.gen.ts from the CRD YAML in crds/, which stays the one source of
// truth for the three kinds. `--check` compares instead of writing and exits 1 when the committed
// file is stale, so `make test` fails on divergence (test/packaging/crds-types.test.ts runs it).
//
//   npx tsx hack/gen-types.ts            write operator/api/types.gen.ts
//   npx tsx hack/gen-types.ts --check    exit 1 with a diff hint when it is stale
//   --file <path>                        write or check another file (used by tests)
//
// Field optionality: a property is required in TypeScript when the schema lists it in `required`
// or gives it a `default` — the API server applies defaults before anyone reads the object, so a
// reader never sees it absent. Writers of defaulted fields must therefore set them explicitly.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import yaml from 'js-yaml';

export interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  anyOf?: Schema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  [other: string]: unknown;
}

export interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: { name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: Schema } }[];
  };
}

export class TypeGenError extends Error {
  override name = 'TypeGenError';
}

/** Kinds in the order the file lists them (a stable order keeps the output diff-friendly). */
const KIND_ORDER = ['TrainingRun', 'ModelVersion', 'InferenceService'];

/**
 * Schemas that must share one TypeScript type wherever they occur. The generator checks that
 * every occurrence is identical (ignoring its own top-level description), which is also how the
 * copy of the TrainingRun spec inside InferenceService.spec.retrain.template is kept honest.
 */
const SHARED_OBJECTS: Record<string, string> = {
  'TrainingRun:status.conditions[]': 'Condition',
  'ModelVersion:status.conditions[]': 'Condition',
  'InferenceService:status.conditions[]': 'Condition',
  'InferenceService:spec.retrain.template': 'TrainingRunSpec',
  'TrainingRun:spec.registration.validation': 'ValidationPolicy',
  'ModelVersion:spec.validation': 'ValidationPolicy',
  'InferenceService:status.analysis.checks[]': 'AnalysisCheck',
  'InferenceService:status.history[].steps[].checks[]': 'AnalysisCheck',
  // Pod placement fields repeat on every kind that makes pods; one type each lets a single
  // function merge them with the operator's workload defaults.
  ...placement('TrainingRun:spec'),
  ...placement('TrainingRun:spec.registration.validation'),
  ...placement('InferenceService:spec'),
};

function placement(at: string): Record<string, string> {
  return {
    [`${at}.imagePullSecrets[]`]: 'LocalObjectReference',
    [`${at}.tolerations[]`]: 'Toleration',
    [`${at}.affinity`]: 'Affinity',
    [`${at}.securityContext`]: 'PodSecurityContext',
  };
}

/** Enums worth a name (and a `...Values` array) of their own; others stay inline unions. */
const NAMED_ENUMS: Record<string, string> = {
  'TrainingRun:status.phase': 'TrainingRunPhase',
  'ModelVersion:status.phase': 'ModelVersionPhase',
  'InferenceService:status.phase': 'InferenceServicePhase',
  'InferenceService:spec.traffic.provider': 'TrafficProvider',
  'TrainingRun:status.conditions[].status': 'ConditionStatus',
  'InferenceService:status.analysis.verdict': 'Verdict',
  'InferenceService:status.analysis.checks[].verdict': 'Verdict',
  'InferenceService:status.history[].steps[].verdict': 'Verdict',
  'InferenceService:status.analysis.checks[].role': 'VersionRole',
  'ModelVersion:status.servedBy[].role': 'VersionRole',
  'InferenceService:status.history[].outcome': 'CanaryOutcome',
  'InferenceService:status.monitoring.drift.level': 'MonitoringLevel',
  'InferenceService:status.monitoring.accuracy.level': 'MonitoringLevel',
};

interface Emitted {
  name: string;
  schema: Schema;
  text: string;
}

/** Deterministic JSON for structural comparison; `dropDescription` ignores the root's own text. */
function canonical(schema: unknown, dropDescription = false): string {
  const sort = (v: unknown, root: boolean): unknown => {
    if (Array.isArray(v)) return v.map((x) => sort(x, false));
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      if (root && dropDescription && k === 'description') continue;
      out[k] = sort((v as Record<string, unknown>)[k], false);
    }
    return out;
  };
  return JSON.stringify(sort(schema, true));
}

/** PascalCase of one path segment; array items ("tolerations[]") are named in the singular. */
function pascal(segment: string): string {
  const items = segment.endsWith('[]');
  let word = segment.replace(/\[\]$/, '');
  if (items) word = word.endsWith('ies') ? `${word.slice(0, -3)}y` : word.replace(/([^s])s$/, '$1');
  return word
    .split(/[-_.]/)
    .filter(Boolean)
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

/** Default name of an object type: the kind, "Status" for status fields, then the path. */
function defaultTypeName(kind: string, path: string[]): string {
  const [root, ...rest] = path;
  const prefix = root === 'spec' ? kind : `${kind}Status`;
  if (rest.length === 0) return root === 'spec' ? `${kind}Spec` : `${kind}Status`;
  return prefix + rest.map(pascal).join('');
}

/** Greedy word wrap, so that generated doc comments stay readable. */
function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? `${line} ${word}` : word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** JSDoc from the description; `@default` only on fields, where the default applies. */
function doc(schema: Schema, indent: string, withDefault = true): string {
  const lines: string[] = [];
  if (schema.description) lines.push(...wrapText(schema.description.replace(/\*\//g, '*\\/'), 96 - indent.length));
  if (withDefault && schema.default !== undefined) lines.push(`@default ${JSON.stringify(schema.default)}`);
  if (lines.length === 0) return '';
  if (lines.length === 1 && lines[0].length <= 90 - indent.length) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`.trimEnd()).join('\n')}\n${indent} */\n`;
}

function tsString(value: unknown): string {
  return JSON.stringify(value).replace(/"/g, "'");
}

class Generator {
  private readonly objects = new Map<string, Emitted>();
  private readonly enums = new Map<string, { values: unknown[]; text: string }>();
  private readonly order: string[] = [];

  constructor(private readonly kind: () => string) {}

  /** The TypeScript type of `schema` at `path` (property names; `[]` marks array items). */
  typeOf(schema: Schema, path: string[]): string {
    const key = `${this.kind()}:${path.join('.')}`;
    if (schema['x-kubernetes-int-or-string']) return 'number | string';
    if (schema.enum) return this.enumType(schema, key);
    switch (schema.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'array':
        if (!schema.items) throw new TypeGenError(`${key}: array without items`);
        return `${wrap(this.typeOf(schema.items, withItems(path)))}[]`;
      case 'object':
        return this.objectType(schema, path, key);
      default:
        throw new TypeGenError(`${key}: unsupported schema type ${JSON.stringify(schema.type)}`);
    }
  }

  private enumType(schema: Schema, key: string): string {
    const union = schema.enum!.map(tsString).join(' | ');
    const name = NAMED_ENUMS[key];
    if (!name) return union;
    const seen = this.enums.get(name);
    if (seen) {
      if (canonical(seen.values) !== canonical(schema.enum)) {
        throw new TypeGenError(`${key}: enum ${name} differs from its other occurrences`);
      }
      return name;
    }
    const text =
      `export const ${name}Values = [${schema.enum!.map(tsString).join(', ')}] as const;\n` +
      `export type ${name} = (typeof ${name}Values)[number];\n`;
    this.enums.set(name, { values: schema.enum!, text });
    this.order.push(`enum:${name}`);
    return name;
  }

  private objectType(schema: Schema, path: string[], key: string): string {
    if (schema.properties) return this.namedObject(schema, path, key);
    if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
      return `Record<string, ${this.typeOf(schema.additionalProperties, [...path, '*'])}>`;
    }
    return 'Record<string, unknown>';
  }

  private namedObject(schema: Schema, path: string[], key: string): string {
    const shared = SHARED_OBJECTS[key];
    const name = shared ?? defaultTypeName(this.kind(), path);
    const existing = this.objects.get(name);
    if (existing) {
      if (!shared) throw new TypeGenError(`${key}: type name ${name} is already used by another field`);
      if (canonical(existing.schema, true) !== canonical(schema, true)) {
        throw new TypeGenError(
          `${key}: schema differs from the other occurrences of ${name}; keep the copies identical`,
        );
      }
      return name;
    }
    const placeholder: Emitted = { name, schema, text: '' };
    this.objects.set(name, placeholder);
    this.order.push(`object:${name}`);
    const required = new Set(schema.required ?? []);
    const fields = Object.entries(schema.properties!).map(([prop, sub]) => {
      const optional = !(required.has(prop) || sub.default !== undefined);
      const type = this.typeOf(sub, [...path, prop]);
      return `${doc(sub, '  ')}  ${safeKey(prop)}${optional ? '?' : ''}: ${type};`;
    });
    placeholder.text = `${doc(schema, '', false)}export interface ${name} {\n${fields.join('\n')}\n}\n`;
    return name;
  }

  render(): string {
    return this.order
      .map((entry) => {
        const [what, name] = entry.split(':');
        return what === 'enum' ? this.enums.get(name)!.text : this.objects.get(name)!.text;
      })
      .join('\n');
  }
}

function withItems(path: string[]): string[] {
  const copy = [...path];
  copy[copy.length - 1] = `${copy[copy.length - 1]}[]`;
  return copy;
}

function wrap(type: string): string {
  return /[|&]/.test(type) ? `(${type})` : type;
}

function safeKey(key: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : tsString(key);
}

/** The defaults beneath `schema` as a DefaultsNode literal, or undefined when it has none. */
export function defaultsTree(schema: Schema): Record<string, unknown> | undefined {
  const node: Record<string, unknown> = {};
  if (schema.default !== undefined) node.default = schema.default;
  const properties: Record<string, unknown> = {};
  for (const [prop, sub] of Object.entries(schema.properties ?? {})) {
    const child = defaultsTree(sub);
    if (child) properties[prop] = child;
  }
  if (Object.keys(properties).length) node.properties = properties;
  const items = schema.items && defaultsTree(schema.items);
  if (items) node.items = items;
  const values =
    typeof schema.additionalProperties === 'object' ? defaultsTree(schema.additionalProperties) : undefined;
  if (values) node.additionalProperties = values;
  return Object.keys(node).length ? node : undefined;
}

/** `withXDefaults(spec)` for one kind: its spec with every CRD default applied. */
function defaultsFunction(kind: string, spec: Schema): string {
  const tree = tsString(defaultsTree(spec) ?? {});
  return (
    `const ${kind}SpecDefaults: DefaultsNode = ${tree};
` +
    `/** ${kind}.spec with every default of the CRD applied, as the API server stores it. */
` +
    `export const with${kind}Defaults = (spec: ${kind}Spec): ${kind}Spec => applyDefaults(spec, ${kind}SpecDefaults);
`
  );
}

function storageVersion(crd: Crd) {
  const version = crd.spec.versions.find((v) => v.storage);
  if (!version) throw new TypeGenError(`${crd.metadata.name}: no storage version`);
  return version;
}

/** The whole generated module for the given CRDs. Pure: same input, same text. */
export function generateTypes(crds: Crd[]): string {
  const sorted = [...crds].sort(
    (a, b) => KIND_ORDER.indexOf(a.spec.names.kind) - KIND_ORDER.indexOf(b.spec.names.kind),
  );
  const groups = new Set(sorted.map((c) => c.spec.group));
  const versions = new Set(sorted.map((c) => storageVersion(c).name));
  if (groups.size !== 1 || versions.size !== 1)
    throw new TypeGenError('all CRDs must share one group and storage version');
  const [group] = groups;
  const [version] = versions;
  let currentKind = '';
  const gen = new Generator(() => currentKind);
  const kinds: string[] = [];
  const defaults: string[] = [];
  for (const crd of sorted) {
    const { kind, listKind } = crd.spec.names;
    currentKind = kind;
    const root = storageVersion(crd).schema.openAPIV3Schema;
    const spec = root.properties?.spec;
    const status = root.properties?.status;
    if (!spec || !status) throw new TypeGenError(`${kind}: schema needs both spec and status`);
    const specType = gen.typeOf(spec, ['spec']);
    const statusType = gen.typeOf(status, ['status']);
    defaults.push(defaultsFunction(kind, spec));
    const names = crd.spec.names;
    kinds.push(
      // A type alias, not an interface: aliases are assignable to index-signature types such as
      // a controller runtime's generic object type.
      `${doc(root, '')}export type ${kind} = {\n` +
        `  apiVersion: typeof API_VERSION;\n  kind: '${kind}';\n  metadata: ObjectMeta;\n` +
        `${doc(spec, '  ')}  spec: ${specType};\n${doc(status, '  ')}  status?: ${statusType};\n};\n\n` +
        `export interface ${listKind} {\n  apiVersion: typeof API_VERSION;\n  kind: '${listKind}';\n` +
        `  metadata: ListMeta;\n  items: ${kind}[];\n}\n\n` +
        `export const ${kind}Resource = {\n  group: GROUP,\n  version: VERSION,\n  kind: '${kind}',\n` +
        `  listKind: '${listKind}',\n  plural: '${names.plural}',\n  singular: '${names.singular}',\n` +
        `  shortNames: ${tsString(names.shortNames ?? [])},\n  categories: ${tsString(names.categories ?? [])},\n` +
        `  namespaced: ${crd.spec.scope === 'Namespaced'},\n} as const;\n`,
    );
  }
  const header =
    '// Code generated by hack/gen-types.ts from crds/*.yaml. DO NOT EDIT.\n' +
    '// Change the CRD YAML, then run `npx tsx hack/gen-types.ts`.\n' +
    "import { applyDefaults, type DefaultsNode } from './defaults.js';\n" +
    "import type { ListMeta, ObjectMeta } from './meta.js';\n\n" +
    `export const GROUP = '${group}';\nexport const VERSION = '${version}';\n` +
    `export const API_VERSION = '${group}/${version}';\n`;
  const resources =
    `export const RESOURCES = { ${sorted.map((c) => `${c.spec.names.kind}: ${c.spec.names.kind}Resource`).join(', ')} } as const;\n` +
    'export type ModelshipKind = keyof typeof RESOURCES;\n';
  return `${header}\n${kinds.join('\n')}\n${resources}\n${defaults.join('\n')}\n${gen.render()}`;
}

export function loadCrds(dir: string): Crd[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => {
      const doc = yaml.load(readFileSync(join(dir, f), 'utf8')) as Crd;
      if (doc?.spec?.names?.kind === undefined) throw new TypeGenError(`${f}: not a CustomResourceDefinition`);
      return doc;
    });
}

/** Line-level hint at the first difference, so a stale file is easy to understand. */
export function diffHint(expected: string, actual: string): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `first difference at line ${i + 1}:\n  generated: ${a[i] ?? '<end of file>'}\n  committed: ${b[i] ?? '<end of file>'}`;
    }
  }
  return 'files are identical';
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function main(argv: string[]): number {
  const repo = join(fileURLToPath(import.meta.url), '..', '..');
  const fileFlag = argv.indexOf('--file');
  const out = fileFlag >= 0 && argv[fileFlag + 1] ? argv[fileFlag + 1] : join(repo, 'operator', 'api', 'types.gen.ts');
  const text = generateTypes(loadCrds(join(repo, 'crds')));
  if (argv.includes('--check')) {
    const current = readIfExists(out);
    if (current === text) return 0;
    console.error(`${relative(process.cwd(), out)} is stale: it does not match crds/*.yaml.`);
    console.error(diffHint(text, current));
    console.error('Regenerate it with: npx tsx hack/gen-types.ts');
    return 1;
  }
  writeFileSync(out, text);
  console.log(`wrote ${relative(process.cwd(), out)}`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof TypeGenError ? `gen-types: ${err.message}` : err);
    process.exitCode = 2;
  }
}
