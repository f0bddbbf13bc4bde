// validateBuiltin: built-in kinds against the upstream OpenAPI schemas (kubernetes-models).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isKnownBuiltin, validateBuiltin } from '../../hack/devcluster/schema/index.js';
import { lines } from '../../hack/devcluster/schema/testing.js';

function deployment(patch: (d: any) => void = () => {}): any {
  const d = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, creationTimestamp: null },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'server',
              image: 'modelship/serving:dev',
              ports: [{ containerPort: 8080, name: 'http' }],
              env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
              resources: { limits: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': 1 } },
            },
          ],
        },
      },
    },
  };
  patch(d);
  return d;
}

interface Case {
  name: string;
  apiVersion: string;
  kind: string;
  obj: any;
  expect: string[];
}

const cases: Case[] = [
  { name: 'a valid Deployment', apiVersion: 'apps/v1', kind: 'Deployment', obj: deployment(), expect: [] },
  {
    name: 'Deployment replicas given a string',
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    obj: deployment((d) => (d.spec.replicas = 'three')),
    expect: ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'],
  },
  {
    name: 'Deployment without a selector',
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    obj: deployment((d) => delete d.spec.selector),
    expect: ['spec.selector: Required value'],
  },
  {
    name: 'a Pod container without a name',
    apiVersion: 'v1',
    kind: 'Pod',
    obj: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ image: 'busybox' }] } },
    expect: ['spec.containers[0].name: Required value'],
  },
  {
    name: 'a valid Pod',
    apiVersion: 'v1',
    kind: 'Pod',
    obj: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
    },
    expect: [],
  },
  {
    name: 'a Pod with an unknown restartPolicy',
    apiVersion: 'v1',
    kind: 'Pod',
    obj: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: { restartPolicy: 'Sometimes', containers: [{ name: 'c', image: 'busybox' }] },
    },
    expect: ['spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"'],
  },
  {
    name: 'a Service port with an unknown protocol',
    apiVersion: 'v1',
    kind: 'Service',
    obj: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http', protocol: 'HTTP' }] },
    },
    expect: ['spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'],
  },
  {
    name: 'a valid Service (targetPort int-or-string)',
    apiVersion: 'v1',
    kind: 'Service',
    obj: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] },
    },
    expect: [],
  },
  {
    name: 'Service names are DNS-1035 labels',
    apiVersion: 'v1',
    kind: 'Service',
    obj: { apiVersion: 'v1', kind: 'Service', metadata: { name: '1web' }, spec: { ports: [{ port: 80 }] } },
    expect: [
      "metadata.name: Invalid value: \"1web\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ],
  },
  {
    name: 'a Job with a pod template that lacks containers',
    apiVersion: 'batch/v1',
    kind: 'Job',
    obj: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'train' },
      spec: { backoffLimit: 1, template: { spec: { restartPolicy: 'Never' } } },
    },
    expect: ['spec.template.spec.containers: Required value'],
  },
  {
    name: 'a ConfigMap with a non-string value',
    apiVersion: 'v1',
    kind: 'ConfigMap',
    obj: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { replicas: 3 } },
    expect: ['data.replicas: Invalid value: "integer": data.replicas in body must be of type string: "integer"'],
  },
  {
    name: 'a Lease',
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    obj: {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'modelship-operator' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-11-22T10:00:00.000000Z' },
    },
    expect: [],
  },
  {
    name: 'a Namespace with an invalid name',
    apiVersion: 'v1',
    kind: 'Namespace',
    obj: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Team.A' } },
    expect: [
      "metadata.name: Invalid value: \"Team.A\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    ],
  },
];

for (const c of cases) {
  test(`validateBuiltin: ${c.name}`, () => {
    assert.equal(lines(validateBuiltin(c.apiVersion, c.kind, c.obj)), c.expect);
  });
}

test('unknown kinds have nothing to be checked against', () => {
  assert.is(isKnownBuiltin('gateway.networking.k8s.io/v1', 'HTTPRoute'), false);
  assert.is(isKnownBuiltin('apps/v1', 'Deployment'), true);
  assert.equal(
    validateBuiltin('gateway.networking.k8s.io/v1', 'HTTPRoute', { metadata: { name: 'r' }, spec: { whatever: 1 } }),
    [],
  );
});

test.run();
