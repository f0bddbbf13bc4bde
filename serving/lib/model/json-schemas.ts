// The JSON Schemas of the artifact files (modelship.json, metrics.json, profile.json): the
// structure ajv checks. They are data, kept apart from schema.ts, where the TypeScript types,
// the cross-field rules that JSON Schema states awkwardly and the parse functions live.

const name = { type: 'string', minLength: 1, maxLength: 128 };
const label = { type: 'string', minLength: 1, maxLength: 128 };

export const signatureSchema = {
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
        required: [
          'kind',
          'tensor',
          'width',
          'height',
          'channels',
          'layout',
          'dtype',
          'scale',
          'mean',
          'std',
          'resize',
        ],
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

export const metricsSchema = {
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

export const profileSchema = {
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
        properties: {
          edges: numbers,
          counts,
          min: { type: 'number' },
          max: { type: 'number' },
          mean: { type: 'number' },
        },
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
          calibration: {
            type: 'object',
            required: ['temperature', 'samples', 'eceBefore', 'eceAfter', 'confidence'],
            properties: {
              temperature: { type: 'number', exclusiveMinimum: 0 },
              samples: { type: 'integer', minimum: 1 },
              eceBefore: { type: 'number', minimum: 0, maximum: 1 },
              eceAfter: { type: 'number', minimum: 0, maximum: 1 },
              confidence: { type: 'object', required: ['edges', 'counts'], properties: { edges: numbers, counts } },
            },
          },
        },
      },
    },
  },
};
