// The node agent keeps working through API server faults, as kube-controller-manager and the
// kubelet must: dropped watch streams, compacted history (410 Expired → re-list), failing
// watches and writes (500, 409 conflicts on status updates).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { kubectlOk, eventually } from './helpers.js';
import { processesOfDataDir } from '../../hack/devcluster/agent/orphans.js';

let cluster: TestCluster;

const kubectl = (args: string[], input?: string): Promise<string> => kubectlOk(cluster, args, input);

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
  assert.is(
    await kubectl([
      'get',
      'pod',
      '-l',
      'job-name=after-drop',
      '-o',
      'jsonpath={.items[0].status.containerStatuses[0].state.terminated.message}',
    ]),
    'after-drop done',
  );
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

test('pods die with a SIGKILLed agent process; a restarted agent runs them again', async () => {
  // This test needs pods run by a standalone agent process only, so it swaps the cluster for
  // one without an in-process agent.
  await cluster.stop();
  cluster = await startTestCluster({ agent: false });
  const dir = join(cluster.dir, 'standalone');
  const kubeconfig = join(cluster.dir, 'standalone.kubeconfig');
  cluster.api.writeKubeconfig(kubeconfig);
  const startAgent = () =>
    spawn(
      process.execPath,
      ['--import', 'tsx', 'hack/devcluster/agent/main.ts', '--kubeconfig', kubeconfig, '--dir', dir],
      { stdio: 'ignore' },
    );
  const first = startAgent();
  try {
    await kubectl(
      ['apply', '-f', '-'],
      `
apiVersion: v1
kind: Pod
metadata: {name: server}
spec:
  containers: [{name: s, image: modelship/test-http-server:1}]
`,
    );
    await kubectl(['wait', '--for=condition=Ready', 'pod/server', '--timeout=30s']);
    assert.is(processesOfDataDir(dir).length, 1, 'the pod runs as one process');
    first.kill('SIGKILL');
    await eventually(
      'the pod process to die with the agent',
      async () => (processesOfDataDir(dir).length === 0 ? true : undefined),
      10_000,
    );
  } finally {
    first.kill('SIGKILL');
  }
  const second = startAgent();
  try {
    await eventually(
      'the restarted agent to run the pod again',
      async () => {
        const pod = JSON.parse(await kubectl(['get', 'pod', 'server', '-o', 'json']));
        const cs = pod.status.containerStatuses?.[0];
        return cs?.ready && cs.restartCount === 1 && processesOfDataDir(dir).length === 1 ? true : undefined;
      },
      30_000,
    );
  } finally {
    second.kill('SIGTERM');
    await new Promise((r) => second.once('exit', r));
  }
  assert.equal(processesOfDataDir(dir), [], 'a stopped agent leaves nothing running');
});

test.run();
