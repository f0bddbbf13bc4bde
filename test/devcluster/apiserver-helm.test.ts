// Conformance of the dev cluster API server with the real helm v3.17: install, upgrade,
// history, rollback, uninstall of a tiny chart (helm stores releases as protobuf-encoded Secrets).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';

const CHART = new URL('./fixtures/tiny-chart', import.meta.url).pathname;
let c: TestCluster;

test.before(async () => {
  c = await startTestCluster();
});
test.after(async () => {
  await c?.stop();
});

async function helm(args: string[]): Promise<string> {
  const r = await c.helm(args, { timeoutMs: 60_000 });
  assert.is(r.code, 0, `helm ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}
async function get(args: string[]): Promise<any> {
  const r = await c.kubectl(['get', ...args, '-o', 'json']);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('helm install creates the release objects and its release Secret', async () => {
  const out = await helm(['install', 'demo', CHART, '--namespace', 'default']);
  assert.match(out, 'STATUS: deployed');
  const d = await get(['deploy', 'demo-web']);
  assert.is(d.spec.replicas, 1);
  assert.is(d.metadata.labels['app.kubernetes.io/instance'], 'demo');
  assert.is((await get(['cm', 'demo-config'])).data.greeting, 'hello');
  assert.match((await get(['svc', 'demo-web'])).spec.clusterIP, /^127\.96\./);
  const releases = await get(['secrets', '-l', 'owner=helm,name=demo']);
  assert.equal(
    releases.items.map((s: any) => [s.metadata.name, s.type, s.metadata.labels.status]),
    [['sh.helm.release.v1.demo.v1', 'helm.sh/release.v1', 'deployed']],
  );
  const list = JSON.parse(await helm(['list', '-o', 'json']));
  assert.equal(
    list.map((r: any) => [r.name, r.status, r.revision]),
    [['demo', 'deployed', '1']],
  );
});

test('helm upgrade changes objects in place; history; rollback', async () => {
  const before = await get(['deploy', 'demo-web']);
  await helm(['upgrade', 'demo', CHART, '--set', 'replicas=3,greeting=hi']);
  const after = await get(['deploy', 'demo-web']);
  assert.is(after.spec.replicas, 3);
  assert.is(after.metadata.uid, before.metadata.uid, 'patched, not recreated');
  assert.is(after.metadata.generation, before.metadata.generation + 1);
  assert.is((await get(['cm', 'demo-config'])).data.greeting, 'hi');
  const history = JSON.parse(await helm(['history', 'demo', '-o', 'json']));
  assert.equal(
    history.map((h: any) => [h.revision, h.status]),
    [
      [1, 'superseded'],
      [2, 'deployed'],
    ],
  );
  await helm(['rollback', 'demo', '1']);
  assert.is((await get(['deploy', 'demo-web'])).spec.replicas, 1);
  assert.is((await get(['cm', 'demo-config'])).data.greeting, 'hello');
});

test('helm upgrade --install of a new release, then uninstall removes everything', async () => {
  await helm(['upgrade', '--install', 'other', CHART, '--create-namespace', '--namespace', 'apps']);
  assert.is((await get(['-n', 'apps', 'deploy', 'other-web'])).spec.replicas, 1);
  await helm(['uninstall', 'demo']);
  await helm(['uninstall', 'other', '--namespace', 'apps']);
  for (const [ns, kind, name] of [
    ['default', 'deploy', 'demo-web'],
    ['default', 'cm', 'demo-config'],
    ['default', 'svc', 'demo-web'],
    ['apps', 'deploy', 'other-web'],
  ]) {
    const r = await c.kubectl(['-n', ns, 'get', kind, name]);
    assert.match(r.stderr, 'NotFound', `${kind}/${name} should be gone`);
  }
  assert.is((await get(['secrets', '-A', '-l', 'owner=helm'])).items.length, 0);
});

test.run();
