// No Modelship series carries a label that the scrape sets itself. prometheus-operator's
// PodMonitors and ServiceMonitors add namespace, pod, container, endpoint, service, job and
// instance with honor_labels false, so a metric's own label of that name comes back as
// exported_<name> and every query, alert and dashboard on it finds nothing (the dev cluster
// shows this: test/devcluster/prometheus-operator.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import { ServingMetrics } from '../../serving/lib/monitoring/metrics.js';
import { RouterMetrics } from '../../serving/router/metrics.js';
import { createOperatorMetrics } from '../../operator/runtime/metrics.js';
import { buildControllers } from '../../operator/controllers/registry.js';

const TARGET_LABELS = ['namespace', 'pod', 'container', 'endpoint', 'service', 'job', 'instance'];

function labelNames(registry: Registry): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of registry.getMetricsAsArray())
    out.set(m.name, [...((m as unknown as { labelNames?: string[] }).labelNames ?? [])]);
  return out;
}

function operatorRegistry(): Registry {
  const registry = new Registry();
  createOperatorMetrics({ registry, processMetrics: false });
  buildControllers({ namespaces: [], prometheusUrl: 'http://127.0.0.1:1', registry });
  return registry;
}

const sources: Array<[string, () => Registry]> = [
  [
    'model server',
    () => new ServingMetrics({ model: 'm', version: '1', digest: 'sha256:0' }, { processMetrics: false }).registry,
  ],
  ['router', () => new RouterMetrics({ processMetrics: false }).registry],
  ['operator', operatorRegistry],
];

for (const [name, make] of sources) {
  test(`${name} metrics carry none of the scrape's target labels`, () => {
    const metrics = labelNames(make());
    assert.ok(metrics.size > 0, `${name} registers metrics`);
    const clashes = [...metrics].flatMap(([metric, labels]) =>
      labels.filter((l) => TARGET_LABELS.includes(l)).map((l) => `${metric}{${l}}`),
    );
    assert.equal(clashes, []);
  });
}

test('the operator names the InferenceService namespace resource_namespace', () => {
  const metrics = labelNames(operatorRegistry());
  for (const name of [
    'modelship_operator_canary_weight',
    'modelship_operator_analysis_value',
    'modelship_operator_drift_score',
    'modelship_operator_trainingruns_completed_total',
  ]) {
    assert.ok(metrics.get(name)?.includes('resource_namespace'), `${name}: ${metrics.get(name)}`);
  }
});

test.run();
