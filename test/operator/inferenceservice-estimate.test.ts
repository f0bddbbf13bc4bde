// The controller's measure step with a Prometheus that has calibrated-confidence series: the
// canary analysis and the stable version's monitoring both carry the label-free estimate.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  API_VERSION,
  withInferenceServiceDefaults,
  type InferenceService,
  type InferenceServiceStatus,
  type ModelVersion,
} from '../../operator/api/index.js';
import { measure } from '../../operator/controllers/inferenceservice/measure.js';
import type { RolloutContext } from '../../operator/controllers/inferenceservice/context.js';
import { rolloutPolicy } from '../../operator/controllers/inferenceservice/policy.js';
import type { Sample } from '../../operator/metrics-providers/index.js';
import { tableProvider } from '../support/table-provider.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const s = (value: number, labels: Record<string, string> = {}): Sample => ({ labels, value, timestamp: NOW });

const isvc = {
  apiVersion: API_VERSION,
  kind: 'InferenceService',
  metadata: { name: 'faces', namespace: 'ml', uid: 'u1', generation: 1 },
  spec: withInferenceServiceDefaults({ model: 'faces' } as InferenceService['spec']),
} as InferenceService;
const mv = (version: number): ModelVersion =>
  ({
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: `faces-v${version}`, namespace: 'ml', uid: `mv${version}` },
    spec: { model: 'faces', version, artifact: { uri: 'pvc://m/faces' }, format: 'onnx', validation: {} },
    status: { phase: 'Ready' },
  }) as ModelVersion;

/** Every series a version's measurement reads, with calibrated confidences averaging 0.9. */
const provider = tableProvider({
  modelship_requests_total: [s(1000)],
  'histogram_quantile(0.95': [s(0.02)],
  modelship_feature_bin_total: [s(500, { feature: 'f', bin: '0' }), s(500, { feature: 'f', bin: '1' })],
  modelship_prediction_calibrated_confidence_bucket: ['0.5', '0.9', '1', '+Inf'].map((le, i) =>
    s([0, 400, 1000, 1000][i], { head: 'beard', le }),
  ),
  modelship_prediction_calibrated_confidence_sum: [s(900, { head: 'beard' })],
  modelship_prediction_calibrated_confidence_count: [s(1000, { head: 'beard' })],
});
const reference = {
  features: { f: [0.5, 0.5] },
  calibration: { beard: { bins: [5, 40, 55], eceAfter: 0.02 } },
};

function context(): RolloutContext {
  const ignore = () => undefined;
  return {
    isvc,
    policy: rolloutPolicy(isvc),
    versions: [mv(1), mv(2)],
    now: NOW,
    kube: { cache: { get: ignore } } as unknown as RolloutContext['kube'],
    deps: {
      metricProvider: () => provider,
      reference: async () => reference,
      metrics: {
        analysis: { recordAnalysis: ignore, recordDrift: ignore, recordLevels: ignore },
      } as unknown as RolloutContext['deps']['metrics'],
    } as unknown as RolloutContext['deps'],
  };
}

test('a canary analysis carries the estimate per head', async () => {
  const status: InferenceServiceStatus = {
    phase: 'Progressing',
    stable: { version: 1, weight: 80 },
    canary: {
      version: 2,
      weight: 20,
      step: 0,
      startedAt: '2026-01-01T11:50:00Z',
      stepStartedAt: '2026-01-01T11:50:00Z',
    },
  };
  const events = await measure(context(), status);
  const analysis = events.find((e) => e.type === 'Analysis');
  assert.ok(analysis && analysis.type === 'Analysis');
  const [e] = analysis.estimatedAccuracy ?? [];
  assert.is(e?.head, 'beard');
  assert.ok(e && 'value' in e && Math.abs((e.value ?? 0) - 0.9) < 1e-9, JSON.stringify(e));
  assert.ok(
    provider.queries.some((q) =>
      q.includes('modelship_prediction_calibrated_confidence_sum{model="faces",namespace="ml",version="2"}'),
    ),
  );
});

test('monitoring of the stable version carries its estimate in status.monitoring', async () => {
  const status: InferenceServiceStatus = { phase: 'Serving', stable: { version: 1, weight: 100, readyReplicas: 1 } };
  const events = await measure(context(), status);
  const monitored = events.find((e) => e.type === 'Monitored');
  assert.ok(monitored && monitored.type === 'Monitored');
  const [e] = monitored.monitoring.estimatedAccuracy ?? [];
  assert.ok(e && e.value !== undefined && Math.abs(e.value - 0.9) < 1e-9, JSON.stringify(monitored.monitoring));
});

test.run();
