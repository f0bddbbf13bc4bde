// Pure parts of the dev cluster's prometheus-operator stand-in: Kubernetes discovery targets
// (kube-sd.ts) and the scrape jobs generated from monitors (monitors.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { endpointsRoleGroups, podRoleGroups } from '../../hack/devcluster/prometheus/kube-sd.js';
import {
  monitorNamespaces,
  podMonitorJobs,
  relabelConfig,
  ruleFile,
  serviceMonitorJobs,
} from '../../hack/devcluster/prometheus/monitors.js';

const sd = { pods: '/sd/pods.json', endpoints: '/sd/endpoints.json' };

function pod(name: string, ip: string | undefined, containers: any[], labels: Record<string, string> = {}): any {
  return {
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      labels,
      ownerReferences: [{ kind: 'ReplicaSet', name: 'rs', controller: true }],
    },
    spec: { nodeName: 'node-a', containers },
    status: { podIP: ip, phase: 'Running', hostIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

test('pod role: one target per container port, a bare IP for a container without ports, no IP no target', () => {
  const groups = podRoleGroups([
    pod(
      'a',
      '127.64.0.2',
      [
        {
          name: 'srv',
          image: 'img',
          ports: [
            { name: 'http', containerPort: 8080 },
            { containerPort: 9090, protocol: 'UDP' },
          ],
        },
        { name: 'side', image: 'img2' },
      ],
      { 'app.kubernetes.io/name': 'web' },
    ),
    pod('b', undefined, [{ name: 'srv', ports: [{ containerPort: 1 }] }]),
  ]);
  assert.equal(
    groups.map((g) => g.targets[0]),
    ['127.64.0.2:8080', '127.64.0.2:9090', '127.64.0.2'],
  );
  const [http, udp, side] = groups.map((g) => g.labels);
  assert.is(http.__meta_kubernetes_pod_container_port_name, 'http');
  assert.is(http.__meta_kubernetes_pod_label_app_kubernetes_io_name, 'web');
  assert.is(http.__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name, 'true');
  assert.is(http.__meta_kubernetes_pod_controller_kind, 'ReplicaSet');
  assert.is(http.__meta_kubernetes_pod_ready, 'true');
  assert.is(udp.__meta_kubernetes_pod_container_port_protocol, 'UDP');
  assert.is(side.__meta_kubernetes_pod_container_name, 'side');
  assert.is(side.__meta_kubernetes_pod_container_port_name, undefined);
});

test("endpoints role: service and pod labels per address, the pod's other ports as extra targets", () => {
  const p = pod('a', '127.64.0.2', [
    {
      name: 'srv',
      ports: [
        { name: 'http', containerPort: 8080 },
        { name: 'admin', containerPort: 9000 },
      ],
    },
  ]);
  const svc = { metadata: { name: 'web', namespace: 'ns', labels: { app: 'web' } } };
  const ep = {
    metadata: { name: 'web', namespace: 'ns' },
    subsets: [
      {
        addresses: [{ ip: '127.64.0.2', targetRef: { kind: 'Pod', name: 'a', namespace: 'ns' } }],
        ports: [{ name: 'web', port: 8080 }],
      },
    ],
  };
  const groups = endpointsRoleGroups([ep], [svc], [p]);
  assert.equal(
    groups.map((g) => g.targets[0]),
    ['127.64.0.2:8080', '127.64.0.2:9000'],
  );
  assert.is(groups[0].labels.__meta_kubernetes_endpoint_port_name, 'web');
  assert.is(groups[0].labels.__meta_kubernetes_service_label_app, 'web');
  assert.is(groups[0].labels.__meta_kubernetes_pod_container_port_name, 'http');
  assert.is(groups[0].labels.__meta_kubernetes_endpoint_address_target_name, 'a');
  assert.is(groups[1].labels.__meta_kubernetes_endpoint_port_name, undefined);
});

test("monitor namespaces: any → all, matchNames → those, default → the monitor's own", () => {
  const cases: Array<[any, string[]]> = [
    [{ namespaceSelector: { any: true } }, []],
    [{ namespaceSelector: { matchNames: ['a', 'b'] } }, ['a', 'b']],
    [{}, ['own']],
  ];
  for (const [spec, want] of cases) assert.equal(monitorNamespaces(spec, 'own'), want);
});

test('PodMonitor job: name, honor_labels, selector, port and target-label rules in prometheus-operator order', () => {
  const result = podMonitorJobs(
    {
      metadata: { name: 'serving', namespace: 'ms' },
      spec: {
        selector: {
          matchLabels: { app: 'x' },
          matchExpressions: [
            { key: 'role', operator: 'NotIn', values: ['a', 'b'] },
            { key: 'isvc', operator: 'Exists' },
          ],
        },
        podTargetLabels: ['modelship.dev/role'],
        podMetricsEndpoints: [
          {
            port: 'http',
            path: '/m',
            interval: '5s',
            relabelings: [{ action: 'Replace', targetLabel: 'team', replacement: 'ml' }],
          },
        ],
      },
    },
    sd,
  );
  assert.ok(result.jobs);
  const [job] = result.jobs;
  assert.is(job.job_name, 'podMonitor/ms/serving/0');
  assert.is(job.honor_labels, false);
  assert.equal([job.metrics_path, job.scrape_interval], ['/m', '5s']);
  assert.equal(job.file_sd_configs[0].files, ['/sd/pods.json']);
  const r = job.relabel_configs;
  assert.ok(
    r.some(
      (x) =>
        x.action === 'keep' && (x.source_labels as string[])[0] === '__meta_kubernetes_namespace' && x.regex === 'ms',
    ),
  );
  assert.ok(r.some((x) => x.action === 'keep' && x.regex === '(x);true'));
  assert.ok(r.some((x) => x.action === 'drop' && x.regex === '(a|b);true'));
  assert.ok(r.some((x) => x.target_label === 'modelship_dev_role'));
  const targets = r
    .filter((x) => x.target_label && !String(x.target_label).startsWith('__'))
    .map((x) => x.target_label);
  assert.equal(
    targets,
    ['namespace', 'container', 'pod', 'modelship_dev_role', 'job', 'endpoint', 'team'],
    "the user's relabelings come last",
  );
  assert.equal(r.at(-1), { target_label: 'team', replacement: 'ml', action: 'replace' });
});

test('ServiceMonitor job: endpoints discovery, service/job from the Service, honorLabels kept', () => {
  const result = serviceMonitorJobs(
    {
      metadata: { name: 'op', namespace: 'ms' },
      spec: { selector: {}, endpoints: [{ port: 'metrics', honorLabels: true }] },
    },
    sd,
  );
  assert.ok(result.jobs);
  const [job] = result.jobs;
  assert.is(job.job_name, 'serviceMonitor/ms/op/0');
  assert.is(job.honor_labels, true);
  assert.equal(job.file_sd_configs[0].files, ['/sd/endpoints.json']);
  assert.ok(job.relabel_configs.some((x) => x.target_label === 'service'));
  assert.ok(job.relabel_configs.some((x) => x.target_label === 'endpoint' && x.replacement === 'metrics'));
});

test('a monitor with fields the dev cluster cannot honour is refused with the field named', () => {
  const result = podMonitorJobs(
    {
      metadata: { name: 'tls', namespace: 'ms' },
      spec: { selector: {}, podMetricsEndpoints: [{ port: 'https', tlsConfig: { insecureSkipVerify: true } }] },
    },
    sd,
  );
  assert.match(result.error ?? '', /podMetricsEndpoints\[0\]: endpoint field\(s\) tlsConfig are not supported/);
});

test('relabelings: camelCase to Prometheus keys, action lower-cased; rule files named namespace-name-uid', () => {
  assert.equal(
    relabelConfig({
      sourceLabels: ['a', 'b'],
      separator: ';',
      targetLabel: 't',
      regex: '(.*)',
      modulus: 3,
      replacement: '$1',
      action: 'HashMod',
    }),
    {
      source_labels: ['a', 'b'],
      separator: ';',
      target_label: 't',
      regex: '(.*)',
      modulus: 3,
      replacement: '$1',
      action: 'hashmod',
    },
  );
  assert.equal(
    ruleFile({ metadata: { name: 'r', namespace: 'n', uid: 'u' }, spec: { groups: [{ name: 'g', rules: [] }] } }),
    { name: 'n-r-u.yaml', content: { groups: [{ name: 'g', rules: [] }] } },
  );
});

test.run();
