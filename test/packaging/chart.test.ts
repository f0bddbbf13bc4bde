// The Helm chart with the real helm: lint --strict, template with defaults and with every
// optional feature on, values.schema.json rejecting bad values with a clear message, the CRDs
// identical to the top-level crds/, least-privilege RBAC without wildcards, the restricted pod
// security profile, and every rendered object accepted by the dev cluster's API server (which
// validates built-in kinds against the upstream OpenAPI schemas) in a server-side dry run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { parseFlags } from '../../operator/runtime/flags.js';
import { startTestCluster, type RunResult, type TestCluster } from '../support/devcluster.js';
import { CHART_DIR, REPO } from '../support/packaging.js';

type Obj = Record<string, any>;
let cluster: TestCluster;

/** Every optional feature on (what the all-features render and dry run use). */
const ALL_FEATURES = [
  'replicaCount=2',
  'podDisruptionBudget.enabled=true',
  'serviceMonitor.enabled=true',
  'podMonitor.enabled=true',
  'prometheusRule.enabled=true',
  'dashboards.enabled=true',
  'prometheusUrl=http://prometheus.monitoring:9090',
  'prometheusAllowedUrls[0]=http://thanos.monitoring:9090',
  'image.digest=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
].flatMap((s) => ['--set', s]);

async function helm(args: string[]): Promise<RunResult> {
  return cluster.helm(args, { timeoutMs: 60_000 });
}

async function render(extra: string[] = []): Promise<Obj[]> {
  const r = await helm(['template', 'ms', CHART_DIR, '--namespace', 'modelship-system', ...extra]);
  assert.is(r.code, 0, r.stderr);
  return (yaml.loadAll(r.stdout) as Obj[]).filter(Boolean);
}

const find = (objs: Obj[], kind: string): Obj[] => objs.filter((o) => o.kind === kind);

test.before(async () => {
  cluster = await startTestCluster();
});

test.after(async () => {
  await cluster?.stop();
});

test('helm lint --strict passes with defaults and with every feature on', async () => {
  for (const extra of [[], ALL_FEATURES, ['--set', 'watchNamespaces={team-a,team-b}']]) {
    const r = await helm(['lint', '--strict', CHART_DIR, ...extra]);
    assert.is(r.code, 0, `${r.stdout}${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  }
});

test('Chart.yaml: appVersion and kubeVersion >= 1.27', () => {
  const chart = yaml.load(readFileSync(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as Obj;
  assert.is(chart.apiVersion, 'v2');
  assert.is(chart.appVersion, (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Obj).version);
  assert.match(chart.kubeVersion, />=\s*1\.27/);
});

test("the chart's crds/ is identical to the top-level crds/", () => {
  const top = readdirSync(join(REPO, 'crds')).sort();
  assert.equal(readdirSync(join(CHART_DIR, 'crds')).sort(), top);
  for (const f of top)
    assert.is(
      readFileSync(join(CHART_DIR, 'crds', f), 'utf8'),
      readFileSync(join(REPO, 'crds', f), 'utf8'),
      `charts/modelship/crds/${f} differs from crds/${f}: cp crds/*.yaml charts/modelship/crds/`,
    );
});

test('default render: operator Deployment with leader election, ServiceAccount, RBAC, metrics Service; no optional objects', async () => {
  const objs = await render();
  assert.equal(objs.map((o) => o.kind).sort(), [
    'ClusterRole',
    'ClusterRoleBinding',
    'Deployment',
    'Role',
    'RoleBinding',
    'Service',
    'ServiceAccount',
  ]);
  const dep = find(objs, 'Deployment')[0];
  assert.is(dep.spec.replicas, 1);
  const c = dep.spec.template.spec.containers[0];
  assert.is(c.image, 'modelship/operator:0.1.0');
  assert.ok(c.args.includes('--leader-elect=true'));
  assert.ok(c.args.includes('--lease-namespace=modelship-system'));
  assert.is(dep.spec.template.spec.serviceAccountName, find(objs, 'ServiceAccount')[0].metadata.name);
  const svc = find(objs, 'Service')[0];
  assert.equal(svc.spec.selector, dep.spec.selector.matchLabels);
  assert.is(svc.spec.ports[0].targetPort, 'metrics');
});

test('restricted pod security: non-root, read-only root filesystem, no privilege escalation, ALL capabilities dropped, RuntimeDefault seccomp', async () => {
  const pod = find(await render(ALL_FEATURES), 'Deployment')[0].spec.template.spec;
  assert.is(pod.securityContext.runAsNonRoot, true);
  assert.is(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  for (const c of pod.containers) {
    assert.is(c.securityContext.runAsNonRoot, true);
    assert.is(c.securityContext.readOnlyRootFilesystem, true);
    assert.is(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.capabilities.drop, ['ALL']);
    assert.is(c.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.ok(c.resources.requests && c.resources.limits, 'resources set');
  }
});

test('RBAC has no wildcards; watchNamespaces turns the ClusterRole into a Role per namespace', async () => {
  for (const extra of [[], ALL_FEATURES, ['--set', 'watchNamespaces={team-a,team-b}']]) {
    for (const role of [...find(await render(extra), 'ClusterRole'), ...find(await render(extra), 'Role')]) {
      for (const rule of role.rules) {
        for (const field of ['apiGroups', 'resources', 'verbs', 'resourceNames']) {
          assert.not.ok(
            (rule[field] ?? []).some((v: string) => v.includes('*')),
            `${role.kind} ${role.metadata.name} has a wildcard in ${field}`,
          );
        }
      }
    }
  }
  const scoped = await render(['--set', 'watchNamespaces={team-a,team-b}']);
  assert.is(find(scoped, 'ClusterRole').length, 0);
  assert.equal(
    find(scoped, 'Role')
      .map((r) => r.metadata.namespace)
      .sort(),
    ['modelship-system', 'team-a', 'team-b'],
  );
  const args = find(scoped, 'Deployment')[0].spec.template.spec.containers[0].args as string[];
  assert.ok(args.includes('--namespace=team-a') && args.includes('--namespace=team-b'));
});

test('all features on: 2 replicas, PDB, ServiceMonitor, PodMonitor, PrometheusRule, 3 dashboards, digest-pinned image', async () => {
  const objs = await render(ALL_FEATURES);
  const dep = find(objs, 'Deployment')[0];
  assert.is(dep.spec.replicas, 2);
  assert.match(dep.spec.template.spec.containers[0].image, /^modelship\/operator@sha256:/);
  assert.ok(dep.spec.template.spec.containers[0].args.includes('--prometheus-url=http://prometheus.monitoring:9090'));
  assert.ok(
    dep.spec.template.spec.containers[0].args.includes('--prometheus-allowed-url=http://thanos.monitoring:9090'),
  );
  for (const kind of ['PodDisruptionBudget', 'ServiceMonitor', 'PrometheusRule'])
    assert.is(find(objs, kind).length, 1, kind);
  // Model servers on /metrics of their port, routers on their admin port (never the public one).
  const monitors = Object.fromEntries(
    find(objs, 'PodMonitor').map((m) => [
      m.spec.selector.matchExpressions[1].values.join(','),
      `${m.spec.podMetricsEndpoints[0].port} ${m.spec.podMetricsEndpoints[0].path}`,
    ]),
  );
  assert.equal(monitors, { 'stable,canary': 'http /metrics', router: 'admin /metrics' });
  assert.is(find(objs, 'ConfigMap').length, 3);
});

test('workloadDefaults reach the operator as --workload-defaults, which the operator parses as given', async () => {
  const argsOf = async (extra: string[]) =>
    find(await render(extra), 'Deployment')[0].spec.template.spec.containers[0].args as string[];
  assert.equal(parseFlags(await argsOf([])).workloadDefaults, {
    imagePullSecrets: [],
    nodeSelector: {},
    tolerations: [],
    affinity: {},
    podSecurityContext: { fsGroup: 65532 },
  });
  const set = await argsOf([
    '--set',
    'workloadDefaults.imagePullSecrets[0].name=regcred',
    '--set',
    'workloadDefaults.nodeSelector.pool=ml',
    '--set',
    'workloadDefaults.tolerations[0].key=ml',
    '--set',
    'workloadDefaults.tolerations[0].operator=Exists',
    '--set',
    'workloadDefaults.podSecurityContext.runAsGroup=65532',
  ]);
  assert.equal(parseFlags(set).workloadDefaults, {
    imagePullSecrets: [{ name: 'regcred' }],
    nodeSelector: { pool: 'ml' },
    tolerations: [{ key: 'ml', operator: 'Exists' }],
    affinity: {},
    podSecurityContext: { fsGroup: 65532, runAsGroup: 65532 },
  });
});

test('monitors turn the scrape annotations off, so no pod is scraped twice', async () => {
  const dep = async (extra: string[]) => find(await render(extra), 'Deployment')[0].spec.template;
  const plain = await dep([]);
  assert.is(
    parseFlags(plain.spec.containers[0].args).scrapeAnnotations,
    true,
    'serving pods annotated without PodMonitors',
  );
  assert.is(
    plain.metadata.annotations['prometheus.io/scrape'],
    'true',
    'operator pod annotated without a ServiceMonitor',
  );
  const monitored = await dep(ALL_FEATURES);
  assert.is(
    parseFlags(monitored.spec.containers[0].args).scrapeAnnotations,
    false,
    'PodMonitors on: serving and router pods unannotated',
  );
  assert.is(
    monitored.metadata.annotations?.['prometheus.io/scrape'],
    undefined,
    'ServiceMonitor on: operator pod unannotated',
  );
});

// Bad values: each fails `helm template` (the same check `helm install` runs) naming the problem.
const BAD_VALUES: Array<[string, string[], RegExp]> = [
  [
    'replicaCount as a string',
    ['--set-string', 'replicaCount=two'],
    /replicaCount: Invalid type\. Expected: integer, given: string/,
  ],
  [
    'unknown log level',
    ['--set', 'logLevel=verbose'],
    /logLevel: logLevel must be one of the following: "error", "warn", "info", "debug"/,
  ],
  ['misspelt top-level key', ['--set', 'replicas=2'], /Additional property replicas is not allowed/],
  [
    'bad pull policy',
    ['--set', 'image.pullPolicy=Sometimes'],
    /image\.pullPolicy: image\.pullPolicy must be one of the following/,
  ],
  ['bad namespace name', ['--set', 'watchNamespaces={Team_A}'], /watchNamespaces\.0: Does not match pattern/],
  ['prometheusUrl without scheme', ['--set', 'prometheusUrl=prometheus:9090'], /prometheusUrl: Does not match pattern/],
  [
    'bad scrape interval',
    ['--set', 'serviceMonitor.interval=often'],
    /serviceMonitor\.interval: Does not match pattern/,
  ],
  [
    'two replicas without leader election',
    ['--set', 'replicaCount=2', '--set', 'leaderElection.enabled=false'],
    /replicaCount > 1 needs leaderElection\.enabled=true/,
  ],
  [
    'workload pods running as root',
    ['--set', 'workloadDefaults.podSecurityContext.runAsUser=0'],
    /workloadDefaults\.podSecurityContext\.runAsUser: Must be greater than or equal to 1/,
  ],
  [
    'workload pods with runAsNonRoot false',
    ['--set', 'workloadDefaults.podSecurityContext.runAsNonRoot=false'],
    /workloadDefaults\.podSecurityContext\.runAsNonRoot: workloadDefaults\.podSecurityContext\.runAsNonRoot does not match: true/,
  ],
  [
    'a privileged field in the workload security context',
    ['--set', 'workloadDefaults.podSecurityContext.sysctls=x'],
    /Additional property sysctls is not allowed/,
  ],
  [
    'a workload toleration with an unknown operator',
    ['--set', 'workloadDefaults.tolerations[0].operator=In'],
    /workloadDefaults\.tolerations\.0\.operator: workloadDefaults\.tolerations\.0\.operator must be one of the following: "Exists", "Equal"/,
  ],
  [
    'ServiceMonitor without the metrics Service',
    ['--set', 'serviceMonitor.enabled=true', '--set', 'metrics.service.enabled=false'],
    /serviceMonitor\.enabled=true needs metrics\.service\.enabled=true/,
  ],
];

for (const [name, args, message] of BAD_VALUES) {
  test(`values.schema.json / template checks reject ${name}`, async () => {
    const r = await helm(['template', 'ms', CHART_DIR, ...args]);
    assert.is.not(r.code, 0, `${name} was accepted`);
    assert.match(r.stderr, message);
  });
}

/**
 * The prometheus-operator kinds the chart renders, as CRDs with the part of the upstream
 * schema the chart fills in (monitoring.coreos.com/v1; fields the chart does not use stay open),
 * so the dev cluster can validate them in the dry run.
 */
function monitoringCrds(): Obj[] {
  const str = { type: 'string' };
  const labels = { type: 'object', additionalProperties: str };
  const endpoint = {
    type: 'object',
    properties: {
      port: str,
      path: str,
      interval: {
        type: 'string',
        pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$',
      },
      scrapeTimeout: str,
    },
  };
  const selector = {
    type: 'object',
    properties: {
      matchLabels: labels,
      matchExpressions: {
        type: 'array',
        items: {
          type: 'object',
          required: ['key', 'operator'],
          properties: { key: str, operator: str, values: { type: 'array', items: str } },
        },
      },
    },
  };
  const nsSelector = {
    type: 'object',
    properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: str } },
  };
  const crd = (kind: string, plural: string, spec: Obj): Obj => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: { apiVersion: str, kind: str, metadata: { type: 'object' }, spec },
            },
          },
        },
      ],
    },
  });
  return [
    crd('ServiceMonitor', 'servicemonitors', {
      type: 'object',
      required: ['selector', 'endpoints'],
      properties: { selector, namespaceSelector: nsSelector, endpoints: { type: 'array', items: endpoint } },
    }),
    crd('PodMonitor', 'podmonitors', {
      type: 'object',
      required: ['selector'],
      properties: {
        selector,
        namespaceSelector: nsSelector,
        podTargetLabels: { type: 'array', items: str },
        podMetricsEndpoints: { type: 'array', items: endpoint },
      },
    }),
    crd('PrometheusRule', 'prometheusrules', {
      type: 'object',
      properties: {
        groups: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'rules'],
            properties: {
              name: str,
              interval: str,
              rules: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['expr'],
                  properties: {
                    alert: str,
                    record: str,
                    expr: { 'x-kubernetes-int-or-string': true },
                    for: str,
                    labels: labels,
                    annotations: labels,
                  },
                },
              },
            },
          },
        },
      },
    }),
  ];
}

test('every object of the all-features render is accepted by the API server (server-side dry run, strict field validation)', async () => {
  const kubectl = async (args: string[], input?: string) => {
    const r = await cluster.kubectl(args, { input, timeoutMs: 60_000 });
    assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await kubectl(['apply', '-f', join(REPO, 'crds')]);
  await kubectl(
    ['apply', '-f', '-'],
    monitoringCrds()
      .map((c) => JSON.stringify(c))
      .join('\n'),
  );
  await kubectl(['create', 'namespace', 'modelship-system']);
  await cluster.api.settled();
  const objs = await render(ALL_FEATURES);
  const file = join(cluster.dir, 'rendered.yaml');
  writeFileSync(file, objs.map((o) => yaml.dump(o)).join('---\n'));
  const out = await kubectl(['apply', '--dry-run=server', '--validate=strict', '-n', 'modelship-system', '-f', file]);
  const lines = out.trim().split('\n');
  assert.is(lines.length, objs.length, out);
  for (const l of lines) assert.match(l, /(created|configured) \(server dry run\)$/);
  // And the dry run really validates, built-in and monitoring kinds alike.
  const cases: Array<[string, (o: Obj) => Obj, RegExp]> = [
    [
      'Deployment',
      (o) => ({ ...o, spec: { ...o.spec, replicas: 'two' } }),
      /spec\.replicas in body must be of type integer/,
    ],
    [
      'PrometheusRule',
      (o) => ({ ...o, spec: { groups: [{ name: 'g' }] } }),
      /spec\.groups\[0\]\.rules: Required value/,
    ],
  ];
  for (const [kind, breakIt, message] of cases) {
    writeFileSync(file, objs.map((o) => yaml.dump(o.kind === kind ? breakIt(o) : o)).join('---\n'));
    const r = await cluster.kubectl(
      ['apply', '--dry-run=server', '--validate=strict', '-n', 'modelship-system', '-f', file],
      { timeoutMs: 60_000 },
    );
    assert.is.not(r.code, 0, `a broken ${kind} was accepted`);
    assert.match(r.stderr, message);
  }
});

test('deploy/modelship.yaml (plain kubectl install) is the current default render and the API server accepts it', async () => {
  const file = join(REPO, 'deploy', 'modelship.yaml');
  const text = readFileSync(file, 'utf8');
  const body = text.replace(/^(#.*\n)+/, '');
  const r = await helm(['template', 'modelship', CHART_DIR, '--namespace', 'modelship-system']);
  assert.is(body, r.stdout, 'deploy/modelship.yaml is stale: regenerate it with the command in its header');
  await cluster.kubectl(['create', 'namespace', 'modelship-system'], { timeoutMs: 30_000 });
  const dry = await cluster.kubectl(['apply', '--dry-run=server', '-f', file], { timeoutMs: 60_000 });
  assert.is(dry.code, 0, dry.stderr);
  assert.is(dry.stdout.trim().split('\n').length, (yaml.loadAll(body) as Obj[]).filter(Boolean).length);
});

test.run();
