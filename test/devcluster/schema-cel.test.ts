// x-kubernetes-validations (CEL): failures worded as kube-apiserver 1.31 words them, transition
// rules with oldSelf, messageExpression, reason and fieldPath, Kubernetes list functions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileCrdSchema } from '../../hack/devcluster/schema/index.js';
import { crdWith, lines, widget } from '../../hack/devcluster/schema/testing.js';
import type { JSONSchemaProps, ValidationRule } from '../../hack/devcluster/schema/types.js';

const base: Record<string, JSONSchemaProps> = {
  model: { type: 'string' },
  version: { type: 'integer' },
  replicas: { type: 'integer' },
  minReplicas: { type: 'integer' },
  maxReplicas: { type: 'integer' },
  ratio: { type: 'number' },
  port: { 'x-kubernetes-int-or-string': true },
  optional: { type: 'string' },
  start: { type: 'string', format: 'date-time' },
  end: { type: 'string', format: 'date-time' },
  every: { type: 'string', format: 'duration' },
  'max-surge': { type: 'integer' },
  steps: { type: 'array', items: { type: 'integer' } },
  tags: { type: 'array', items: { type: 'string' } },
  labels: { type: 'object', additionalProperties: { type: 'string' } },
  env: {
    type: 'array',
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
    items: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string' },
        value: {
          type: 'string',
          'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'value is immutable' }],
        },
      },
    },
  },
};

/** A spec schema with `rules` on spec itself, or on one property when `on` is given. */
function schemaWith(rules: ValidationRule[], on?: string): JSONSchemaProps {
  const properties = structuredClone(base);
  if (on) properties[on] = { ...properties[on], 'x-kubernetes-validations': rules };
  return { type: 'object', properties, ...(on ? {} : { 'x-kubernetes-validations': rules }) };
}

interface Case {
  name: string;
  rules: ValidationRule[];
  on?: string;
  spec: Record<string, unknown>;
  old?: Record<string, unknown>;
  expect: string[];
}

const cases: Case[] = [
  {
    name: 'a failing rule without a message quotes the rule',
    rules: [{ rule: 'self.minReplicas <= self.maxReplicas' }],
    spec: { minReplicas: 5, maxReplicas: 2 },
    expect: ['spec: Invalid value: "object": failed rule: self.minReplicas <= self.maxReplicas'],
  },
  {
    name: 'a passing rule',
    rules: [{ rule: 'self.minReplicas <= self.maxReplicas' }],
    spec: { minReplicas: 1, maxReplicas: 2 },
    expect: [],
  },
  {
    name: 'message',
    rules: [{ rule: 'self.minReplicas <= self.maxReplicas', message: 'minReplicas must not exceed maxReplicas' }],
    spec: { minReplicas: 5, maxReplicas: 2 },
    expect: ['spec: Invalid value: "object": minReplicas must not exceed maxReplicas'],
  },
  {
    name: 'messageExpression',
    rules: [{ rule: 'self.replicas <= 10', messageExpression: "'replicas ' + string(self.replicas) + ' exceeds 10'" }],
    spec: { replicas: 12 },
    expect: ['spec: Invalid value: "object": replicas 12 exceeds 10'],
  },
  {
    name: 'reason Forbidden and fieldPath',
    rules: [
      {
        rule: "!has(self.optional) || self.model != 'legacy'",
        message: 'optional is not allowed for legacy models',
        reason: 'FieldValueForbidden',
        fieldPath: '.optional',
      },
    ],
    spec: { model: 'legacy', optional: 'x' },
    expect: ['spec.optional: Forbidden: optional is not allowed for legacy models'],
  },
  {
    name: 'reason Required',
    rules: [
      {
        rule: "self.model != 'custom' || has(self.optional)",
        message: 'required for custom models',
        reason: 'FieldValueRequired',
        fieldPath: '.optional',
      },
    ],
    spec: { model: 'custom' },
    expect: ['spec.optional: Required value: required for custom models'],
  },
  {
    name: 'a rule on a scalar reports the scalar type',
    rules: [{ rule: 'self >= 0 && self <= 100', message: 'must be 0-100' }],
    on: 'replicas',
    spec: { replicas: 101 },
    expect: ['spec.replicas: Invalid value: "integer": must be 0-100'],
  },
  {
    name: 'weights: every step within 0-100 (all macro)',
    rules: [{ rule: 'self.all(w, w >= 0 && w <= 100)', message: 'steps must be 0-100' }],
    on: 'steps',
    spec: { steps: [10, 120] },
    expect: ['spec.steps: Invalid value: "array": steps must be 0-100'],
  },
  {
    name: 'weights increasing, with indexes',
    rules: [
      {
        rule: 'size(self) < 2 || (self[0] < self[1] && (size(self) < 3 || self[1] < self[2]))',
        message: 'steps must increase',
      },
    ],
    on: 'steps',
    spec: { steps: [10, 50, 25] },
    expect: ['spec.steps: Invalid value: "array": steps must increase'],
  },
  {
    name: 'weights increasing, with isSorted() and exists_one()',
    rules: [
      { rule: 'self.isSorted() && self.all(w, self.exists_one(x, x == w))', message: 'steps must strictly increase' },
    ],
    on: 'steps',
    spec: { steps: [10, 10, 50] },
    expect: ['spec.steps: Invalid value: "array": steps must strictly increase'],
  },
  {
    name: 'sorted steps pass',
    rules: [{ rule: 'self.isSorted() && self.all(w, self.exists_one(x, x == w))' }],
    on: 'steps',
    spec: { steps: [10, 25, 50] },
    expect: [],
  },
  {
    name: 'map and filter',
    rules: [{ rule: 'self.map(w, w * 2).filter(w, w > 100).size() == 0', message: 'doubled weights must stay <= 100' }],
    on: 'steps',
    spec: { steps: [10, 60] },
    expect: ['spec.steps: Invalid value: "array": doubled weights must stay <= 100'],
  },
  {
    name: 'string functions',
    rules: [
      { rule: "self.startsWith('fa') && self.endsWith('es') && self.contains('attr') && self.matches('^[a-z-]+$')" },
    ],
    on: 'model',
    spec: { model: 'face-attributes' },
    expect: [],
  },
  {
    name: 'integers are int, numbers are double',
    rules: [{ rule: 'self.replicas + 1 == 3 && self.ratio * 2.0 == 1.0 && self.ratio < self.replicas' }],
    spec: { replicas: 2, ratio: 0.5 },
    expect: [],
  },
  {
    name: 'int-or-string is dyn',
    rules: [
      { rule: "type(self) == int ? self > 0 : self.endsWith('%')", message: 'a positive number or a percentage' },
    ],
    on: 'port',
    spec: { port: '50' },
    expect: ['spec.port: Invalid value: "": a positive number or a percentage'],
  },
  {
    name: 'format date-time is a timestamp and format duration a duration',
    rules: [
      { rule: 'self.start < self.end', message: 'start must precede end' },
      { rule: "self.end - self.start <= duration('24h')", message: 'at most a day' },
      { rule: "self.every >= duration('1m')", message: 'every must be at least a minute' },
    ],
    spec: { start: '2026-11-20T10:00:00Z', end: '2026-11-22T09:00:00Z', every: '1h30m' },
    expect: ['spec: Invalid value: "object": at most a day'],
  },
  {
    name: 'timestamps compare in time, not as strings',
    rules: [{ rule: 'self.start < self.end', message: 'start must precede end' }],
    spec: { start: '2026-11-22T10:00:00+02:00', end: '2026-11-22T09:30:00Z' },
    expect: [],
  },
  {
    name: 'escaped property names',
    rules: [{ rule: 'self.max__dash__surge <= 2' }],
    spec: { 'max-surge': 3 },
    expect: ['spec: Invalid value: "object": failed rule: self.max__dash__surge <= 2'],
  },
  {
    name: 'map values and keys',
    rules: [{ rule: "self.all(k, k.startsWith('app.')) && self['app.tier'] == 'web'" }],
    on: 'labels',
    spec: { labels: { 'app.tier': 'db' } },
    expect: [
      "spec.labels: Invalid value: \"object\": failed rule: self.all(k, k.startsWith('app.')) && self['app.tier'] == 'web'",
    ],
  },
  {
    name: 'reading an absent field is a runtime error, in cel-go wording',
    rules: [{ rule: "self.optional == 'x'" }],
    spec: {},
    expect: ['spec: Invalid value: "object": no such key: optional evaluating rule: self.optional == \'x\''],
  },
  {
    name: 'transition rule is skipped on create',
    rules: [{ rule: 'self == oldSelf', message: 'spec is immutable' }],
    spec: { model: 'a' },
    expect: [],
  },
  {
    name: 'transition rule: immutability on update',
    rules: [{ rule: 'self == oldSelf', message: 'spec is immutable' }],
    spec: { model: 'b' },
    old: { model: 'a' },
    expect: ['spec: Invalid value: "object": spec is immutable'],
  },
  {
    name: 'transition rule: unchanged update passes',
    rules: [{ rule: 'self == oldSelf', message: 'spec is immutable' }],
    spec: { model: 'a', steps: [1, 2] },
    old: { model: 'a', steps: [1, 2] },
    expect: [],
  },
  {
    name: 'transition rule on a scalar: may not decrease',
    rules: [{ rule: 'self >= oldSelf', message: 'version may not decrease' }],
    on: 'version',
    spec: { version: 2 },
    old: { version: 3 },
    expect: ['spec.version: Invalid value: "integer": version may not decrease'],
  },
  {
    name: 'transition rule is skipped for a field the old object did not have',
    rules: [{ rule: 'self >= oldSelf', message: 'version may not decrease' }],
    on: 'version',
    spec: { version: 2 },
    old: {},
    expect: [],
  },
  {
    name: 'list-type map items correlate with the old item of the same key',
    rules: [],
    spec: {
      env: [
        { name: 'B', value: 'new' },
        { name: 'A', value: '1' },
      ],
    },
    old: {
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: 'old' },
      ],
    },
    expect: ['spec.env[0].value: Invalid value: "string": value is immutable'],
  },
  {
    name: 'a rule on a changed object is evaluated even if the fields it reads are unchanged',
    rules: [{ rule: 'self.replicas <= 10' }],
    spec: { replicas: 20, model: 'b' },
    old: { replicas: 20, model: 'a' },
    expect: ['spec: Invalid value: "object": failed rule: self.replicas <= 10'],
  },
];

for (const c of cases) {
  test(`cel: ${c.name}`, () => {
    const schema = compileCrdSchema(crdWith(schemaWith(c.rules, c.on)), 'v1');
    const errs = schema.validate(widget(c.spec), c.old ? widget(c.old) : undefined);
    assert.equal(lines(errs), c.expect);
  });
}

test('cel: ratcheting drops a rule failure inside an unchanged subtree', () => {
  const crd = crdWith(schemaWith([{ rule: 'self <= 10', message: 'at most 10' }], 'replicas'));
  const schema = compileCrdSchema(crd, 'v1');
  assert.equal(lines(schema.validate(widget({ replicas: 20, model: 'b' }), widget({ replicas: 20, model: 'a' }))), []);
  assert.equal(lines(schema.validate(widget({ replicas: 21, model: 'b' }), widget({ replicas: 20, model: 'a' }))), [
    'spec.replicas: Invalid value: "integer": at most 10',
  ]);
});

test('cel: rules are not evaluated when schema validation already found a blocking error', () => {
  const schema = compileCrdSchema(crdWith(schemaWith([{ rule: 'self.replicas <= 10' }])), 'v1');
  assert.equal(lines(schema.validate(widget({ replicas: 'many' }))), [
    'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
    '<nil>: Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
  ]);
});

test('cel: a rule at the root sees metadata.name', () => {
  const crd = crdWith(schemaWith([]), {
    'x-kubernetes-validations': [
      {
        rule: "self.metadata.name == self.spec.model + '-v' + string(self.spec.version)",
        message: 'name must be <model>-v<version>',
      },
    ],
  });
  const schema = compileCrdSchema(crd, 'v1');
  assert.equal(lines(schema.validate(widget({ model: 'm', version: 2 }))), [
    '<nil>: Invalid value: "object": name must be <model>-v<version>',
  ]);
  const ok = widget({ model: 'm', version: 2 });
  ok.metadata.name = 'm-v2';
  assert.equal(lines(schema.validate(ok)), []);
});

test('cel: sum, min, max, indexOf on lists', () => {
  const rule =
    'self.sum() == 60 && self.min() == 10 && self.max() == 30 && self.indexOf(20) == 1 && self.lastIndexOf(99) == -1';
  const schema = compileCrdSchema(crdWith(schemaWith([{ rule }], 'steps')), 'v1');
  assert.equal(lines(schema.validate(widget({ steps: [10, 20, 30] }))), []);
  assert.equal(lines(schema.validate(widget({ steps: [10, 20, 31] }))).length, 1);
});

test.run();
