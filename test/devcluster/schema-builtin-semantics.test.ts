// The Go-validation checks the upstream schemas lack, through validateBuiltin as the API server
// calls it: each case one invalid field and the exact line a Kubernetes 1.31 apiserver returns.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { validateBuiltin } from '../../hack/devcluster/schema/index.js';
import { NEGATIVE_MSG, PORT_RANGE_MSG } from '../../hack/devcluster/schema/builtin-semantics.js';
import { lines } from '../../hack/devcluster/schema/testing.js';

const podSpec = () => ({
  restartPolicy: 'Never',
  containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 8080, hostPort: 0 }] }],
});
const template = () => ({ metadata: { labels: { app: 'web' } }, spec: podSpec() });

const base: Record<string, () => any> = {
  Deployment: () => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: template() },
  }),
  ReplicaSet: () => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: template() },
  }),
  Job: () => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'train' },
    spec: { backoffLimit: 0, completions: 1, parallelism: 1, template: template() },
  }),
  CronJob: () => ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly' },
    spec: { schedule: '0 0 * * *', jobTemplate: { spec: { backoffLimit: 2, template: template() } } },
  }),
  Pod: () => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: podSpec() }),
  Service: () => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] },
  }),
};

interface Case {
  name: string;
  kind: keyof typeof base & string;
  patch: (o: any) => void;
  expect: string[];
}

const badLabel =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const badKey =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const cases: Case[] = [
  ...Object.keys(base).map((kind) => ({ name: `a valid ${kind}`, kind, patch: () => {}, expect: [] })),
  {
    name: 'negative Deployment replicas',
    kind: 'Deployment',
    patch: (d) => (d.spec.replicas = -1),
    expect: [`spec.replicas: Invalid value: -1: ${NEGATIVE_MSG}`],
  },
  {
    name: 'negative Deployment revisionHistoryLimit',
    kind: 'Deployment',
    patch: (d) => (d.spec.revisionHistoryLimit = -2),
    expect: [`spec.revisionHistoryLimit: Invalid value: -2: ${NEGATIVE_MSG}`],
  },
  {
    name: 'negative ReplicaSet replicas',
    kind: 'ReplicaSet',
    patch: (r) => (r.spec.replicas = -3),
    expect: [`spec.replicas: Invalid value: -3: ${NEGATIVE_MSG}`],
  },
  {
    name: 'negative Job backoffLimit',
    kind: 'Job',
    patch: (j) => (j.spec.backoffLimit = -1),
    expect: [`spec.backoffLimit: Invalid value: -1: ${NEGATIVE_MSG}`],
  },
  {
    name: 'negative Job completions',
    kind: 'Job',
    patch: (j) => (j.spec.completions = -1),
    expect: [`spec.completions: Invalid value: -1: ${NEGATIVE_MSG}`],
  },
  {
    name: 'negative Job parallelism',
    kind: 'Job',
    patch: (j) => (j.spec.parallelism = -5),
    expect: [`spec.parallelism: Invalid value: -5: ${NEGATIVE_MSG}`],
  },
  {
    name: 'negative CronJob job backoffLimit',
    kind: 'CronJob',
    patch: (c) => (c.spec.jobTemplate.spec.backoffLimit = -1),
    expect: [`spec.jobTemplate.spec.backoffLimit: Invalid value: -1: ${NEGATIVE_MSG}`],
  },
  {
    name: 'containerPort above range',
    kind: 'Deployment',
    patch: (d) => (d.spec.template.spec.containers[0].ports[0].containerPort = 70000),
    expect: [`spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000: ${PORT_RANGE_MSG}`],
  },
  {
    name: 'containerPort 0 is missing',
    kind: 'Pod',
    patch: (p) => (p.spec.containers[0].ports[0].containerPort = 0),
    expect: ['spec.containers[0].ports[0].containerPort: Required value'],
  },
  {
    name: 'negative hostPort',
    kind: 'Pod',
    patch: (p) => (p.spec.containers[0].ports[0].hostPort = -1),
    expect: [`spec.containers[0].ports[0].hostPort: Invalid value: -1: ${PORT_RANGE_MSG}`],
  },
  {
    name: 'init container port on a Job',
    kind: 'Job',
    patch: (j) =>
      (j.spec.template.spec.initContainers = [{ name: 'i', image: 'busybox', ports: [{ containerPort: 65536 }] }]),
    expect: [`spec.template.spec.initContainers[0].ports[0].containerPort: Invalid value: 65536: ${PORT_RANGE_MSG}`],
  },
  {
    name: 'Service port 0',
    kind: 'Service',
    patch: (s) => (s.spec.ports[0].port = 0),
    expect: [`spec.ports[0].port: Invalid value: 0: ${PORT_RANGE_MSG}`],
  },
  {
    name: 'Service port above range',
    kind: 'Service',
    patch: (s) => (s.spec.ports[0].port = 65536),
    expect: [`spec.ports[0].port: Invalid value: 65536: ${PORT_RANGE_MSG}`],
  },
  {
    name: 'Service targetPort above range',
    kind: 'Service',
    patch: (s) => (s.spec.ports[0].targetPort = 99999),
    expect: [`spec.ports[0].targetPort: Invalid value: 99999: ${PORT_RANGE_MSG}`],
  },
  {
    name: 'Service named targetPort',
    kind: 'Service',
    patch: (s) => (s.spec.ports[0].targetPort = 'http'),
    expect: [],
  },
  {
    name: 'Service selector value',
    kind: 'Service',
    patch: (s) => (s.spec.selector.app = 'web!'),
    expect: [`spec.selector: Invalid value: "web!": ${badLabel}`],
  },
  {
    name: 'selector matchLabels key',
    kind: 'Deployment',
    patch: (d) => (d.spec.selector.matchLabels = { 'bad key': 'web' }),
    expect: [`spec.selector.matchLabels: Invalid value: "bad key": ${badKey}`],
  },
  {
    name: 'selector matchExpressions key',
    kind: 'ReplicaSet',
    patch: (r) => (r.spec.selector.matchExpressions = [{ key: '-x', operator: 'Exists' }]),
    expect: [`spec.selector.matchExpressions[0].key: Invalid value: "-x": ${badKey}`],
  },
  {
    name: 'pod template label value',
    kind: 'Job',
    patch: (j) => (j.spec.template.metadata.labels.app = '-web'),
    expect: [`spec.template.metadata.labels: Invalid value: "-web": ${badLabel}`],
  },
  {
    name: 'a string replicas is left to the schema',
    kind: 'Deployment',
    patch: (d) => (d.spec.replicas = '-1'),
    expect: ['spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'],
  },
];

for (const c of cases) {
  test(`semantics: ${c.name}`, () => {
    const obj = base[c.kind]();
    c.patch(obj);
    assert.equal(lines(validateBuiltin(obj.apiVersion, obj.kind, obj)), c.expect);
  });
}

test.run();
