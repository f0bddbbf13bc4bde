// The node agent runs Jobs as local processes and reports them like a kubelet and the Job
// controller (Kubernetes 1.31): completion with the termination message in the Pod status,
// BackoffLimitExceeded after backoffLimit+1 pods, DeadlineExceeded, TTL, init containers,
// env from ConfigMaps/Secrets/downward API, volume paths mapped under the data dir, Events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { kubectlOk, eventually } from './helpers.js';
import { processesOfDataDir } from '../../hack/devcluster/agent/orphans.js';
import { readContainerLog } from '../../hack/devcluster/agent/logs.js';

let cluster: TestCluster;

const kubectl = (args: string[], input?: string): Promise<string> => kubectlOk(cluster, args, input);

const jobs = `
apiVersion: batch/v1
kind: Job
metadata: {name: train}
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: step
        image: modelship/test-job:1
        args: [--message, "accuracy=0.93 version=3", --sleep-ms, "200"]
---
apiVersion: batch/v1
kind: Job
metadata: {name: broken}
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: step
        image: busybox:1.36
        command: [sh, -c, "echo failing >&2; exit 3"]
---
apiVersion: batch/v1
kind: Job
metadata: {name: slow}
spec:
  activeDeadlineSeconds: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: step
        image: busybox
        command: [sh, -c, "sleep 60"]
`;

const envAndVolumes = `
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {MODE: fast, greeting.txt: "hello from a configmap"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {token: s3cr3t}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: store}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: writer}
spec:
  template:
    metadata: {labels: {team: ml}}
    spec:
      restartPolicy: Never
      volumes:
      - {name: data, persistentVolumeClaim: {claimName: store}}
      - {name: cfg, configMap: {name: settings}}
      containers:
      - name: step
        image: busybox
        command: [sh, -c, 'mkdir -p /data/out && echo "$POD_NAME $TEAM $MODE $TOKEN $(cat /etc/cfg/greeting.txt)" > /data/out/result.txt && printf written > /dev/termination-log']
        env:
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: TEAM, valueFrom: {fieldRef: {fieldPath: "metadata.labels['team']"}}}
        - {name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}
        envFrom: [{configMapRef: {name: settings}}]
        volumeMounts:
        - {name: data, mountPath: /data}
        - {name: cfg, mountPath: /etc/cfg}
`;

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
});

test.after(async () => {
  const dir = cluster?.dir;
  await cluster?.stop();
  if (dir) assert.equal(processesOfDataDir(dir), [], 'no pod process survives the cluster');
});

test('a Job runs to completion and its termination message appears in the Pod status', async () => {
  await kubectl(['apply', '-f', '-'], jobs);
  await kubectl(['wait', '--for=condition=Complete', 'job/train', '--timeout=30s']);
  const message = await kubectl([
    'get',
    'pod',
    '-l',
    'job-name=train',
    '-o',
    'jsonpath={.items[0].status.containerStatuses[0].state.terminated.message}',
  ]);
  assert.is(message, 'accuracy=0.93 version=3');
  const job = JSON.parse(await kubectl(['get', 'job', 'train', '-o', 'json']));
  assert.equal([job.status.succeeded, job.status.active], [1, undefined]);
  assert.ok(job.status.startTime && job.status.completionTime);
  assert.equal(
    job.status.conditions.map((c: any) => `${c.type}/${c.reason}`),
    ['SuccessCriteriaMet/CompletionsReached', 'Complete/CompletionsReached'],
  );
  const pod = JSON.parse(await kubectl(['get', 'pod', '-l', 'job-name=train', '-o', 'json'])).items[0];
  assert.is(pod.status.phase, 'Succeeded');
  assert.equal(
    [
      pod.status.containerStatuses[0].state.terminated.exitCode,
      pod.status.containerStatuses[0].state.terminated.reason,
    ],
    [0, 'Completed'],
  );
  assert.match(pod.status.podIP, /^127\.64\./);
});

test('the controllers and the kubelet record Events, as kubectl describe shows them', async () => {
  const podName = await kubectl(['get', 'pod', '-l', 'job-name=train', '-o', 'jsonpath={.items[0].metadata.name}']);
  const reasons = await eventually('the events', async () => {
    const items = JSON.parse(await kubectl(['get', 'events', '-o', 'json'])).items as any[];
    const seen = new Set(items.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}/${e.reason}`));
    const wanted = [
      `Job/train/SuccessfulCreate`,
      `Job/train/Completed`,
      `Pod/${podName}/Scheduled`,
      `Pod/${podName}/Started`,
    ];
    return wanted.every((w) => seen.has(w)) ? seen : undefined;
  });
  assert.ok(reasons.has(`Pod/${podName}/Created`));
});

test('a failing Job ends Failed with BackoffLimitExceeded after backoffLimit+1 pods', async () => {
  await kubectl(['wait', '--for=condition=Failed', 'job/broken', '--timeout=40s']);
  const job = JSON.parse(await kubectl(['get', 'job', 'broken', '-o', 'json']));
  assert.is(job.status.failed, 3);
  assert.equal(
    job.status.conditions.map((c: any) => `${c.type}/${c.reason}`),
    ['FailureTarget/BackoffLimitExceeded', 'Failed/BackoffLimitExceeded'],
  );
  const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'job-name=broken', '-o', 'json'])).items;
  assert.is(pods.length, 3);
  for (const p of pods) {
    assert.is(
      readContainerLog(cluster.dir, 'default', p.metadata.name, p.metadata.uid, 'step'),
      'failing\n',
      'stderr kept under <dataDir>/logs',
    );
    assert.is(p.status.phase, 'Failed');
    assert.equal(
      [p.status.containerStatuses[0].state.terminated.exitCode, p.status.containerStatuses[0].state.terminated.reason],
      [3, 'Error'],
    );
  }
});

test('activeDeadlineSeconds fails the Job with DeadlineExceeded and stops its pod', async () => {
  await kubectl(['wait', '--for=condition=Failed', 'job/slow', '--timeout=30s']);
  const job = JSON.parse(await kubectl(['get', 'job', 'slow', '-o', 'json']));
  assert.equal(
    job.status.conditions.map((c: any) => `${c.type}/${c.reason}`),
    ['FailureTarget/DeadlineExceeded', 'Failed/DeadlineExceeded'],
  );
  assert.is(job.status.conditions[1].message, 'Job was active longer than specified deadline');
  await eventually('the deadline-exceeded pod to be gone', async () => {
    const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'job-name=slow', '-o', 'json'])).items;
    return pods.length === 0 ? true : undefined;
  });
});

test('env from downward API, ConfigMap and Secret; PVC, configMap volume and termination path mapped to host folders', async () => {
  await kubectl(['apply', '-f', '-'], envAndVolumes);
  await kubectl(['wait', '--for=condition=Complete', 'job/writer', '--timeout=30s']);
  const pod = JSON.parse(await kubectl(['get', 'pod', '-l', 'job-name=writer', '-o', 'json'])).items[0];
  const file = join(cluster.dir, 'volumes', 'pvc', 'default', 'store', 'out', 'result.txt');
  assert.ok(existsSync(file), `${file} exists`);
  assert.is(readFileSync(file, 'utf8').trim(), `${pod.metadata.name} ml fast s3cr3t hello from a configmap`);
  assert.is(pod.status.containerStatuses[0].state.terminated.message, 'written');
  assert.is(await kubectl(['get', 'pvc', 'store', '-o', 'jsonpath={.status.phase}']), 'Bound');
  assert.not.ok(existsSync('/data/out/result.txt'), 'nothing written at the container path on the host');
});

test('init containers run in order before the app container and share its volumes', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: batch/v1
kind: Job
metadata: {name: staged}
spec:
  template:
    spec:
      restartPolicy: Never
      volumes: [{name: work, emptyDir: {}}]
      initContainers:
      - {name: fetch, image: busybox, command: [sh, -c, "echo fetched > /work/state"], volumeMounts: [{name: work, mountPath: /work}]}
      - {name: prepare, image: busybox, command: [sh, -c, "echo prepared >> /work/state"], volumeMounts: [{name: work, mountPath: /work}]}
      containers:
      - {name: main, image: busybox, command: [sh, -c, "tr '\\n' ' ' < /work/state > /dev/termination-log"], volumeMounts: [{name: work, mountPath: /work}]}
`,
  );
  await kubectl(['wait', '--for=condition=Complete', 'job/staged', '--timeout=30s']);
  const pod = JSON.parse(await kubectl(['get', 'pod', '-l', 'job-name=staged', '-o', 'json'])).items[0];
  assert.is(pod.status.containerStatuses[0].state.terminated.message, 'fetched prepared ');
  assert.equal(
    pod.status.initContainerStatuses.map((c: any) => `${c.name}:${c.state.terminated.reason}`),
    ['fetch:Completed', 'prepare:Completed'],
  );
});

test('ttlSecondsAfterFinished removes a finished Job', async () => {
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: batch/v1
kind: Job
metadata: {name: shortlived}
spec:
  ttlSecondsAfterFinished: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: step, image: busybox, command: [sh, -c, "exit 0"]}]
`,
  );
  await eventually('the Job to be deleted after its TTL', async () => {
    const r = await cluster.kubectl(['get', 'job', 'shortlived', '-o', 'name']);
    return r.code !== 0 && /NotFound/.test(r.stderr) ? true : undefined;
  });
});

test.run();
