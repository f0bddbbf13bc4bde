// Two nodes on a real agent: the scheduler spreads a Deployment's replicas over both and binds
// through spec.nodeName (visible to the downward API), a ReadWriteOnce claim used from the other
// node waits in ContainerCreating with the Multi-Attach event until it is released, a
// ReadWriteMany claim attaches to both, and a pod no node fits stays Pending with FailedScheduling.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { kubectlOk, eventually } from './helpers.js';
import { processesOfDataDir } from '../../hack/devcluster/agent/orphans.js';

let cluster: TestCluster;
const kubectl = (args: string[], input?: string): Promise<string> => kubectlOk(cluster, args, input);
const getPod = async (name: string) => JSON.parse(await kubectl(['get', 'pod', name, '-o', 'json']));
const events = async (name: string) =>
  (JSON.parse(await kubectl(['get', 'events', '-o', 'json'])).items as any[]).filter(
    (e) => e.involvedObject.name === name,
  );
const running = (name: string) =>
  eventually(`${name} Running`, async () => {
    const p = await getPod(name);
    return p.status?.phase === 'Running' ? p : undefined;
  });

function claimPod(name: string, claim: string, node: { nodeName?: string; hostname?: string }): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  ${node.nodeName ? `nodeName: ${node.nodeName}` : `nodeSelector: {kubernetes.io/hostname: ${node.hostname}}`}
  terminationGracePeriodSeconds: 1
  volumes: [{name: data, persistentVolumeClaim: {claimName: ${claim}}}]
  containers: [{name: c, image: busybox, command: [sh, -c, 'echo hi > /data/${name}; sleep 300'], volumeMounts: [{name: data, mountPath: /data}]}]
`;
}

const claimYaml = (name: string, mode: string) => `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: ${name}}
spec: {accessModes: [${mode}], resources: {requests: {storage: 1Gi}}}
`;

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
});

test.after(async () => {
  const dir = cluster?.dir;
  await cluster?.stop();
  if (dir) assert.equal(processesOfDataDir(dir), [], 'no pod process survives the cluster');
});

test("a Deployment's two replicas land on the two nodes; nodeName reaches the status, events and downward API", async () => {
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 2
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox
        command: [sh, -c, 'echo "node=$NODE"; sleep 300']
        env: [{name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]
`,
  );
  const pods = await eventually('two running replicas', async () => {
    const items = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=spread', '-o', 'json'])).items as any[];
    return items.length === 2 && items.every((p) => p.status?.phase === 'Running') ? items : undefined;
  });
  assert.equal(pods.map((p) => p.spec.nodeName).sort(), ['devcluster-a', 'devcluster-b']);
  for (const p of pods) {
    assert.is(p.status.hostIP, '127.0.0.1');
    const scheduled = (await events(p.metadata.name)).find((e) => e.reason === 'Scheduled');
    assert.is(scheduled?.message, `Successfully assigned default/${p.metadata.name} to ${p.spec.nodeName}`);
    assert.is(scheduled?.source?.component, 'default-scheduler');
    await eventually('the downward API node name in the log', async () =>
      (await kubectl(['logs', p.metadata.name])).includes(`node=${p.spec.nodeName}`) ? true : undefined,
    );
  }
  await kubectl(['delete', 'deployment', 'spread', '--wait=false']);
});

test('an RWO claim used from the other node: ContainerCreating and Multi-Attach until released', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    claimYaml('solo', 'ReadWriteOnce') + '---' + claimPod('holder', 'solo', { nodeName: 'devcluster-a' }),
  );
  await running('holder');
  await kubectl(['apply', '-f', '-'], claimPod('waiter', 'solo', { hostname: 'devcluster-b' }));
  const uid = await kubectl(['get', 'pvc', 'solo', '-o', 'jsonpath={.metadata.uid}']);
  const event = await eventually('the Multi-Attach event', async () =>
    (await events('waiter')).find((e) => e.reason === 'FailedAttachVolume'),
  );
  assert.is(event.type, 'Warning');
  assert.is(event.message, `Multi-Attach error for volume "pvc-${uid}" Volume is already used by pod(s) holder`);
  assert.is(event.source?.component, 'attachdetach-controller');
  const waiting = await eventually('waiter in ContainerCreating', async () => {
    const p = await getPod('waiter');
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating' ? p : undefined;
  });
  assert.is(waiting.spec.nodeName, 'devcluster-b');
  assert.is(waiting.status.phase, 'Pending');
  assert.is(waiting.status.podIP, undefined);
  await new Promise((r) => setTimeout(r, 1_500));
  assert.is((await getPod('waiter')).status.phase, 'Pending', 'still waiting while the holder runs');
  const attachedA = await kubectl(['get', 'node', 'devcluster-a', '-o', 'jsonpath={.status.volumesAttached[*].name}']);
  assert.match(attachedA, `pvc-${uid}`);

  await kubectl(['delete', 'pod', 'holder', '--wait=false']);
  await running('waiter');
  assert.match(
    await kubectl(['get', 'node', 'devcluster-b', '-o', 'jsonpath={.status.volumesAttached[*].name}']),
    `pvc-${uid}`,
  );
  assert.not.match(
    await kubectl(['get', 'node', 'devcluster-a', '-o', 'jsonpath={.status.volumesAttached[*].name}']),
    `pvc-${uid}`,
  );
  await kubectl(['delete', 'pod', 'waiter', '--wait=false']);
});

test('an RWX claim attaches to both nodes at once', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    [
      claimYaml('shared', 'ReadWriteMany'),
      claimPod('rwx-a', 'shared', { hostname: 'devcluster-a' }),
      claimPod('rwx-b', 'shared', { hostname: 'devcluster-b' }),
    ].join('---'),
  );
  const [a, b] = [await running('rwx-a'), await running('rwx-b')];
  assert.equal([a.spec.nodeName, b.spec.nodeName], ['devcluster-a', 'devcluster-b']);
  assert.not.ok((await events('rwx-b')).some((e) => e.reason === 'FailedAttachVolume'));
  await kubectl(['delete', 'pod', 'rwx-a', 'rwx-b', '--wait=false']);
});

test('a pod whose nodeSelector no node matches stays Pending with FailedScheduling', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: Pod
metadata: {name: nowhere}
spec:
  nodeSelector: {accelerator: h100}
  containers: [{name: c, image: busybox, command: [sh, -c, 'sleep 300']}]
`,
  );
  const expected =
    "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.";
  const event = await eventually('FailedScheduling', async () =>
    (await events('nowhere')).find((e) => e.reason === 'FailedScheduling'),
  );
  assert.is(event.message, expected);
  assert.is(event.source?.component, 'default-scheduler');
  const p = await getPod('nowhere');
  assert.is(p.status.phase, 'Pending');
  assert.is(p.spec.nodeName, undefined);
  const cond = p.status.conditions.find((c: any) => c.type === 'PodScheduled');
  assert.equal([cond.status, cond.reason, cond.message], ['False', 'Unschedulable', expected]);
  // Labelling a node makes it fit, as kube-scheduler retries on node changes.
  await kubectl(['label', 'node', 'devcluster-b', 'accelerator=h100']);
  const placed = await running('nowhere');
  assert.is(placed.spec.nodeName, 'devcluster-b');
  await kubectl(['label', 'node', 'devcluster-b', 'accelerator-']);
});

test.run();
