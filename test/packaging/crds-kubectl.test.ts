// The CRDs and examples as a user meets them: the real kubectl (v1.31) against the dev cluster
// API server. Installs crds/, applies examples/, reads the printer columns, and checks that a
// few invalid manifests are refused with the same messages as in test/packaging/crds.test.ts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import yaml from 'js-yaml';
import { startTestCluster, type TestCluster, type RunResult } from '../support/devcluster.js';
import { invalidCases, buildInvalid, loadExample } from '../support/invalid-manifests.js';

const kubectlSuite = suite<{ cluster?: TestCluster }>('crds with kubectl');

kubectlSuite.before(async (ctx) => {
  ctx.cluster = await startTestCluster();
});

kubectlSuite.after(async (ctx) => {
  await ctx.cluster?.stop();
});

async function kubectl(ctx: { cluster?: TestCluster }, args: string[], input?: string): Promise<RunResult> {
  return ctx.cluster!.kubectl(args, { input, timeoutMs: 30_000 });
}

function ok(result: RunResult, what: string): string {
  assert.is(result.code, 0, `${what} failed: ${result.stderr}`);
  return result.stdout;
}

/** Rows of `kubectl get` table output as objects keyed by column header. */
function table(stdout: string): Record<string, string>[] {
  const [header, ...rows] = stdout.trimEnd().split('\n');
  const starts = [...header.matchAll(/\S+/g)].map((m) => m.index!);
  const names = [...header.matchAll(/\S+/g)].map((m) => m[0]);
  return rows.map((row) => Object.fromEntries(names.map((n, i) => [n, row.slice(starts[i], starts[i + 1]).trim()])));
}

kubectlSuite('kubectl apply -f crds/ establishes the three kinds', async (ctx) => {
  const out = ok(await kubectl(ctx, ['apply', '-f', 'crds/']), 'apply crds');
  for (const plural of ['trainingruns', 'modelversions', 'inferenceservices']) {
    assert.match(out, `customresourcedefinition.apiextensions.k8s.io/${plural}.modelship.dev created`);
  }
  ok(await kubectl(ctx, ['wait', '--for=condition=Established', 'crd', '--all', '--timeout=30s']), 'wait Established');
  const resources = ok(
    await kubectl(ctx, ['api-resources', '--api-group=modelship.dev', '--no-headers']),
    'api-resources',
  );
  assert.match(resources, /^trainingruns\s+tr\s+modelship\.dev\/v1alpha1\s+true\s+TrainingRun$/m);
  assert.match(resources, /^modelversions\s+mv\s+modelship\.dev\/v1alpha1\s+true\s+ModelVersion$/m);
  assert.match(resources, /^inferenceservices\s+msvc\s+modelship\.dev\/v1alpha1\s+true\s+InferenceService$/m);
});

kubectlSuite('kubectl apply -f examples/ creates one object of each kind', async (ctx) => {
  const out = ok(await kubectl(ctx, ['apply', '-f', 'examples/']), 'apply examples');
  assert.match(out, 'trainingrun.modelship.dev/face-attributes-gpu created');
  assert.match(out, 'modelversion.modelship.dev/face-attributes-v1 created');
  assert.match(out, 'inferenceservice.modelship.dev/face-attributes created');
  const again = ok(await kubectl(ctx, ['apply', '-f', 'examples/']), 're-apply examples');
  assert.match(again, 'trainingrun.modelship.dev/face-attributes-gpu unchanged');
});

kubectlSuite('kubectl get modelship lists all three kinds', async (ctx) => {
  const out = ok(await kubectl(ctx, ['get', 'modelship', '-o', 'name']), 'get modelship');
  assert.equal(out.trim().split('\n').sort(), [
    'inferenceservice.modelship.dev/face-attributes',
    'modelversion.modelship.dev/face-attributes-v1',
    'trainingrun.modelship.dev/face-attributes-gpu',
  ]);
});

kubectlSuite('printer columns: spec columns at once, status columns once the operator writes status', async (ctx) => {
  let [row] = table(ok(await kubectl(ctx, ['get', 'tr', '-o', 'wide']), 'get tr'));
  assert.equal(Object.keys(row), ['NAME', 'PHASE', 'MODEL', 'VERSION', 'ACCURACY', 'GPUS', 'AGE']);
  assert.equal([row.NAME, row.MODEL, row.GPUS], ['face-attributes-gpu', 'face-attributes', '1']);

  const status = {
    status: {
      phase: 'Succeeded',
      modelVersion: 'face-attributes-v3',
      metrics: { accuracy: 0.93 },
      observedGeneration: 1,
    },
  };
  ok(
    await kubectl(ctx, [
      'patch',
      'tr',
      'face-attributes-gpu',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(status),
    ]),
    'patch status',
  );
  [row] = table(ok(await kubectl(ctx, ['get', 'tr', '-o', 'wide']), 'get tr'));
  assert.equal([row.PHASE, row.VERSION, row.ACCURACY], ['Succeeded', 'face-attributes-v3', '0.93']);

  [row] = table(ok(await kubectl(ctx, ['get', 'mv']), 'get mv'));
  assert.equal(Object.keys(row), ['NAME', 'MODEL', 'VERSION', 'PHASE', 'ACCURACY', 'SERVING-ACCURACY', 'AGE']);
  assert.equal([row.MODEL, row.VERSION, row.ACCURACY], ['face-attributes', '1', '0.91']);

  const narrow = table(ok(await kubectl(ctx, ['get', 'msvc']), 'get msvc'))[0];
  assert.equal(Object.keys(narrow), [
    'NAME',
    'PHASE',
    'MODEL',
    'STABLE',
    'CANARY',
    'WEIGHT',
    'ACCURACY',
    'DRIFT',
    'AGE',
  ]);
  const msvcStatus = {
    status: {
      phase: 'Progressing',
      url: 'http://face-attributes.default.svc:8080',
      stable: { version: 1, weight: 75 },
      canary: { version: 2, weight: 25, step: 1 },
      monitoring: { drift: { score: 0.04, level: 'Ok' }, accuracy: { value: 0.9, samples: 500, level: 'Ok' } },
    },
  };
  ok(
    await kubectl(ctx, [
      'patch',
      'msvc',
      'face-attributes',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify(msvcStatus),
    ]),
    'patch msvc status',
  );
  const [wide] = table(ok(await kubectl(ctx, ['get', 'msvc', '-o', 'wide']), 'get msvc wide'));
  assert.equal(wide, {
    ...wide,
    PHASE: 'Progressing',
    STABLE: '1',
    CANARY: '2',
    WEIGHT: '25',
    ACCURACY: '0.9',
    DRIFT: '0.04',
    URL: 'http://face-attributes.default.svc:8080',
  });
});

const PICKED = [
  'TrainingRun/negative GPUs',
  'TrainingRun/hyperparameter name that is not an identifier',
  'InferenceService/canary weights not increasing',
  'InferenceService/a canary step of 100 %',
  'InferenceService/progress deadline too short for one analysis per step',
  'InferenceService/unknown traffic provider',
  'InferenceService/drift warn not below critical',
  'ModelVersion/spec change on a ModelVersion',
  'ModelVersion/ModelVersion name that does not match model and version',
  'TrainingRun/missing model',
  'TrainingRun/label key that is not a qualified name',
];

for (const key of PICKED) {
  const c = invalidCases.find((x) => `${x.kind}/${x.name}` === key);
  if (!c) throw new Error(`no invalid case ${key}`);
  kubectlSuite(`kubectl refuses ${key} with the same message`, async (ctx) => {
    const manifest = yaml.dump(buildInvalid(c));
    const result = await kubectl(ctx, ['apply', '-f', '-'], manifest);
    assert.is.not(result.code, 0, `accepted: ${result.stdout}`);
    const name = buildInvalid(c).metadata.name;
    assert.match(result.stderr, `The ${c.kind} "${name}" is invalid`);
    assert.match(result.stderr, `${c.field}: ${c.message}`);
  });
}

kubectlSuite('a misspelt field is refused, not silently dropped (kubectl validates strictly)', async (ctx) => {
  const manifest = loadExample('TrainingRun');
  manifest.metadata.name = 'typo';
  manifest.spec.resources.gpu = 2;
  const result = await kubectl(ctx, ['apply', '-f', '-'], yaml.dump(manifest));
  assert.is.not(result.code, 0, `accepted: ${result.stdout}`);
  assert.match(result.stderr, 'unknown field "spec.resources.gpu"');
});

kubectlSuite('kubectl explain shows the schema descriptions', async (ctx) => {
  const out = ok(await kubectl(ctx, ['explain', 'trainingrun.spec.resources.gpus']), 'explain');
  assert.match(out, /NVIDIA GPUs per pod, requested as nvidia\.com\/gpu limits/);
  const steps = ok(await kubectl(ctx, ['explain', 'msvc.spec.canary.steps']), 'explain');
  assert.match(steps, /strictly increasing/);
});

kubectlSuite('a refused update leaves the stored ModelVersion as it was', async (ctx) => {
  const stored = JSON.parse(ok(await kubectl(ctx, ['get', 'mv', 'face-attributes-v1', '-o', 'json']), 'get mv'));
  assert.equal(stored.spec.metrics, loadExample('ModelVersion').spec.metrics);
});

kubectlSuite.run();
