// The artifact formats as typed, versioned JSON schemas (json-schemas.ts). ajv checks
// structure; a few cross-field rules (mean/std per channel, binary heads have two labels,
// unique names) that JSON Schema states awkwardly are checked in code. Every message names
// the field.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ServingError } from '../errors.js';
import { metricsSchema, profileSchema, signatureSchema } from './json-schemas.js';

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
  /** Temperature scaling fitted on the labelled reference sample, and its calibrated confidences. */
  calibration?: {
    temperature: number;
    samples: number;
    eceBefore: number;
    eceAfter: number;
    confidence: { edges: number[]; counts: number[] };
  };
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
      const extra =
        e.keyword === 'enum'
          ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})`
          : e.keyword === 'required'
            ? ` "${(e.params as { missingProperty: string }).missingProperty}"`
            : '';
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
    if (input.mean.length !== input.channels)
      problems.push(`input.mean has ${input.mean.length} values for ${input.channels} channels`);
    if (input.std.length !== input.channels)
      problems.push(`input.std has ${input.std.length} values for ${input.channels} channels`);
  } else {
    for (const d of duplicates(input.features)) problems.push(`input.features repeats "${d}"`);
  }
  for (const d of duplicates(sig.heads.map((h) => h.name))) problems.push(`heads repeats name "${d}"`);
  for (const d of duplicates(sig.heads.map((h) => h.tensor))) problems.push(`heads repeats tensor "${d}"`);
  sig.heads.forEach((h, i) => {
    for (const d of duplicates(h.labels)) problems.push(`heads.${i}.labels repeats "${d}"`);
    if (h.type === 'binary' && h.labels.length !== 2)
      problems.push(`heads.${i}.labels must have 2 labels for a binary head`);
    if (h.activation === 'sigmoid' && h.type !== 'binary')
      problems.push(`heads.${i}.activation sigmoid needs type binary`);
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
      throw new ServingError(
        'INVALID_ARTIFACT',
        `profile.json: features.${feature}.counts must have edges.length + 1 entries`,
      );
    }
  }
  return profile;
}
