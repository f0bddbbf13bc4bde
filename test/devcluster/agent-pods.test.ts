// The node agent's kubelet on plain Pods: ErrImagePull and StartError, crash-loop restarts and
// liveness probes, graceful deletion, Service DNS names and link env vars, node registration,
// and no API writes once the cluster has settled.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { kubectlOk, eventually } from './helpers.js';
import { processesOfDataDir } from '../../hack/devcluster/agent/orphans.js';
import { readContainerLog } from '../../hack/devcluster/agent/logs.js';
import { POD_UID_ENV } from '../../hack/devcluster/agent/pod-worker.js';

let cluster: TestCluster;

const kubectl = (args: string[], input?: string): Promise<string> => kubectlOk(cluster, args, input);

const nosuch = `
apiVersion: v1
kind: Pod
metadata: {name: nosuch}
spec:
  containers:
  - name: c
    image: registry.example.com/nosuch/image:1
`;

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
});

test.after(async () => {
  const dir = cluster?.dir;
  await cluster?.stop();
  if (dir) assert.equal(processesOfDataDir(dir), [], 'no pod process survives the cluster');
});

test('an unknown image is reported as ErrImagePull / ImagePullBackOff with a message', async () => {
  await kubectl(['apply', '-f', '-'], nosuch);
  // ContainerCreating comes first (the kubelet reports it before the pull fails, as here).
  const state = await eventually('a waiting state of the pull', async () => {
    const s = JSON.parse(await kubectl(['get', 'pod', 'nosuch', '-o', 'json'])).status;
    const waiting = s.containerStatuses?.[0]?.state?.waiting;
    return waiting?.reason === 'ContainerCreating' ? undefined : waiting;
  });
  assert.ok(['ErrImagePull', 'ImagePullBackOff'].includes(state.reason), state.reason);
  assert.match(state.message, /nosuch\/image.*images\.yaml/);
  assert.is(await kubectl(['get', 'pod', 'nosuch', '-o', 'jsonpath={.status.phase}']), 'Pending');
  await eventually('a Failed event for the pull', async () => {
    const items = JSON.parse(await kubectl(['get', 'events', '-o', 'json'])).items as any[];
    return items.some(
      (e) =>
        e.involvedObject.name === 'nosuch' &&
        e.reason === 'Failed' &&
        e.type === 'Warning' &&
        /nosuch\/image/.test(e.message),
    )
      ? true
      : undefined;
  });
});

test('a command that does not exist ends as StartError with a message', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: Pod
metadata: {name: nobinary}
spec:
  restartPolicy: Never
  containers: [{name: c, image: busybox, command: [no-such-binary-xyz, --flag]}]
`,
  );
  const terminated = await eventually('the container to terminate', async () => {
    const s = JSON.parse(await kubectl(['get', 'pod', 'nobinary', '-o', 'json'])).status;
    return s.phase === 'Failed' ? s.containerStatuses[0].state.terminated : undefined;
  });
  assert.is(terminated.reason, 'StartError');
  assert.match(terminated.message, /no-such-binary-xyz/);
});

test('restartPolicy Always restarts a crashing container with back-off; a failing liveness probe restarts it', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  containers:
  - name: c
    image: busybox
    command: [sh, -c, "echo boom; exit 2"]
---
apiVersion: v1
kind: Pod
metadata: {name: unhealthy}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: server
    image: modelship/test-http-server:1
    env: [{name: PORT, value: "8081"}]
    livenessProbe:
      httpGet: {path: /status/500, port: 8081}
      periodSeconds: 1
      failureThreshold: 2
`,
  );
  const crasher = await eventually('two restarts', async () => {
    const p = JSON.parse(await kubectl(['get', 'pod', 'crasher', '-o', 'json']));
    return p.status.containerStatuses?.[0]?.restartCount >= 2 ? p : undefined;
  });
  const cs = crasher.status.containerStatuses[0];
  assert.is(crasher.status.phase, 'Running');
  assert.equal([cs.lastState.terminated.exitCode, cs.lastState.terminated.reason], [2, 'Error']);
  assert.ok(
    cs.state.waiting?.reason === 'CrashLoopBackOff' || cs.state.running || cs.state.terminated,
    JSON.stringify(cs.state),
  );
  assert.is(
    readContainerLog(cluster.dir, 'default', 'crasher', crasher.metadata.uid, 'c', { previous: true }),
    'boom\n',
  );
  const unhealthy = await eventually('a liveness restart', async () => {
    const p = JSON.parse(await kubectl(['get', 'pod', 'unhealthy', '-o', 'json']));
    return p.status.containerStatuses?.[0]?.restartCount >= 1 ? p : undefined;
  });
  assert.is(
    unhealthy.status.containerStatuses[0].lastState.terminated.exitCode,
    0,
    'the server exits cleanly on SIGTERM',
  );
  await kubectl(['delete', 'pod', 'crasher', 'unhealthy', '--wait=true']);
});

test('pods reach Services by DNS name (Node processes) and by service link env vars', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: Pod
metadata: {name: echo, labels: {app: echo}}
spec:
  containers:
  - name: server
    image: modelship/test-http-server:1
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: echo-svc}
spec:
  selector: {app: echo}
  ports: [{name: web, port: 9381, targetPort: http}]  # unusual: parallel clusters share 127.96.0.0/16
`,
  );
  await kubectl(['wait', '--for=condition=Ready', 'pod/echo', '--timeout=20s']);
  const clusterIP = await kubectl(['get', 'svc', 'echo-svc', '-o', 'jsonpath={.spec.clusterIP}']);
  // As on a real cluster, the proxy may program the Service up to a second after the pod is Ready.
  await eventually('the Service to answer', () =>
    fetch(`http://${clusterIP}:9381/`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok || undefined,
      () => undefined,
    ),
  );
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: batch/v1
kind: Job
metadata: {name: client}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox
        command:
        - node
        - -e
        - |
          const names = ['echo-svc', 'echo-svc.default.svc', 'echo-svc.default.svc.cluster.local'];
          Promise.all(names.map((n) => fetch('http://' + n + ':9381/').then((r) => r.text())))
            .then((bodies) => require('fs').writeFileSync('/dev/termination-log',
              bodies.map((b) => b.trim()).join('|') + ' ' + process.env.ECHO_SVC_SERVICE_HOST + ':' + process.env.ECHO_SVC_SERVICE_PORT_WEB));
`,
  );
  await kubectl(['wait', '--for=condition=Complete', 'job/client', '--timeout=30s']);
  const message = await kubectl([
    'get',
    'pod',
    '-l',
    'job-name=client',
    '-o',
    'jsonpath={.items[0].status.containerStatuses[0].state.terminated.message}',
  ]);
  assert.is(message, `hello from echo|hello from echo|hello from echo ${clusterIP}:9381`);
});

test('deleting a pod sends SIGTERM, then SIGKILL after terminationGracePeriodSeconds', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 2
  containers: [{name: c, image: busybox, command: [sh, -c, "trap '' TERM; echo started; sleep 300"]}]
`,
  );
  await kubectl(['wait', '--for=condition=Ready', 'pod/stubborn', '--timeout=20s']);
  const uid = await kubectl(['get', 'pod', 'stubborn', '-o', 'jsonpath={.metadata.uid}']);
  const alive = () =>
    processesOfDataDir(cluster.dir).some((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`${POD_UID_ENV}=${uid}`);
      } catch {
        return false;
      }
    });
  assert.ok(alive(), 'the pod runs as a process');
  const started = Date.now();
  await kubectl(['delete', 'pod', 'stubborn', '--wait=false']);
  // Graceful deletion: the pod stays, Terminating, until its kubelet has stopped it.
  const terminating = JSON.parse(await kubectl(['get', 'pod', 'stubborn', '-o', 'json']));
  assert.is(terminating.metadata.deletionGracePeriodSeconds, 2);
  assert.ok(terminating.metadata.deletionTimestamp, 'a deletionTimestamp (now + grace)');
  assert.match(await kubectl(['get', 'pod', 'stubborn', '--no-headers']), /\bTerminating\b/);
  // Killed well before its 300 s sleep ends (the wait fails the test after 20 s).
  await eventually('the process to be killed', async () => (alive() ? undefined : true), 20_000);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 1_500, `a process ignoring SIGTERM lives through the grace period (${elapsed} ms)`);
  await eventually(
    'the kubelet to delete the pod for good',
    async () => (await cluster.kubectl(['get', 'pod', 'stubborn'])).stderr.includes('NotFound') || undefined,
  );
});

test('both nodes are registered Ready, and a settled cluster makes no writes', async () => {
  for (const node of ['devcluster-a', 'devcluster-b']) {
    assert.is(
      await kubectl(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']),
      'True',
      node,
    );
  }
  await new Promise((r) => setTimeout(r, 2_500)); // let the image-pull back-off settle
  cluster.api.resetCounters();
  await new Promise((r) => setTimeout(r, 3_000));
  const counters = cluster.api.counters();
  assert.is(counters.writes, 0, `writes at steady state: ${JSON.stringify(counters.byKey)}`);
});

test.run();
