// Defaulting and pruning with apiextensions semantics.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileCrdSchema } from '../../hack/devcluster/schema/index.js';
import { crdWith, widget } from '../../hack/devcluster/schema/testing.js';
import type { JSONSchemaProps } from '../../hack/devcluster/schema/types.js';

const specSchema: JSONSchemaProps = {
  type: 'object',
  properties: {
    replicas: { type: 'integer', default: 1 },
    traffic: {
      type: 'object',
      default: {},
      properties: { provider: { type: 'string', default: 'router' }, port: { type: 'integer', default: 8080 } },
    },
    canary: {
      type: 'object',
      properties: {
        interval: { type: 'string', default: '1m' },
        steps: { type: 'array', items: { type: 'integer' }, default: [10, 50] },
      },
    },
    env: {
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string', default: '' } } },
    },
    hyperparameters: { type: 'object', additionalProperties: { type: 'string', default: 'unset' } },
    optional: { type: 'string', nullable: true, default: 'd' },
    plain: { type: 'string' },
    tolerations: { type: 'object', default: { a: 1 }, 'x-kubernetes-preserve-unknown-fields': true },
  },
};

interface DefaultCase {
  name: string;
  spec: Record<string, unknown>;
  expect: Record<string, unknown>;
}

const defaultCases: DefaultCase[] = [
  {
    name: 'absent fields get defaults; a defaulted object gets its nested defaults',
    spec: {},
    expect: { replicas: 1, traffic: { provider: 'router', port: 8080 }, optional: 'd', tolerations: { a: 1 } },
  },
  {
    name: 'present values are kept; nested objects that are present are defaulted',
    spec: { replicas: 3, traffic: { port: 9000 }, canary: {} },
    expect: {
      replicas: 3,
      traffic: { port: 9000, provider: 'router' },
      canary: { interval: '1m', steps: [10, 50] },
      optional: 'd',
      tolerations: { a: 1 },
    },
  },
  {
    name: 'list items are defaulted',
    spec: { env: [{ name: 'A' }, { name: 'B', value: 'x' }] },
    expect: {
      replicas: 1,
      traffic: { provider: 'router', port: 8080 },
      env: [
        { name: 'A', value: '' },
        { name: 'B', value: 'x' },
      ],
      optional: 'd',
      tolerations: { a: 1 },
    },
  },
  {
    name: 'non-nullable null becomes the default, or disappears without one; nullable null stays',
    spec: { replicas: null, plain: null, optional: null },
    expect: { replicas: 1, optional: null, traffic: { provider: 'router', port: 8080 }, tolerations: { a: 1 } },
  },
  {
    name: 'null map values take the additionalProperties default',
    spec: { hyperparameters: { lr: '0.1', epochs: null } },
    expect: {
      replicas: 1,
      traffic: { provider: 'router', port: 8080 },
      hyperparameters: { lr: '0.1', epochs: 'unset' },
      optional: 'd',
      tolerations: { a: 1 },
    },
  },
];

for (const c of defaultCases) {
  test(`defaults: ${c.name}`, () => {
    const schema = compileCrdSchema(crdWith(specSchema), 'v1');
    const o = widget(structuredClone(c.spec));
    schema.applyDefaults(o);
    assert.equal(o.spec, c.expect);
  });
}

test('defaults are deep copies: mutating one object does not leak into the next', () => {
  const schema = compileCrdSchema(crdWith(specSchema), 'v1');
  const a = widget({ canary: {} });
  schema.applyDefaults(a);
  a.spec.canary.steps.push(99);
  const b = widget({ canary: {} });
  schema.applyDefaults(b);
  assert.equal(b.spec.canary.steps, [10, 50]);
});

const pruneSchema: JSONSchemaProps = {
  type: 'object',
  properties: {
    model: { type: 'string' },
    template: {
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      properties: { known: { type: 'object', properties: { a: { type: 'string' } } } },
    },
    items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
    labels: { type: 'object', additionalProperties: { type: 'object', properties: { v: { type: 'string' } } } },
    embedded: {
      type: 'object',
      'x-kubernetes-embedded-resource': true,
      properties: { spec: { type: 'object', properties: { x: { type: 'string' } } } },
    },
  },
};

interface PruneCase {
  name: string;
  object: Record<string, any>;
  expectPruned: string[];
  expectSpec: unknown;
}

const pruneCases: PruneCase[] = [
  {
    name: 'unknown fields at every level, with their paths',
    object: { spec: { model: 'm', foo: 1, items: [{ name: 'a', bar: 2 }], labels: { k: { v: 'x', w: 'y' } } } },
    expectPruned: ['.spec.foo', '.spec.items[0].bar', '.spec.labels.k.w'],
    expectSpec: { model: 'm', items: [{ name: 'a' }], labels: { k: { v: 'x' } } },
  },
  {
    name: 'x-kubernetes-preserve-unknown-fields keeps unknown fields, but specified ones are still pruned inside',
    object: { spec: { template: { anything: { deep: true }, known: { a: 'x', b: 'y' } } } },
    expectPruned: ['.spec.template.known.b'],
    expectSpec: { template: { anything: { deep: true }, known: { a: 'x' } } },
  },
  {
    name: 'embedded resources keep apiVersion, kind and metadata',
    object: {
      spec: {
        embedded: {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', labels: { a: 'b' } },
          spec: { x: '1', y: '2' },
          status: {},
        },
      },
    },
    expectPruned: ['.spec.embedded.spec.y', '.spec.embedded.status'],
    expectSpec: {
      embedded: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', labels: { a: 'b' } }, spec: { x: '1' } },
    },
  },
];

for (const c of pruneCases) {
  test(`prune: ${c.name}`, () => {
    const schema = compileCrdSchema(crdWith(pruneSchema), 'v1');
    const o = widget(undefined, structuredClone(c.object));
    assert.equal(schema.prune(o), c.expectPruned);
    assert.equal(o.spec, c.expectSpec);
  });
}

test('prune keeps apiVersion, kind and all of metadata at the root, and drops unknown root fields', () => {
  const schema = compileCrdSchema(crdWith(pruneSchema), 'v1');
  const o = widget({ model: 'm' }, { extra: true });
  o.metadata.labels = { a: 'b' };
  o.metadata.annotations = { x: 'y' };
  assert.equal(schema.prune(o), ['.extra']);
  assert.equal(o.metadata, { name: 'w1', namespace: 'default', labels: { a: 'b' }, annotations: { x: 'y' } });
  assert.is(o.apiVersion, 'example.com/v1');
});

test('status is pruned by its own schema like any other field', () => {
  const crd = crdWith(
    { type: 'object' },
    { properties: { status: { type: 'object', properties: { phase: { type: 'string' } } } } },
  );
  const schema = compileCrdSchema(crd, 'v1', 'status');
  const o = widget({}, { status: { phase: 'Ready', bogus: 1 } });
  assert.equal(schema.prune(o), ['.status.bogus']);
  assert.equal(o.status, { phase: 'Ready' });
});

test('compileCrdSchema caches per CRD uid and generation', () => {
  const crd = crdWith(pruneSchema);
  assert.is(compileCrdSchema(crd, 'v1'), compileCrdSchema(structuredClone(crd), 'v1'));
  const next = structuredClone(crd);
  next.metadata.generation = 2;
  assert.is.not(compileCrdSchema(next, 'v1'), compileCrdSchema(crd, 'v1'));
  assert.throws(() => compileCrdSchema(crd, 'v9'), /no version "v9"/);
});

test.run();
