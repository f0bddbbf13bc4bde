// TrainingRun metrics: which status writes count as completions (table), the duration they
// record, the ModelVersion offline-metric samples (table), and what a registry exposes after a
// sequence of writes — one count per run however often it is reconciled.
import { Registry } from 'prom-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type ModelVersion, type TrainingRun, type TrainingRunStatus } from '../../operator/api/index.js';
import {
  completionOf,
  modelVersionSamples,
  TrainingRunMetrics,
} from '../../operator/controllers/trainingrun/metrics.js';
import type { CacheReader } from '../../operator/runtime/controller.js';
import type { KubeObject } from '../../operator/runtime/kinds.js';

const run = (name: string, model = 'faces', namespace = 'ml'): TrainingRun => ({
  apiVersion: API_VERSION,
  kind: 'TrainingRun',
  metadata: { name, namespace },
  spec: {
    model,
    image: 'trainer:1',
    dataset: { uri: 's3://d' },
    output: { uri: 'pvc://m/runs' },
  } as TrainingRun['spec'],
});

const START = '2026-11-22T10:00:00Z';
const st = (phase: TrainingRunStatus['phase'], extra: Partial<TrainingRunStatus> = {}): TrainingRunStatus => ({
  phase,
  ...extra,
});

const completionCases: Array<{
  name: string;
  before?: TrainingRunStatus;
  after?: TrainingRunStatus;
  want?: { phase: string; duration?: number };
}> = [
  {
    name: 'Running → Succeeded counts with its duration',
    before: st('Running', { startTime: START }),
    after: st('Succeeded', { startTime: START, completionTime: '2026-11-22T10:01:30Z' }),
    want: { phase: 'Succeeded', duration: 90 },
  },
  {
    name: 'Pending → Failed counts',
    before: st('Pending'),
    after: st('Failed', { startTime: START, completionTime: '2026-11-22T10:00:05Z' }),
    want: { phase: 'Failed', duration: 5 },
  },
  {
    name: 'no status yet → Failed (InvalidSpec) counts without a duration',
    before: undefined,
    after: st('Failed', { completionTime: START }),
    want: { phase: 'Failed' },
  },
  {
    name: 'completion before start gives no duration',
    before: st('Running'),
    after: st('Failed', { startTime: START, completionTime: '2026-11-22T09:00:00Z' }),
    want: { phase: 'Failed' },
  },
  {
    name: 'Succeeded → Succeeded (registration write) does not count',
    before: st('Succeeded', { startTime: START, completionTime: START }),
    after: st('Succeeded', { startTime: START, completionTime: START, modelVersion: 'faces-v1' }),
  },
  { name: 'Failed → Failed (restart, resync) does not count', before: st('Failed'), after: st('Failed') },
  { name: 'Pending → Running does not count', before: st('Pending'), after: st('Running', { startTime: START }) },
  { name: 'a write that stored no phase does not count', before: st('Running'), after: undefined },
];

for (const c of completionCases) {
  test(`completionOf: ${c.name}`, () => {
    const got = completionOf(run('r1'), c.before, c.after);
    if (!c.want) return assert.is(got, undefined);
    assert.ok(got);
    assert.equal(got.labels, { resource_namespace: 'ml', model: 'faces', phase: c.want.phase });
    assert.is(got.durationSeconds, c.want.duration);
  });
}

const mv = (model: string, version: number, metrics?: Record<string, number>, namespace = 'ml'): ModelVersion => ({
  apiVersion: API_VERSION,
  kind: 'ModelVersion',
  metadata: { name: `${model}-v${version}`, namespace },
  spec: {
    model,
    version,
    artifact: { uri: 'pvc://m/x' },
    format: 'onnx',
    metrics,
    validation: {},
  } as ModelVersion['spec'],
});

const sampleCases: Array<{ name: string; versions: ModelVersion[]; want: string[] }> = [
  { name: 'no versions', versions: [], want: [] },
  { name: 'a version without metrics', versions: [mv('faces', 1)], want: [] },
  {
    name: 'headline and per-head metrics of two versions',
    versions: [mv('faces', 1, { accuracy: 0.8, 'beard.accuracy': 0.9 }), mv('faces', 2, { accuracy: 0.85 }, 'prod')],
    want: ['ml/faces/1/accuracy=0.8', 'ml/faces/1/beard.accuracy=0.9', 'prod/faces/2/accuracy=0.85'],
  },
  {
    name: 'non-finite values are left out',
    versions: [mv('faces', 3, { accuracy: Number.NaN, loss: 0.4 })],
    want: ['ml/faces/3/loss=0.4'],
  },
];

for (const c of sampleCases) {
  test(`modelVersionSamples: ${c.name}`, () => {
    const got = modelVersionSamples(c.versions).map(
      (s) => `${s.labels.resource_namespace}/${s.labels.model}/${s.labels.version}/${s.labels.metric}=${s.value}`,
    );
    assert.equal(got.sort(), c.want);
  });
}

function cacheOf(objs: KubeObject[]): CacheReader {
  return {
    get: () => undefined,
    list: <T extends KubeObject>(kind: { kind: string }) => objs.filter((o) => o.kind === kind.kind) as T[],
    informs: () => true,
  };
}

const value = async (registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> => {
  // Histogram series (_count, _sum, _bucket) are values of the histogram, named by metricName.
  const values = (await registry.getMetricsAsJSON()).flatMap((m) =>
    m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })),
  );
  const match = values.find(
    (v) =>
      v.name === name &&
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  );
  return match?.value;
};

test('TrainingRunMetrics: outcome series start at 0, one count per completed run, durations observed', async () => {
  const registry = new Registry();
  const m = new TrainingRunMetrics(registry);
  const r1 = run('r1');
  const versions: KubeObject[] = [];
  m.seen(r1, cacheOf(versions));
  const labels = { resource_namespace: 'ml', model: 'faces' };
  assert.is(
    await value(registry, 'modelship_operator_trainingruns_completed_total', { ...labels, phase: 'Failed' }),
    0,
  );
  assert.is(
    await value(registry, 'modelship_operator_trainingruns_completed_total', { ...labels, phase: 'Succeeded' }),
    0,
  );

  // The write into Succeeded, then the registration writes and reconciles after it.
  m.written(
    r1,
    st('Running', { startTime: START }),
    st('Succeeded', { startTime: START, completionTime: '2026-11-22T10:02:00Z' }),
  );
  for (let i = 0; i < 3; i++) {
    m.seen(r1, cacheOf(versions));
    m.written(r1, st('Succeeded'), st('Succeeded', { modelVersion: 'faces-v1' }));
  }
  m.written(
    run('r2'),
    st('Running', { startTime: START }),
    st('Failed', { startTime: START, completionTime: '2026-11-22T10:00:10Z' }),
  );
  assert.is(
    await value(registry, 'modelship_operator_trainingruns_completed_total', { ...labels, phase: 'Succeeded' }),
    1,
  );
  assert.is(
    await value(registry, 'modelship_operator_trainingruns_completed_total', { ...labels, phase: 'Failed' }),
    1,
  );
  assert.is(await value(registry, 'modelship_operator_trainingrun_duration_seconds_count', labels), 2);
  assert.is(await value(registry, 'modelship_operator_trainingrun_duration_seconds_sum', labels), 130);
});

test('TrainingRunMetrics: ModelVersion gauge follows the cache at scrape time (creations and deletions)', async () => {
  const registry = new Registry();
  const m = new TrainingRunMetrics(registry);
  assert.not.match(
    await registry.metrics(),
    /^modelship_operator_modelversion_metric\{/m,
    'nothing before the first reconcile',
  );
  const objs: KubeObject[] = [mv('faces', 1, { accuracy: 0.8 }), run('r1')];
  m.seen(run('r1'), cacheOf(objs));
  assert.is(
    await value(registry, 'modelship_operator_modelversion_metric', {
      resource_namespace: 'ml',
      model: 'faces',
      version: '1',
      metric: 'accuracy',
    }),
    0.8,
  );
  objs.splice(0, 1, mv('faces', 2, { accuracy: 0.9 }));
  assert.is(
    await value(registry, 'modelship_operator_modelversion_metric', { version: '1' }),
    undefined,
    'deleted version gone',
  );
  assert.is(await value(registry, 'modelship_operator_modelversion_metric', { version: '2', metric: 'accuracy' }), 0.9);
});

test.run();
