// The chart with watchNamespaces: no ClusterRole at all, a Role per watched namespace, and the
// operator (running as the chart's ServiceAccount through the RBAC-enforcing proxy) still
// becomes ready and reconciles in a watched namespace without one denied call — while it
// has no access to namespaces it does not watch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { readRbacState, startRbacProxy, type RbacProxy } from '../support/rbac-proxy.js';
import { authorize, requestAttributes, serviceAccountUser } from '../../hack/devcluster/apiserver/rbac.js';
import { CHART_DIR } from '../support/packaging.js';

type Obj = Record<string, any>;
const NS = 'modelship-system';
const WATCHED = 'team-a';
const SA = 'ms-modelship-operator';
let cluster: TestCluster;
let proxy: RbacProxy;

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, { input, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
  proxy = await startRbacProxy({ upstream: cluster.url, user: serviceAccountUser(NS, SA), token: 'namespaced-token' });
  const file = join(cluster.dir, 'operator-sa.kubeconfig');
  proxy.writeKubeconfig(file);
  for (const ns of [NS, WATCHED, 'team-b']) await kubectl(['create', 'namespace', ns]);
  await kubectl(['create', 'secret', 'generic', 'operator-sa-kubeconfig', '-n', NS, `--from-file=kubeconfig=${file}`]);
});

test.after(async () => {
  await proxy?.stop();
  await cluster?.stop();
});

test('watchNamespaces install: Roles only, operator ready and reconciling in the watched namespace, nothing denied', async () => {
  const r = await cluster.helm(
    [
      'install',
      'ms',
      CHART_DIR,
      '-n',
      NS,
      '--set',
      `watchNamespaces={${WATCHED}}`,
      '--set',
      'extraEnv[0].name=KUBECONFIG',
      '--set',
      'extraEnv[0].value=/etc/modelship-test/kubeconfig',
      '--set',
      'extraVolumes[0].name=sa',
      '--set',
      'extraVolumes[0].secret.secretName=operator-sa-kubeconfig',
      '--set',
      'extraVolumeMounts[0].name=sa',
      '--set',
      'extraVolumeMounts[0].mountPath=/etc/modelship-test',
    ],
    { timeoutMs: 60_000 },
  );
  assert.is(r.code, 0, r.stderr);
  assert.is(
    (
      await kubectl(['get', 'clusterroles,clusterrolebindings', '-l', 'app.kubernetes.io/instance=ms', '-o', 'name'])
    ).trim(),
    '',
  );
  assert.match(await kubectl(['get', 'roles', '-n', WATCHED, '-o', 'name']), /ms-modelship-operator/);

  await waitFor('the operator pod ready', 45_000, async () => {
    const pods = JSON.parse(
      await kubectl(['get', 'pods', '-n', NS, '-l', 'app.kubernetes.io/instance=ms', '-o', 'json']),
    ).items as Obj[];
    return pods.some((p) => (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True'));
  });
  // A run whose data set is missing: created Job, failed pod, Failed status — all in team-a.
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'modelship.dev/v1alpha1',
      kind: 'TrainingRun',
      metadata: { name: 'scoped', namespace: WATCHED },
      spec: {
        model: 'scoped',
        image: 'modelship/trainer-image-classifier:0.1.0',
        dataset: { uri: 'pvc://data/missing' },
        output: { uri: 'pvc://models/runs' },
        resources: { gpus: 0 },
        backoffLimit: 0,
      },
    }),
  );
  const tr = await waitFor('the TrainingRun to fail', 40_000, async () => {
    const o = JSON.parse(await kubectl(['get', 'trainingrun', 'scoped', '-n', WATCHED, '-o', 'json'])) as Obj;
    return o.status?.phase === 'Failed' ? o : undefined;
  });
  assert.is(tr.status.phase, 'Failed');

  assert.equal(
    proxy.calls.filter((c) => !c.allowed).map((c) => c.reason),
    [],
    'denied calls',
  );
  const resourceCalls = proxy.calls.filter((c) => c.resourceRequest);
  assert.ok(resourceCalls.length > 10);
  // Everything it touched lives in the watched namespace or, for the Lease, its own.
  for (const c of resourceCalls)
    assert.ok([WATCHED, NS].includes(c.namespace), `${c.verb} ${c.resource} in "${c.namespace}"`);
  assert.ok(resourceCalls.some((c) => c.namespace === WATCHED && c.resource === 'jobs' && c.verb === 'create'));
  // The chart's RBAC gives it nothing outside: not another namespace, not the cluster scope.
  const state = await readRbacState(cluster.url);
  const user = serviceAccountUser(NS, SA);
  for (const [method, path] of [
    ['POST', '/apis/batch/v1/namespaces/team-b/jobs'],
    ['GET', '/apis/modelship.dev/v1alpha1/trainingruns'],
    ['GET', '/api/v1/namespaces/team-b/pods'],
  ]) {
    assert.not.ok(authorize(state, user, requestAttributes(method, path)).allowed, `${method} ${path} allowed`);
  }
  assert.ok(authorize(state, user, requestAttributes('POST', `/apis/batch/v1/namespaces/${WATCHED}/jobs`)).allowed);
});

test.run();
