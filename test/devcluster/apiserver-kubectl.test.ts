// Conformance of the dev cluster API server, driven by the real kubectl v1.31 binary.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type RunResult, type TestCluster } from '../support/devcluster.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
let c: TestCluster;

const deployment = (replicas: number, image = 'nginx:1.25') => `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ${image}
        ports: [{containerPort: 80}]
`;

async function ok(args: string[], input?: string): Promise<string> {
  const r = await c.kubectl(args, { input });
  assert.is(r.code, 0, `kubectl ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
async function fails(args: string[], input?: string): Promise<RunResult> {
  const r = await c.kubectl(args, { input });
  assert.is.not(r.code, 0, `kubectl ${args.join(' ')} should fail: ${r.stdout}`);
  return r;
}
const getJson = async (args: string[]) => JSON.parse(await ok([...args, '-o', 'json']));

test.before(async () => {
  c = await startTestCluster();
});
test.after(async () => {
  await c?.stop();
});

test('version and discovery: a 1.31 server with the built-in kinds and their short names', async () => {
  const v = JSON.parse(await ok(['version', '-o', 'json']));
  assert.is(v.serverVersion.major, '1');
  assert.is(v.serverVersion.minor, '31');
  const resources = await ok(['api-resources', '--no-headers']);
  for (const line of [
    'deployments  deploy  apps/v1  true  Deployment',
    'namespaces  ns  v1  false  Namespace',
    'horizontalpodautoscalers  hpa  autoscaling/v2  true  HorizontalPodAutoscaler',
    'leases    coordination.k8s.io/v1  true  Lease',
  ]) {
    const [name, ...rest] = line.split(/\s+/);
    assert.ok(
      resources.split('\n').some((l) => l.startsWith(`${name} `) && rest.every((w) => l.includes(w))),
      `api-resources lacks ${line}`,
    );
  }
  const ns = await ok(['get', 'ns', '-o', 'name']);
  assert.ok(ns.includes('namespace/default') && ns.includes('namespace/kube-system'));
  assert.is((await ok(['auth', 'can-i', 'create', 'deployments'])).trim(), 'yes', 'the insecure port is a superuser');
  assert.match(await ok(['auth', 'whoami']), /system:unsecured/);
  const explained = await ok(['explain', 'deployment.spec.template.spec.containers.ports']);
  assert.match(explained, /FIELD: ports <\[\][\w.]*ContainerPort>/);
  assert.match(explained, /containerPort\s+<integer>/);
});

test('apply (validating), get -o json / -o wide, apply again is unchanged', async () => {
  assert.match(await ok(['apply', '-f', '-'], deployment(2)), 'deployment.apps/web created');
  const d = await getJson(['get', 'deploy', 'web']);
  assert.is(d.metadata.generation, 1);
  assert.match(d.metadata.uid, /^[0-9a-f-]{36}$/);
  assert.match(d.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.is(d.spec.strategy.type, 'RollingUpdate', 'defaults applied');
  const wide = await ok(['get', 'deploy', 'web', '-o', 'wide']);
  assert.match(wide, /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR/);
  assert.match(wide, /web\s+0\/2\s+0\s+0\s+\S+\s+web\s+nginx:1\.25\s+app=web/);
  assert.match(await ok(['apply', '-f', '-'], deployment(2)), 'deployment.apps/web unchanged');
  const again = await getJson(['get', 'deploy', 'web']);
  assert.is(again.metadata.resourceVersion, d.metadata.resourceVersion, 'a no-op apply writes nothing');
});

test('label / annotate do not bump generation; patches of every type do', async () => {
  await ok(['label', 'deploy', 'web', 'tier=gold']);
  await ok(['annotate', 'deploy', 'web', 'note=hello']);
  let d = await getJson(['get', 'deploy', 'web']);
  assert.is(d.metadata.labels.tier, 'gold');
  assert.is(d.metadata.annotations.note, 'hello');
  assert.is(d.metadata.generation, 1);
  await ok(['patch', 'deploy', 'web', '--type', 'merge', '-p', '{"spec":{"replicas":3}}']);
  await ok([
    'patch',
    'deploy',
    'web',
    '--type',
    'json',
    '-p',
    '[{"op":"add","path":"/spec/minReadySeconds","value":5}]',
  ]);
  await ok([
    'patch',
    'deploy',
    'web',
    '--type',
    'strategic',
    '-p',
    '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"}]}}}}',
  ]);
  d = await getJson(['get', 'deploy', 'web']);
  assert.is(d.spec.replicas, 3);
  assert.is(d.spec.minReadySeconds, 5);
  assert.equal(
    d.spec.template.spec.containers.map((x: any) => x.name),
    ['web', 'sidecar'],
    'strategic merge keeps web, adds sidecar by name',
  );
  assert.is(d.metadata.generation, 4);
  const labelled = await ok(['get', 'deploy', '-l', 'tier in (gold,silver)', '-o', 'name']);
  assert.is(labelled.trim(), 'deployment.apps/web');
  assert.is((await ok(['get', 'deploy', '-l', 'tier!=gold', '-o', 'name'])).trim(), '');
  await ok(['scale', 'deploy', 'web', '--replicas=1']);
  assert.is((await getJson(['get', 'deploy', 'web'])).spec.replicas, 1);
});

test('server-side apply: conflicts with another manager unless --force-conflicts', async () => {
  const cm = (v: string) => `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"ssa"},"data":{"k":"${v}"}}`;
  assert.match(
    await ok(['apply', '--server-side', '--field-manager', 'alice', '-f', '-'], cm('1')),
    'configmap/ssa serverside-applied',
  );
  const r = await fails(['apply', '--server-side', '--field-manager', 'bob', '-f', '-'], cm('2'));
  assert.match(r.stderr, 'Apply failed with 1 conflict: conflict with "alice" using v1: .data.k');
  await ok(['apply', '--server-side', '--field-manager', 'bob', '--force-conflicts', '-f', '-'], cm('2'));
  const obj = await getJson(['get', 'cm', 'ssa', '--show-managed-fields']);
  assert.is(obj.data.k, '2');
  const managers = obj.metadata.managedFields.map((m: any) => `${m.manager}/${m.operation}`);
  assert.ok(managers.includes('bob/Apply'), managers.join());
  assert.not.ok(
    JSON.stringify(obj.metadata.managedFields.find((m: any) => m.manager === 'alice') ?? {}).includes('f:k'),
    'alice lost .data.k',
  );
});

test('invalid built-in objects are rejected with the upstream wording', async () => {
  const r = await fails(
    ['apply', '-f', '-'],
    deployment(2).replace('replicas: 2', 'replicas: "two"').replace('name: web,', 'name: bad,'),
  );
  assert.match(
    r.stderr,
    'The Deployment "bad" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
  );
  const typo = await fails(
    ['apply', '-f', '-'],
    deployment(2).replace('image: nginx:1.25', 'imagex: nginx:1.25').replace('name: web,', 'name: typo,'),
  );
  assert.match(
    typo.stderr,
    'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.template.spec.containers[0].imagex"',
  );
  // a semantic check that the upstream schema cannot express (kube-apiserver's Go validation)
  const negative = await fails(
    ['apply', '-f', '-'],
    deployment(2).replace('replicas: 2', 'replicas: -1').replace('name: web,', 'name: negative,'),
  );
  assert.match(
    negative.stderr,
    'The Deployment "negative" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  );
  const ns = await fails(['create', 'namespace', 'Bad_Name']);
  assert.match(ns.stderr, 'The Namespace "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"');
});

test('Service gets a loopback cluster IP; get -o wide shows it', async () => {
  await ok(['create', 'service', 'clusterip', 'web', '--tcp=80:8080']);
  const svc = await getJson(['get', 'svc', 'web']);
  assert.match(svc.spec.clusterIP, /^127\.96\.\d+\.\d+$/);
  assert.equal(svc.spec.clusterIPs, [svc.spec.clusterIP]);
  assert.match(
    await ok(['get', 'svc', 'web']),
    new RegExp(`web\\s+ClusterIP\\s+${svc.spec.clusterIP.replace(/\./g, '\\.')}\\s+<none>\\s+80/TCP`),
  );
});

test('CRD: established at once, category listing, printer columns, validation, status subresource, wait', async () => {
  await ok(['apply', '-f', `${FIXTURES}widgets-crd.yaml`]);
  await ok(['wait', '--for', 'condition=Established', 'crd/widgets.test.modelship.dev', '--timeout=10s']);
  await ok(['apply', '-f', `${FIXTURES}widget-a.yaml`]);
  const listing = await ok(['get', 'modelship']);
  assert.match(listing, /NAME\s+SIZE\s+PHASE\s+READY\s+AGE/);
  assert.match(listing, /\ba\s+3\s+/);
  assert.match(await ok(['get', 'wdg', '-o', 'wide']), /COLOR/);
  assert.match(await ok(['explain', 'widget.spec.color']), /FIELD: color <string>\nENUM:\n\s+red\n\s+green\n\s+blue/);
  const w = await getJson(['get', 'widget', 'a']);
  assert.is(w.spec.color, 'red', 'schema default applied');
  // invalid and unknown fields
  const bad = (spec: string) =>
    `{"apiVersion":"test.modelship.dev/v1alpha1","kind":"Widget","metadata":{"name":"b"},"spec":${spec}}`;
  assert.match(
    (await fails(['apply', '-f', '-'], bad('{"size":1000}'))).stderr,
    'The Widget "b" is invalid: spec.size: Invalid value: 1000: spec.size in body should be less than or equal to 100',
  );
  assert.match(
    (await fails(['apply', '-f', '-'], bad('{"size":1,"bogus":true}'))).stderr,
    'strict decoding error: unknown field "spec.bogus"',
  );
  assert.match(
    (await fails(['patch', 'wdg', 'a', '--type', 'merge', '-p', '{"spec":{"color":"blue"}}'])).stderr,
    'spec: Invalid value: "object": color is immutable',
  );
  assert.match(
    (await fails(['patch', 'wdg', 'a', '-p', '{"spec":{"size":4}}'])).stderr,
    'application/strategic-merge-patch+json is not supported',
  );
  // status subresource: main writes ignore status, /status writes ignore spec
  await ok(['patch', 'wdg', 'a', '--type', 'merge', '-p', '{"status":{"phase":"Ignored"}}']);
  assert.is((await getJson(['get', 'wdg', 'a'])).status, undefined);
  await ok([
    'patch',
    'wdg',
    'a',
    '--subresource',
    'status',
    '--type',
    'merge',
    '-p',
    '{"spec":{"size":9},"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}',
  ]);
  const after = await getJson(['get', 'wdg', 'a']);
  assert.is(after.status.phase, 'Running');
  assert.is(after.spec.size, 3);
  assert.is(after.metadata.generation, 1, 'status writes do not bump generation');
  await ok(['wait', '--for', 'condition=Ready', 'widget/a', '--timeout=10s']);
  assert.match(await ok(['get', 'wdg', 'a']), /a\s+3\s+Running\s+True/);
});

test('get -w streams changes', async () => {
  // Label only once kubectl's watch is open (a fixed sleep raced kubectl's start-up on a busy
  // machine: the label then showed up in ADDED and MODIFIED never came).
  const openWatches = () => c.api.faults.list().watches;
  const before = openWatches();
  const watching = c.kubectl(['get', 'widgets', '-w', '--output-watch-events'], { timeoutMs: 4000 });
  for (const deadline = Date.now() + 3000; openWatches() <= before && Date.now() < deadline;)
    await new Promise((r) => setTimeout(r, 20));
  await ok(['label', 'wdg', 'a', 'seen=yes']);
  const out = (await watching).stdout;
  assert.match(out, /ADDED\s+a\s+3/);
  assert.match(out, /MODIFIED\s+a\s+3/);
});

test('delete: wait --for=delete, namespace cascade, deleting a CRD removes its resources', async () => {
  await ok(['delete', 'deploy', 'web', '--wait=true']);
  assert.match(
    (await fails(['get', 'deploy', 'web'])).stderr,
    'Error from server (NotFound): deployments.apps "web" not found',
  );
  await ok(['create', 'namespace', 'scratch']);
  await ok(['-n', 'scratch', 'create', 'configmap', 'x', '--from-literal=a=b']);
  await ok(['-n', 'scratch', 'apply', '-f', `${FIXTURES}widget-a.yaml`]);
  await ok(['delete', 'namespace', 'scratch', '--timeout=20s']);
  assert.match((await fails(['get', 'ns', 'scratch'])).stderr, 'namespaces "scratch" not found');
  assert.match((await fails(['-n', 'scratch', 'get', 'cm', 'x'])).stderr, 'not found');
  await ok(['delete', 'crd', 'widgets.test.modelship.dev', '--timeout=20s']);
  const r = await fails(['get', 'widgets']);
  // kubectl's discovery cache may still name the type; the server answers 404 either way.
  assert.match(
    r.stderr,
    /the server doesn't have a resource type "widgets"|NotFound.*the server could not find the requested resource/,
  );
  const crdFile = readFileSync(`${FIXTURES}widgets-crd.yaml`, 'utf8');
  await ok(['apply', '-f', '-'], crdFile);
  assert.match(await ok(['get', 'widgets', '-A', '-o', 'name']), /^\s*$/, 'recreated CRD starts empty');
});

test.run();
