// pods/log through the real kubectl: the API server reads the node agent's container logs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';

let c: TestCluster;
test.before(async () => {
  c = await startTestCluster({ agent: true });
});
test.after(async () => {
  await c?.stop();
});

const pod = (name: string, script: string, containers = 1) =>
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      restartPolicy: 'Never',
      containers: Array.from({ length: containers }, (_, i) => ({
        name: i ? `side${i}` : 'main',
        image: 'busybox',
        command: ['sh', '-c', script],
      })),
    },
  });

test('kubectl logs: whole log, --tail, and the errors of a real API server', async () => {
  let r = await c.kubectl(['apply', '-f', '-'], { input: pod('talker', 'echo hello; echo world') });
  assert.is(r.code, 0, r.stderr);
  r = await c.kubectl(['wait', '--for=jsonpath={.status.phase}=Succeeded', 'pod/talker', '--timeout=30s']);
  assert.is(r.code, 0, r.stderr);
  r = await c.kubectl(['logs', 'talker']);
  assert.is(r.stdout, 'hello\nworld\n');
  r = await c.kubectl(['logs', 'talker', '--tail=1']);
  assert.is(r.stdout, 'world\n');
  r = await c.kubectl(['logs', 'talker', '-c', 'nope']);
  assert.match(r.stderr, 'container nope is not valid for pod talker');
  r = await c.kubectl(['logs', 'ghost']);
  assert.match(r.stderr, 'pods "ghost" not found');
  const two = await fetch(`${c.url}/api/v1/namespaces/default/pods/talker/log?container=main&limitBytes=3`);
  assert.is(await two.text(), 'hel');
});

test('a pod with several containers needs a container name', async () => {
  let r = await c.kubectl(['apply', '-f', '-'], { input: pod('pair', 'sleep 30', 2) });
  assert.is(r.code, 0, r.stderr);
  const res = await fetch(`${c.url}/api/v1/namespaces/default/pods/pair/log`);
  assert.is(res.status, 400);
  assert.is((await res.json()).message, 'a container name must be specified for pod pair, choose one of: [main side1]');
  r = await c.kubectl(['delete', 'pod', 'pair', '--wait=false']);
  assert.is(r.code, 0, r.stderr);
});

test.run();
