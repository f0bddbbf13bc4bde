// The three CRDs through the dev cluster's schema engine (the same code that admits objects in
// the dev cluster API server): the CRDs are valid structural CRDs, the examples are accepted as
// they are, defaults are the documented ones, and every manifest in the invalid table is
// rejected with exactly the field path and message a Kubernetes 1.31 API server gives.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileCrdSchema, validateCrd } from '../../hack/devcluster/schema/index.js';
import { loadCrds, type Crd, type Schema } from '../../hack/gen-types.js';
import { invalidCases, loadExample, buildInvalid, type Kind } from '../support/invalid-manifests.js';

type Obj = Record<string, any>;
const KINDS: Kind[] = ['TrainingRun', 'ModelVersion', 'InferenceService'];
const crds = loadCrds('crds');
const crdOf = (kind: Kind): Crd => {
  const crd = crds.find((c) => c.spec.names.kind === kind);
  if (!crd) throw new Error(`no CRD for ${kind}`);
  return crd;
};
const rootOf = (kind: Kind): Schema => crdOf(kind).spec.versions[0].schema.openAPIV3Schema;
const engines = Object.fromEntries(KINDS.map((k) => [k, compileCrdSchema(crdOf(k) as never, 'v1alpha1')])) as Record<
  Kind,
  ReturnType<typeof compileCrdSchema>
>;

/** What the API server does to a request body before storing it: default, then prune. */
function admitted(kind: Kind, input: Obj): Obj {
  const obj = structuredClone(input);
  engines[kind].applyDefaults(obj);
  engines[kind].prune(obj);
  return obj;
}

function errorsOf(kind: Kind, input: Obj, old?: Obj): { field: string; message: string }[] {
  const obj = admitted(kind, input);
  const oldObj = old ? admitted(kind, old) : undefined;
  return engines[kind].validate(obj, oldObj).map((e) => ({ field: e.field, message: e.message }));
}

test('every CRD is a valid structural apiextensions.k8s.io/v1 CRD', () => {
  for (const kind of KINDS) assert.equal(validateCrd(crdOf(kind) as never), [], kind);
});

test('names, scope, versions, status subresource and categories follow the conventions', () => {
  const expected = {
    TrainingRun: ['trainingruns', 'tr'],
    ModelVersion: ['modelversions', 'mv'],
    InferenceService: ['inferenceservices', 'msvc'],
  };
  for (const kind of KINDS) {
    const { spec, metadata } = crdOf(kind) as Crd & { spec: Obj };
    const [plural, short] = expected[kind];
    assert.is(metadata.name, `${plural}.modelship.dev`);
    assert.is(spec.group, 'modelship.dev');
    assert.is(spec.scope, 'Namespaced');
    assert.is(spec.names.plural, plural);
    assert.equal(spec.names.shortNames, [short]);
    assert.equal(spec.names.categories, ['modelship']);
    assert.is(spec.versions.length, 1);
    const [v] = spec.versions as Obj[];
    assert.equal([v.name, v.served, v.storage], ['v1alpha1', true, true]);
    assert.equal(v.subresources, { status: {} });
  }
});

test('every example is accepted unchanged: no errors, nothing pruned', () => {
  for (const kind of KINDS) {
    const example = loadExample(kind);
    assert.equal(errorsOf(kind, example), [], kind);
    const defaulted = structuredClone(example);
    engines[kind].applyDefaults(defaulted);
    assert.equal(engines[kind].prune(defaulted), [], `${kind}: example fields unknown to the schema`);
  }
});

/** Every manifest of our kinds under examples/ (several documents per file), as a user applies them. */
function exampleManifests(dir = 'examples'): Array<[string, Obj]> {
  const out: Array<[string, Obj]> = [];
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    for (const doc of yaml.loadAll(readFileSync(join(dir, name), 'utf8')) as Obj[]) {
      if (doc && (KINDS as readonly string[]).includes(doc.kind))
        out.push([`${name} ${doc.kind}/${doc.metadata?.name}`, doc]);
    }
  }
  return out;
}

test('every TrainingRun, ModelVersion and InferenceService under examples/ validates', () => {
  const manifests = exampleManifests();
  assert.ok(
    manifests.some(([name]) => name.includes('trainingrun-s3.yaml')),
    'the object-storage example is among them',
  );
  for (const [name, doc] of manifests) assert.equal(errorsOf(doc.kind as Kind, doc), [], name);
});

/**
 * kube-apiserver skips CEL rules when OpenAPI validation failed with a Required, Unsupported,
 * Too long, Too many or wrong-type error, and says so in one more error.
 */
const CEL_SKIPPED = {
  field: '<nil>',
  message:
    'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
};
const blocksCel = (message: string) =>
  /^(Required value|Unsupported value|Too long|Too many)|must be of type/.test(message);

for (const c of invalidCases) {
  test(`rejects ${c.kind}: ${c.name}`, () => {
    const invalid = buildInvalid(c);
    const errors = c.update ? errorsOf(c.kind, invalid, loadExample(c.kind)) : errorsOf(c.kind, invalid);
    const expected = [{ field: c.field, message: c.message }];
    assert.equal(errors, blocksCel(c.message) ? [...expected, CEL_SKIPPED] : expected);
  });
}

test('the invalid table is big and covers every kind', () => {
  assert.ok(invalidCases.length >= 30, `only ${invalidCases.length} cases`);
  for (const kind of KINDS) assert.ok(invalidCases.filter((c) => c.kind === kind).length >= 5, kind);
  const keys = invalidCases.map((c) => `${c.kind}/${c.name}`);
  assert.is(new Set(keys).size, keys.length, 'case names are unique per kind');
});

test('an unchanged ModelVersion update and a status-only change pass the immutability rule', () => {
  const mv = loadExample('ModelVersion');
  assert.equal(errorsOf('ModelVersion', mv, mv), []);
  const withStatus = { ...structuredClone(mv), status: { phase: 'Ready', servingAccuracy: 0.9 } };
  assert.equal(errorsOf('ModelVersion', withStatus, mv), []);
});

const DEFAULTED: Record<Kind, { input: Obj; spec: Obj }> = {
  TrainingRun: {
    input: { model: 'm', image: 'trainer:1', dataset: { uri: 'pvc://data/m' }, output: { uri: 'pvc://models/m' } },
    spec: {
      model: 'm',
      image: 'trainer:1',
      dataset: { uri: 'pvc://data/m' },
      output: { uri: 'pvc://models/m' },
      resources: { gpus: 0 },
      backoffLimit: 0,
      registration: { enabled: true, validation: { skewTolerance: 0.05, activeDeadlineSeconds: 600 } },
    },
  },
  ModelVersion: {
    input: { model: 'm', version: 1, artifact: { uri: 'pvc://models/m/run-1' } },
    spec: {
      model: 'm',
      version: 1,
      artifact: { uri: 'pvc://models/m/run-1' },
      format: 'onnx',
      validation: { skewTolerance: 0.05, activeDeadlineSeconds: 600 },
    },
  },
  InferenceService: {
    input: { model: 'm' },
    spec: {
      model: 'm',
      replicas: 1,
      traffic: { provider: 'router', router: { replicas: 1 } },
      feedback: { credential: 'Required' },
      canary: {
        steps: [20, 50],
        interval: '1m',
        failureLimit: 2,
        progressDeadline: '1h',
        minRequests: 50,
        minFeedback: 50,
        checks: {
          accuracy: { maxDropVsStable: 0.05, confidence: 0.95, failOnEstimate: false },
          drift: { max: 0.25 },
          latencyP95Ms: { max: 500 },
          errorRate: { max: 0.01 },
        },
      },
      monitoring: { enabled: true, interval: '5m', drift: { warn: 0.1, critical: 0.25 }, guardWindow: '10m' },
    },
  },
};

test('a minimal manifest of each kind gets the documented defaults and is valid', () => {
  for (const kind of KINDS) {
    const { input, spec } = DEFAULTED[kind];
    const obj = {
      apiVersion: 'modelship.dev/v1alpha1',
      kind,
      metadata: { name: 'm-v1', namespace: 'default' },
      spec: input,
    };
    assert.equal(admitted(kind, obj).spec, spec, kind);
    assert.equal(errorsOf(kind, obj), [], kind);
  }
});

test('a retrain template is defaulted like a TrainingRun spec', () => {
  const template = {
    model: 'm',
    image: 'trainer:1',
    dataset: { uri: 'pvc://data/m' },
    output: { uri: 'pvc://models/m' },
  };
  const obj = {
    apiVersion: 'modelship.dev/v1alpha1',
    kind: 'InferenceService',
    metadata: { name: 'm' },
    spec: { model: 'm', retrain: { onAccuracyBelow: 0.7, template } },
  };
  const retrain = admitted('InferenceService', obj).spec.retrain;
  assert.equal(retrain, {
    onAccuracyBelow: 0.7,
    onDrift: false,
    cooldown: '24h',
    template: DEFAULTED.TrainingRun.spec,
  });
});

function walk(schema: Schema, path: string, visit: (s: Schema, path: string) => void): void {
  visit(schema, path);
  for (const [name, sub] of Object.entries(schema.properties ?? {})) walk(sub, `${path}.${name}`, visit);
  if (schema.items) walk(schema.items, `${path}[]`, visit);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object')
    walk(schema.additionalProperties, `${path}{}`, visit);
}

test('every schema property and object item has a description', () => {
  for (const kind of KINDS) {
    const missing: string[] = [];
    walk(rootOf(kind), kind, (s, path) => {
      const isProperty = !path.endsWith('[]') && !path.endsWith('{}');
      const isObjectItem = path.endsWith('[]') && s.type === 'object';
      if ((isProperty || isObjectItem) && !(typeof s.description === 'string' && s.description.trim().length > 0))
        missing.push(path);
    });
    assert.equal(missing, [], `${kind}: properties without a description`);
  }
});

// The one exception to "no free-form fields": the three core/v1 affinity kinds, copied into pod
// templates as they are. Their schema is deep and the API server checks them when it admits
// the Job or Deployment, so a copy here would only drift from the real one.
const FREE_FORM = /\.affinity\.(nodeAffinity|podAffinity|podAntiAffinity)$/;

test('every CEL rule has a one-line message; free-form fields are not used', () => {
  for (const kind of KINDS) {
    walk(rootOf(kind), kind, (s, path) => {
      for (const rule of (s['x-kubernetes-validations'] as { rule: string; message?: string }[] | undefined) ?? []) {
        assert.ok(rule.message && !rule.message.includes('\n'), `${path}: rule ${rule.rule} needs a message`);
      }
      if (FREE_FORM.test(path)) assert.is(s.type, 'object', `${path} must at least be an object`);
      else assert.not.ok(s['x-kubernetes-preserve-unknown-fields'], `${path} preserves unknown fields`);
    });
  }
});

test('every status has observedGeneration, a phase enum and standard conditions', () => {
  for (const kind of KINDS) {
    const status = rootOf(kind).properties!.status;
    const props = status.properties!;
    assert.equal([props.observedGeneration.type, props.observedGeneration.format], ['integer', 'int64'], kind);
    assert.ok(Array.isArray(props.phase.enum) && props.phase.enum.length >= 4, kind);
    const conditions = props.conditions as Obj;
    assert.is(conditions['x-kubernetes-list-type'], 'map');
    assert.equal(conditions['x-kubernetes-list-map-keys'], ['type']);
    assert.equal(conditions.items.required, ['type', 'status', 'lastTransitionTime', 'reason', 'message']);
    assert.equal(Object.keys(conditions.items.properties).sort(), [
      'lastTransitionTime',
      'message',
      'observedGeneration',
      'reason',
      'status',
      'type',
    ]);
    assert.equal(conditions.items.properties.status.enum, ['True', 'False', 'Unknown']);
  }
});

test('the retrain template is the TrainingRun spec schema, word for word', () => {
  const { description: _a, ...trSpec } = rootOf('TrainingRun').properties!.spec;
  const template = rootOf('InferenceService').properties!.spec.properties!.retrain.properties!.template;
  const { description: _b, ...copy } = template;
  assert.equal(copy, trSpec);
});

/** The schema node a printer column's jsonPath points at (".status.metrics.accuracy"). */
function resolveColumn(root: Schema, jsonPath: string): Schema | undefined {
  let node: Schema | undefined = root;
  for (const part of jsonPath.replace(/^\./, '').split('.')) {
    if (!node) return undefined;
    if (node.properties?.[part]) node = node.properties[part];
    else if (node.additionalProperties && typeof node.additionalProperties === 'object')
      node = node.additionalProperties;
    else return undefined;
  }
  return node;
}

test('printer columns tell the story and point at real fields of the right type', () => {
  const expected: Record<Kind, string[]> = {
    TrainingRun: ['Phase', 'Model', 'Version', 'Accuracy', 'GPUs', 'Age'],
    ModelVersion: ['Model', 'Version', 'Phase', 'Accuracy', 'Serving-Accuracy', 'Age'],
    InferenceService: ['Phase', 'Model', 'Stable', 'Canary', 'Weight', 'Accuracy', 'Drift', 'URL', 'Age'],
  };
  for (const kind of KINDS) {
    const columns = (crdOf(kind).spec.versions[0] as Obj).additionalPrinterColumns as Obj[];
    assert.equal(
      columns.map((c) => c.name),
      expected[kind],
      kind,
    );
    for (const column of columns) {
      if (column.jsonPath === '.metadata.creationTimestamp') {
        assert.is(column.type, 'date');
        continue;
      }
      const node = resolveColumn(rootOf(kind), column.jsonPath);
      assert.ok(node, `${kind} column ${column.name}: ${column.jsonPath} is not in the schema`);
      assert.is(node!.type, column.type, `${kind} column ${column.name}`);
    }
  }
  const url = ((crdOf('InferenceService').spec.versions[0] as Obj).additionalPrinterColumns as Obj[]).find(
    (c) => c.name === 'URL',
  );
  assert.is(url?.priority, 1);
});

test.run();
