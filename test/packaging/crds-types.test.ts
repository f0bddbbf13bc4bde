// The TypeScript types are generated from crds/*.yaml (hack/gen-types.ts): the committed file
// must match the YAML, so `make test` fails as soon as one is changed without the other.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTypes, loadCrds, diffHint, TypeGenError, type Crd, type Schema } from '../../hack/gen-types.js';
import * as api from '../../operator/api/index.js';
import type { KindRef, KubeObject } from '../../operator/runtime/kinds.js';
import type { V1EnvVar, V1LocalObjectReference, V1PodSecurityContext, V1Toleration } from '@kubernetes/client-node';

// Compile-time contracts (checked by `tsc` in make test): the generated kinds work with the
// operator runtime's client and informers, and the Kubernetes-shaped parts of a TrainingRun spec
// (and the placement fields of every kind) can be copied into a pod template as they are.
export const kindsAreKubeObjects: KubeObject[] = [] as (api.TrainingRun | api.ModelVersion | api.InferenceService)[];
export const resourcesAreKindRefs: KindRef[] = [
  api.TrainingRunResource,
  api.ModelVersionResource,
  api.InferenceServiceResource,
];
export const envIsCoreEnv: V1EnvVar[] = [] as api.TrainingRunEnv[];
export const tolerationsAreCore: V1Toleration[] = [] as api.Toleration[];
export const pullSecretsAreCore: V1LocalObjectReference[] = [] as api.LocalObjectReference[];
export const podSecurityIsCore: V1PodSecurityContext = {} as api.PodSecurityContext;
export const templateIsTrainingRunSpec: api.TrainingRunSpec | undefined = ({} as api.InferenceServiceRetrain).template;

const crds = loadCrds('crds');
const byKind = (kind: string): Crd => crds.find((c) => c.spec.names.kind === kind)!;
const rootOf = (kind: string): Schema => byKind(kind).spec.versions[0].schema.openAPIV3Schema;

function runGenerator(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'hack/gen-types.ts', ...args], { encoding: 'utf8' });
}

test('the committed operator/api/types.gen.ts matches crds/*.yaml (gen-types --check)', () => {
  const result = runGenerator(['--check']);
  assert.is(result.status, 0, result.stderr);
  assert.is(readFileSync('operator/api/types.gen.ts', 'utf8'), generateTypes(crds));
});

test('--check exits 1 with a hint pointing at the first stale line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gen-types-'));
  try {
    const file = join(dir, 'types.gen.ts');
    const stale = generateTypes(crds).replace("'Pending', 'Running'", "'Pending', 'Starting', 'Running'");
    writeFileSync(file, stale);
    const result = runGenerator(['--check', '--file', file]);
    assert.is(result.status, 1);
    assert.match(result.stderr, /is stale/);
    assert.match(result.stderr, /first difference at line \d+/);
    assert.match(result.stderr, /'Starting'/);
    assert.match(result.stderr, /npx tsx hack\/gen-types\.ts/);
    const missing = runGenerator(['--check', '--file', join(dir, 'absent.ts')]);
    assert.is(missing.status, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('diffHint names the line and both versions', () => {
  assert.is(diffHint('a\nb\nc', 'a\nx\nc'), 'first difference at line 2:\n  generated: b\n  committed: x');
  assert.match(diffHint('a\nb', 'a'), /committed: <end of file>/);
  assert.is(diffHint('same', 'same'), 'files are identical');
});

test('a retrain template that drifts from the TrainingRun spec schema is a generator error', () => {
  const copy = structuredClone(crds);
  const is = copy.find((c) => c.spec.names.kind === 'InferenceService')!;
  const template = is.spec.versions[0].schema.openAPIV3Schema.properties!.spec.properties!.retrain.properties!.template;
  template.properties!.resources.properties!.gpus.maximum = 64;
  assert.throws(
    () => generateTypes(copy),
    (err: unknown) => err instanceof TypeGenError && /TrainingRunSpec/.test(String(err)),
  );
});

test('conditions must stay identical across kinds', () => {
  const copy = structuredClone(crds);
  const mv = copy.find((c) => c.spec.names.kind === 'ModelVersion')!;
  mv.spec.versions[0].schema.openAPIV3Schema.properties!.status.properties!.conditions.items!.properties!.reason.maxLength = 10;
  assert.throws(
    () => generateTypes(copy),
    (err: unknown) => err instanceof TypeGenError && /Condition/.test(String(err)),
  );
});

test('required and defaulted fields are non-optional; others optional; docs carry defaults', () => {
  const text = generateTypes(crds);
  const block = (name: string) =>
    text.slice(
      text.indexOf(`export interface ${name} {`),
      text.indexOf('\n}\n', text.indexOf(`export interface ${name} {`)),
    );
  const spec = block('InferenceServiceSpec');
  assert.match(spec, /\n {2}model: string;/); // required
  assert.match(spec, /\n {2}version\?: number;/); // optional
  assert.match(spec, /\n {2}canary: InferenceServiceCanary;/); // default {}
  assert.match(spec, /\n {2}retrain\?: InferenceServiceRetrain;/);
  assert.match(block('InferenceServiceRetrain'), /template\?: TrainingRunSpec;/);
  assert.match(block('InferenceServiceCanary'), /@default \[20,50\]\n {3}\*\/\n {2}steps: number\[\];/);
  assert.match(block('TrainingRunResources'), /cpu\?: number \| string;/);
  assert.match(block('TrainingRunStatus'), /conditions\?: Condition\[\];/);
  assert.match(block('TrainingRunStatus'), /phase\?: TrainingRunPhase;/);
});

test('exported constants and enum values come from the CRDs', () => {
  for (const kind of ['TrainingRun', 'ModelVersion', 'InferenceService'] as const) {
    const crd = byKind(kind);
    const resource = api.RESOURCES[kind];
    assert.is(resource.group, crd.spec.group);
    assert.is(resource.plural, crd.spec.names.plural);
    assert.equal([...resource.shortNames], crd.spec.names.shortNames);
    assert.equal([...resource.categories], ['modelship']);
    assert.is(`${resource.group}/${resource.version}`, api.API_VERSION);
  }
  assert.equal([...api.TrainingRunPhaseValues], rootOf('TrainingRun').properties!.status.properties!.phase.enum);
  assert.equal([...api.ModelVersionPhaseValues], rootOf('ModelVersion').properties!.status.properties!.phase.enum);
  assert.equal(
    [...api.InferenceServicePhaseValues],
    rootOf('InferenceService').properties!.status.properties!.phase.enum,
  );
  assert.equal([...api.TrafficProviderValues], ['router', 'gateway-api']);
  assert.equal([...api.VerdictValues], ['Pass', 'Fail', 'Inconclusive']);
});

test.run();

// The operator's withXDefaults (generated from the CRDs) must default exactly as the API server
// does: the dev cluster's apiextensions defaulting of the same CRD is the yardstick here.
test('withXDefaults matches API-server defaulting of the same CRD', async () => {
  const { compileCrdSchema } = await import('../../hack/devcluster/schema/crd.js');
  const specs: Record<string, unknown[]> = {
    InferenceService: [
      { model: 'faces' },
      {
        model: 'faces',
        canary: { steps: [5, 50], checks: { accuracy: { min: 0.9 } } },
        autoscaling: { maxReplicas: 3 },
        monitoring: null,
      },
      {
        model: 'faces',
        retrain: {
          onAccuracyBelow: 0.8,
          template: { image: 't', dataset: { uri: 'pvc://d/x' }, output: { uri: 'pvc://m/y' } },
        },
      },
    ],
    TrainingRun: [
      {
        image: 't',
        dataset: { uri: 'pvc://d/x' },
        output: { uri: 'pvc://m/y' },
        registration: { validation: { skewTolerance: 0.1 } },
      },
    ],
    ModelVersion: [{ model: 'faces', version: 1, artifact: { uri: 'pvc://m/y' } }],
  };
  const defaultsOf: Record<string, (s: never) => unknown> = {
    InferenceService: api.withInferenceServiceDefaults,
    TrainingRun: api.withTrainingRunDefaults,
    ModelVersion: api.withModelVersionDefaults,
  };
  for (const [kind, list] of Object.entries(specs)) {
    const schema = compileCrdSchema(byKind(kind), 'v1alpha1');
    for (const spec of list) {
      const stored = { apiVersion: api.API_VERSION, kind, metadata: { name: 'x' }, spec: structuredClone(spec) };
      schema.applyDefaults(stored);
      const input = structuredClone(spec);
      assert.equal(defaultsOf[kind](input as never), stored.spec, `${kind} ${JSON.stringify(spec)}`);
      assert.equal(input, spec, 'the input is not changed');
    }
  }
});
