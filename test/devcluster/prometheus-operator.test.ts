// The dev cluster's Prometheus follows prometheus-operator: a PodMonitor's series carry the
// target labels prometheus-operator adds (namespace, pod, container, endpoint = port name,
// job = <namespace>/<monitor>) with honor_labels false, so a metric's own `endpoint` label
// becomes `exported_endpoint`; a ServiceMonitor adds `service`; a PrometheusRule's alerts are
// evaluated by Prometheus itself, and an invalid rule is left out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { eventually, kubectlOk } from './helpers.js';

let cluster: TestCluster;

async function query(promql: string): Promise<any[]> {
  const res = await fetch(`${cluster.prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as any;
  assert.is(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

// The test image answers /metrics with one series that has its own `endpoint` and `namespace`
// labels, as Modelship's metrics once did.
const METRICS = '# TYPE demo_requests_total counter\ndemo_requests_total{endpoint="predict",namespace="mine"} 3\n';

const workload = `
apiVersion: v1
kind: Pod
metadata: {name: web-0, namespace: team-a, labels: {app: web, tier: model}}
spec:
  containers:
    - name: server
      image: modelship/test-http-server
      env: [{name: METRICS_BODY, value: ${JSON.stringify(METRICS)}}]
      ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: team-a, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{name: web-port, port: 80, targetPort: 8080}]
`;

const monitors = `
apiVersion: monitoring.coreos.com/v1
kind: PodMonitor
metadata: {name: web-pods, namespace: monitoring}
spec:
  selector: {matchExpressions: [{key: tier, operator: In, values: [model]}]}
  namespaceSelector: {matchNames: [team-a]}
  podTargetLabels: [app]
  podMetricsEndpoints: [{port: http, path: /metrics, interval: 2s}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: web-svc, namespace: team-a}
spec:
  selector: {matchLabels: {app: web}}
  endpoints: [{port: web-port, path: /metrics, interval: 2s}]
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: web-alerts, namespace: team-a}
spec:
  groups:
    - name: web
      rules:
        - alert: DemoRequestsSeen
          expr: sum by (namespace) (demo_requests_total) > 0
---
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata: {name: broken, namespace: team-a}
spec:
  groups:
    - name: broken
      rules:
        - alert: NotPromQL
          expr: sum by (namespace (demo_requests_total
`;

test.before(async () => {
  cluster = await startTestCluster({ agent: true, prometheus: true });
  await kubectlOk(cluster, ['create', 'namespace', 'team-a']);
  await kubectlOk(cluster, ['create', 'namespace', 'monitoring']);
});

test.after(async () => {
  await cluster?.stop();
});

test('the monitoring.coreos.com kinds are served and validated', async () => {
  const bad = await cluster.kubectl(['apply', '-f', '-'], {
    input:
      'apiVersion: monitoring.coreos.com/v1\nkind: PodMonitor\nmetadata: {name: x, namespace: team-a}\nspec:\n  selector: {}\n  podMetricsEndpoints: [{port: http, interval: soon}]\n',
  });
  assert.is.not(bad.code, 0);
  assert.match(bad.stderr, /spec\.podMetricsEndpoints\[0\]\.interval/);
});

test('PodMonitor series carry prometheus-operator target labels; clashing ones become exported_', async () => {
  await kubectlOk(cluster, ['apply', '-f', '-'], workload + '---' + monitors);
  const [series] = await eventually(
    'demo_requests_total from the PodMonitor job',
    async () => {
      const r = await query('demo_requests_total{job="monitoring/web-pods"}');
      return r.length ? r : undefined;
    },
    60_000,
  );
  const m = series.metric;
  assert.equal(
    {
      namespace: m.namespace,
      pod: m.pod,
      container: m.container,
      endpoint: m.endpoint,
      app: m.app,
      exported_endpoint: m.exported_endpoint,
      exported_namespace: m.exported_namespace,
    },
    {
      namespace: 'team-a',
      pod: 'web-0',
      container: 'server',
      endpoint: 'http',
      app: 'web',
      exported_endpoint: 'predict',
      exported_namespace: 'mine',
    },
  );
  assert.match(m.instance, /^127\.\d+\.\d+\.\d+:8080$/);
});

test('ServiceMonitor series carry service, endpoint (the Service port name) and job = the Service', async () => {
  const [series] = await eventually(
    'demo_requests_total from the ServiceMonitor job',
    async () => {
      const r = await query('demo_requests_total{service="web"}');
      return r.length ? r : undefined;
    },
    60_000,
  );
  const m = series.metric;
  assert.equal(
    { job: m.job, endpoint: m.endpoint, namespace: m.namespace, pod: m.pod, container: m.container },
    { job: 'web', endpoint: 'web-port', namespace: 'team-a', pod: 'web-0', container: 'server' },
  );
});

test('PrometheusRule alerts are evaluated by Prometheus; an invalid rule is left out', async () => {
  const alert = await eventually(
    'DemoRequestsSeen firing',
    async () => {
      const r = await query('ALERTS{alertname="DemoRequestsSeen"}');
      return r.find((a) => a.metric.alertstate === 'firing');
    },
    60_000,
  );
  assert.is(alert.metric.namespace, 'team-a');
  const res = await fetch(`${cluster.prometheusUrl}/api/v1/rules`);
  const groups = ((await res.json()) as any).data.groups.map((g: any) => g.name);
  assert.equal(groups, ['web']);
});

test('a deleted PodMonitor stops its job', async () => {
  await kubectlOk(cluster, ['delete', 'podmonitors.monitoring.coreos.com', 'web-pods', '-n', 'monitoring']);
  await eventually(
    'the PodMonitor job gone from the targets',
    async () => {
      const res = await fetch(`${cluster.prometheusUrl}/api/v1/targets`);
      const active = ((await res.json()) as any).data.activeTargets as any[];
      return active.some((t) => t.labels.job === 'monitoring/web-pods') ? undefined : true;
    },
    30_000,
  );
});

test.run();
