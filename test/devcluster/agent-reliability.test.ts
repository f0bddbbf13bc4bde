// The node agent keeps working through API server faults, as kube-controller-manager and the
// kubelet must: dropped watch streams, compacted history (410 Expired → re-list), failing
// watches and writes (500, 409 conflicts on status updates).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';

let cluster: TestCluster;

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await cluster.kubectl(args, { input, timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const job = (name: string) => `
apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - {name: step, image: modelship/test-job:1, args: [--message, "${name} done"]}
`;

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
});

test.after(async () => {
  await cluster?.stop();
});

test('work continues after dropped watches, compacted history and failing watch requests', async () => {
  await kubectl(['apply', '-f', '-'], job('before'));
  await kubectl(['wait', '--for=condition=Complete', 'job/before', '--timeout=30s']);
  const { faults } = cluster.api;
  faults.compact();
  faults.failNext({ verb: 'watch', code: 500, count: 3 });
  const dropped = faults.dropWatches({ abrupt: true });
  assert.ok(dropped >= 5, `the agent's watches were dropped (${dropped})`);
  await kubectl(['apply', '-f', '-'], job('after-drop'));
  await kubectl(['wait', '--for=condition=Complete', 'job/after-drop', '--timeout=30s']);
  assert.is(await kubectl(['get', 'pod', '-l', 'job-name=after-drop', '-o', 'jsonpath={.items[0].status.containerStatuses[0].state.terminated.message}']), 'after-drop done');
});

test('conflicts and server errors on writes are retried', async () => {
  const { faults } = cluster.api;
  faults.failNext({ verb: 'update', resource: 'pods', subresource: 'status', code: 409, count: 2 });
  faults.failNext({ verb: 'update', resource: 'jobs.batch', subresource: 'status', code: 500, count: 2 });
  faults.failNext({ verb: 'create', resource: 'pods', code: 500, count: 1 });
  await kubectl(['apply', '-f', '-'], job('with-errors'));
  await kubectl(['wait', '--for=condition=Complete', 'job/with-errors', '--timeout=30s']);
  const j = JSON.parse(await kubectl(['get', 'job', 'with-errors', '-o', 'json']));
  assert.is(j.status.succeeded, 1);
  const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'job-name=with-errors', '-o', 'json'])).items;
  assert.is(pods.length, 1, 'a failed create does not lead to a duplicate pod');
  assert.equal(faults.list().errors, [], 'every armed fault was hit');
});

test.run();
