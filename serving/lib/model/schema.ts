// The artifact formats as typed, versioned JSON schemas. ajv checks structure; a few
// cross-field rules (mean/std per channel, binary heads have two labels, unique names)
// that JSON Schema states awkwardly are checked in code. Every message names the field.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ServingError } from '../errors.js';

export type Layout = 'NCHW' | 'NHWC';
export type ResizeMode = 'fill' | 'cover' | 'contain';
export type HeadType = 'binary' | 'multiclass';
export type Activation = 'sigmoid' | 'softmax' | 'none';

export interface ImageInput {
  kind: 'image';
  tensor: string;
  width: number;
  height: number;
  channels: 1 | 3;
  layout: Layout;
  dtype: 'float32';
  scale: number;
  mean: number[];
  std: number[];
  resize: ResizeMode;
}

export interface TensorInput {
  kind: 'tensor';
  tensor: string;
  dtype: 'float32';
  features: string[];
}

export interface Head {
  name: string;
  tensor: string;
  type: HeadType;
  labels: string[];
  activation: Activation;
}

export interface Signature {
  schemaVersion: 1;
  name: string;
  input: ImageInput | TensorInput;
  heads: Head[];
}

export interface TrainingMetrics {
  schemaVersion: 1;
  heads: Record<string, { accuracy: number; loss?: number; [k: string]: unknown }>;
  accuracy: number;
  hyperparameters?: Record<string, string>;
  dataset?: { uri?: string; digest?: string };
  epochs?: number;
}

/** Bin edges are the interior cut points: value v falls in bin i = number of edges <= v. */
export interface FeatureProfile {
  edges: number[];
  counts: number[];
  min: number;
  max: number;
  mean: number;
}

export interface HeadProfile {
  classes: Record<string, number>;
  confidence: { edges: number[]; counts: number[] };
}

export interface Profile {
  schemaVersion: 1;
  model: string;
  digest: string;
  samples: number;
  bins: number;
  features: Record<string, FeatureProfile>;
  heads: Record<string, HeadProfile>;
}

const name = { type: 'string', minLength: 1, maxLength: 128 };
const label = { type: 'string', minLength: 1, maxLength: 128 };

const signatureSchema = {
  type: 'object',
  required: ['schemaVersion', 'name', 'input', 'heads'],
  additionalProperties: true,
  properties: {
    schemaVersion: { const: 1 },
    name,
    input: {
      type: 'object',
      required: ['kind'],
      properties: { kind: { enum: ['image', 'tensor'] } },
      if: { properties: { kind: { const: 'image' } } },
      then: {
        required: ['kind', 'tensor', 'width', 'height', 'channels', 'layout', 'dtype', 'scale', 'mean', 'std', 'resize'],
        properties: {
          tensor: name,
          width: { type: 'integer', minimum: 1, maximum: 4096 },
          height: { type: 'integer', minimum: 1, maximum: 4096 },
          channels: { enum: [1, 3] },
          layout: { enum: ['NCHW', 'NHWC'] },
          dtype: { const: 'float32' },
          scale: { type: 'number', exclusiveMinimum: 0 },
          mean: { type: 'array', items: { type: 'number' }, minItems: 1, maxItems: 3 },
          std: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 1, maxItems: 3 },
          resize: { enum: ['fill', 'cover', 'contain'] },
        },
      },
      else: {
        required: ['kind', 'tensor', 'dtype', 'features'],
        properties: {
          tensor: name,
          dtype: { const: 'float32' },
          features: { type: 'array', items: name, minItems: 1, maxItems: 4096 },
        },
      },
    },
    heads: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      items: {
        type: 'object',
        required: ['name', 'tensor', 'type', 'labels', 'activation'],
        properties: {
          name,
          tensor: name,
          type: { enum: ['binary', 'multiclass'] },
          labels: { type: 'array', items: label, minItems: 2, maxItems: 1000 },
          activation: { enum: ['sigmoid', 'softmax', 'none'] },
        },
      },
    },
  },
};

const metricsSchema = {
  type: 'object',
  required: ['schemaVersion', 'heads', 'accuracy'],
  properties: {
    schemaVersion: { const: 1 },
    heads: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['accuracy'],
        properties: { accuracy: { type: 'number', minimum: 0, maximum: 1 }, loss: { type: 'number' } },
      },
    },
    accuracy: { type: 'number', minimum: 0, maximum: 1 },
    hyperparameters: { type: 'object', additionalProperties: { type: 'string' } },
    dataset: { type: 'object', properties: { uri: { type: 'string' }, digest: { type: 'string' } } },
    epochs: { type: 'integer', minimum: 0 },
  },
};

const numbers = { type: 'array', items: { type: 'number' } };
const counts = { type: 'array', items: { type: 'integer', minimum: 0 } };

const profileSchema = {
  type: 'object',
  required: ['schemaVersion', 'model', 'digest', 'samples', 'bins', 'features', 'heads'],
  properties: {
    schemaVersion: { const: 1 },
    model: name,
    digest: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
    samples: { type: 'integer', minimum: 0 },
    bins: { type: 'integer', minimum: 1, maximum: 100 },
    features: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['edges', 'counts', 'min', 'max', 'mean'],
        properties: { edges: numbers, counts, min: { type: 'number' }, max: { type: 'number' }, mean: { type: 'number' } },
      },
    },
    heads: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        required: ['classes', 'confidence'],
        properties: {
          classes: { type: 'object', additionalProperties: { type: 'integer', minimum: 0 } },
          confidence: { type: 'object', required: ['edges', 'counts'], properties: { edges: numbers, counts } },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = {
  'modelship.json': ajv.compile(signatureSchema),
  'metrics.json': ajv.compile(metricsSchema),
  'profile.json': ajv.compile(profileSchema),
};

export type ArtifactFile = keyof typeof validators;

function describe(file: string, errors: ErrorObject[]): string {
  const lines = errors
    .filter((e) => e.keyword !== 'if') // "must match then schema" repeats the real error
    .slice(0, 5)
    .map((e) => {
      const field = e.instancePath ? e.instancePath.slice(1).replaceAll('/', '.') : '(root)';
      const extra = e.keyword === 'enum' ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`
        : e.keyword === 'required' ? ` "${(e.params as { missingProperty: string }).missingProperty}"` : '';
      return `${field} ${e.message}${extra}`;
    });
  return `${file}: ${lines.join('; ')}`;
}

function check<T>(file: ArtifactFile, value: unknown): T {
  const validate = validators[file] as ValidateFunction;
  if (!validate(value)) throw new ServingError('INVALID_ARTIFACT', describe(file, validate.errors ?? []));
  return value as T;
}

function duplicates(values: string[]): string[] {
  return values.filter((v, i) => values.indexOf(v) !== i);
}

/** Rules beyond the schema; each message names the field it is about. */
function crossCheckSignature(sig: Signature): string[] {
  const problems: string[] = [];
  const input = sig.input;
  if (input.kind === 'image') {
    if (input.mean.length !== input.channels) problems.push(`input.mean has ${input.mean.length} values for ${input.channels} channels`);
    if (input.std.length !== input.channels) problems.push(`input.std has ${input.std.length} values for ${input.channels} channels`);
  } else {
    for (const d of duplicates(input.features)) problems.push(`input.features repeats "${d}"`);
  }
  for (const d of duplicates(sig.heads.map((h) => h.name))) problems.push(`heads repeats name "${d}"`);
  for (const d of duplicates(sig.heads.map((h) => h.tensor))) problems.push(`heads repeats tensor "${d}"`);
  sig.heads.forEach((h, i) => {
    for (const d of duplicates(h.labels)) problems.push(`heads.${i}.labels repeats "${d}"`);
    if (h.type === 'binary' && h.labels.length !== 2) problems.push(`heads.${i}.labels must have 2 labels for a binary head`);
    if (h.activation === 'sigmoid' && h.type !== 'binary') problems.push(`heads.${i}.activation sigmoid needs type binary`);
    if (h.tensor === input.tensor) problems.push(`heads.${i}.tensor "${h.tensor}" is also the input tensor`);
  });
  return problems;
}

export function parseSignature(value: unknown): Signature {
  const sig = check<Signature>('modelship.json', value);
  const problems = crossCheckSignature(sig);
  if (problems.length) throw new ServingError('INVALID_ARTIFACT', `modelship.json: ${problems.join('; ')}`);
  return sig;
}

export function parseMetrics(value: unknown): TrainingMetrics {
  return check<TrainingMetrics>('metrics.json', value);
}

export function parseProfile(value: unknown): Profile {
  const profile = check<Profile>('profile.json', value);
  for (const [feature, f] of Object.entries(profile.features)) {
    if (f.counts.length !== f.edges.length + 1) {
      throw new ServingError('INVALID_ARTIFACT', `profile.json: features.${feature}.counts must have edges.length + 1 entries`);
    }
  }
  return profile;
}
