// Pods reach the API server as their ServiceAccount, as on a real cluster: the kubelet
// requests a token bound to the pod and mounts it with the cluster CA and the namespace at
// /var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST/PORT name the
// `kubernetes` Service, and client-node's in-cluster config then meets RBAC: 403 without a
// RoleBinding, allowed with one. No admin kubeconfig reaches the pod.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { eventually, kubectlOk } from './helpers.js';

let cluster: TestCluster;
const kubectl = (args: string[], input?: string) => kubectlOk(cluster, args, input);

// Lists pods with client-node's in-cluster config and reports the outcome as the termination message.
const LIST_PODS = `
const k8s = require('@kubernetes/client-node');
const fs = require('fs');
const kc = new k8s.KubeConfig();
kc.loadFromCluster();
const api = kc.makeApiClient(k8s.CoreV1Api);
const ns = fs.readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8');
api.listNamespacedPod({ namespace: ns }).then(
  (r) => fs.writeFileSync('/dev/termination-log', 'listed ' + r.items.length + ' as ' + kc.getCurrentCluster().server),
  (e) => { fs.writeFileSync('/dev/termination-log', e.code + ' ' + JSON.parse(e.body).message); process.exit(1); });
`;

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
  await kubectl(['create', 'namespace', 'team']);
  await kubectl(['create', 'serviceaccount', 'reader', '-n', 'team']);
});

test.after(async () => {
  await cluster?.stop();
});

async function runAs(name: string, script: string, extra: object = {}): Promise<any> {
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: 'team' },
      spec: {
        serviceAccountName: 'reader',
        restartPolicy: 'Never',
        ...extra,
        containers: [{ name: 'c', image: 'modelship/test-job:1', command: ['node', '-e', script] }],
      },
    }),
  );
  return eventually(
    `${name} to finish`,
    async () => {
      const s = JSON.parse(await kubectl(['get', 'pod', name, '-n', 'team', '-o', 'json'])).status;
      return s.containerStatuses?.[0]?.state?.terminated;
    },
    40_000,
  );
}

test("the pod's token, CA and namespace are mounted; no admin kubeconfig; the API server is the kubernetes Service", async () => {
  const t = await runAs(
    'files',
    `
const fs = require('fs');
const dir = '/var/run/secrets/kubernetes.io/serviceaccount/';
fs.writeFileSync('/dev/termination-log', JSON.stringify({
  files: fs.readdirSync(dir).filter((f) => !f.startsWith('..')).sort(),
  jwtParts: fs.readFileSync(dir + 'token', 'utf8').split('.').length,
  namespace: fs.readFileSync(dir + 'namespace', 'utf8'),
  ca: fs.readFileSync(dir + 'ca.crt', 'utf8').startsWith('-----BEGIN CERTIFICATE-----'),
  kubeconfig: process.env.KUBECONFIG ?? null,
  host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT,
}));`,
  );
  assert.is(t.exitCode, 0, t.message);
  const svcIP = await kubectl(['get', 'svc', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}']);
  assert.equal(JSON.parse(t.message), {
    files: ['ca.crt', 'namespace', 'token'],
    jwtParts: 3,
    namespace: 'team',
    ca: true,
    kubeconfig: null,
    host: svcIP,
    port: '443',
  });
});

test('in-cluster config without a RoleBinding: 403 with the RBAC message; with one: allowed', async () => {
  const denied = await runAs('denied', LIST_PODS);
  assert.is(denied.exitCode, 1);
  assert.is(
    denied.message,
    '403 pods is forbidden: User "system:serviceaccount:team:reader" cannot list resource "pods" in API group "" in the namespace "team"',
  );
  await kubectl(['create', 'role', 'pod-reader', '-n', 'team', '--verb=list', '--resource=pods']);
  await kubectl([
    'create',
    'rolebinding',
    'reader-pods',
    '-n',
    'team',
    '--role=pod-reader',
    '--serviceaccount=team:reader',
  ]);
  const allowed = await runAs('allowed', LIST_PODS);
  assert.is(allowed.exitCode, 0, allowed.message);
  assert.match(allowed.message, /^listed \d+ as https:\/\/127\.96\.\d+\.\d+:443$/);
});

test('automountServiceAccountToken: false mounts no token', async () => {
  const t = await runAs(
    'no-token',
    `require('fs').writeFileSync('/dev/termination-log', String(require('fs').existsSync('/var/run/secrets/kubernetes.io/serviceaccount')))`,
    { automountServiceAccountToken: false },
  );
  assert.is(t.message, 'false');
});

test.run();
