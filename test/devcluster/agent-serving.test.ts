// The project's own images run under the node agent as images.yaml maps them: the serving
// image (node --import tsx serving/main.ts, cwd = repo root) serves a real model from a PVC
// mounted at a container path (rewritten to the PVC's host folder), becomes Ready through its
// OIP readiness endpoint and answers through its Service's cluster IP; and a rolling restart
// under keep-alive load loses no request, though the proxy learns of the terminating pod late.
// The server listens on all addresses, as in a pod's own network namespace: old and new pod
// both on port 8080 during the restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { Agent, request } from 'node:http';
import { kubectlOk, httpGet, eventually } from './helpers.js';
import { ensureTabularModel } from '../support/models.js';

let cluster: TestCluster;

const kubectl = (args: string[], input?: string): Promise<string> => kubectlOk(cluster, args, input, 90_000);

const get = (url: string): ReturnType<typeof httpGet> => httpGet(url, 5_000);

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
});

test.after(async () => {
  await cluster?.stop();
});

test('the serving image serves a model from a PVC and becomes Available', async () => {
  const model = await ensureTabularModel();
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: models}
spec:
  # Read by every replica, also across nodes while a rolling update runs two pods (a
  # ReadWriteOnce volume would stop the new pod at Multi-Attach, as on a real cluster).
  accessModes: [ReadOnlyMany]
  resources: {requests: {storage: 1Gi}}
`,
  );
  await kubectl(['wait', '--for=jsonpath={.status.phase}=Bound', 'pvc/models', '--timeout=20s']);
  cpSync(model, join(cluster.dir, 'volumes', 'pvc', 'default', 'models', 'tabular'), { recursive: true });
  await kubectl(
    ['apply', '-f', '-'],
    `
apiVersion: apps/v1
kind: Deployment
metadata: {name: model}
spec:
  replicas: 1
  selector: {matchLabels: {app: model}}
  template:
    metadata: {labels: {app: model}}
    spec:
      volumes: [{name: models, persistentVolumeClaim: {claimName: models}}]
      containers:
      - name: serving
        image: modelship/serving:0.1.0
        args: [serve, --model-dir, /models/tabular]
        ports: [{name: http, containerPort: 8080}]
        volumeMounts: [{name: models, mountPath: /models, readOnly: true}]
        readinessProbe:
          httpGet: {path: /v2/health/ready, port: http}
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata: {name: model}
spec:
  selector: {app: model}
  ports: [{name: http, port: 9382, targetPort: http}]  # unusual: parallel clusters share 127.96.0.0/16
`,
  );
  await kubectl(['wait', '--for=condition=Available', 'deployment/model', '--timeout=90s']);
  const clusterIP = await kubectl(['get', 'svc', 'model', '-o', 'jsonpath={.spec.clusterIP}']);
  // The proxy may program the Service's endpoints up to a second after the pod is Ready.
  const ready = await eventually('the Service to answer', () => get(`http://${clusterIP}:9382/v2/health/ready`));
  assert.is(ready.status, 200);
  const pod = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=model', '-o', 'json'])).items[0];
  assert.equal(
    [pod.status.phase, pod.status.containerStatuses[0].ready, pod.status.containerStatuses[0].restartCount],
    ['Running', true, 0],
  );
});

/** One POST /predict through `agent`: the status, or the error's message. */
function predict(agent: Agent, url: URL): Promise<number | string> {
  const body = JSON.stringify({
    inputs: [{ sepal_length: 6.4, sepal_width: 3.2, petal_length: 4.5, petal_width: 1.5 }],
  });
  return new Promise((resolve) => {
    const req = request(
      { agent, host: url.hostname, port: url.port, path: '/predict', method: 'POST', timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.setHeader('content-type', 'application/json');
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve(err.message));
    req.end(body);
  });
}

// What a router's pool does to a serving Deployment during every rolling update: keep-alive
// connections pinned to the old pod, new connections sent to it until the proxy catches up.
test('a rolling restart under keep-alive load answers every request', async () => {
  const clusterIP = await kubectl(['get', 'svc', 'model', '-o', 'jsonpath={.spec.clusterIP}']);
  const url = new URL(`http://${clusterIP}:9382`);
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const outcomes = new Map<number | string, number>();
  let running = true;
  const client = async () => {
    while (running) {
      const outcome = await predict(agent, url);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  };
  const load = Promise.all([client(), client(), client(), client()]);
  const before = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=model', '-o', 'json'])).items;
  await kubectl(['rollout', 'restart', 'deployment/model']);
  await kubectl(['rollout', 'status', 'deployment/model', '--timeout=60s']);
  await kubectl(['wait', '--for=delete', `pod/${before[0].metadata.name}`, '--timeout=60s']);
  running = false;
  await load;
  agent.destroy();
  const answered = outcomes.get(200) ?? 0;
  assert.ok(answered > 50, `only ${answered} requests answered`);
  assert.equal(Object.fromEntries(outcomes), { 200: answered }, 'every request answered 200');
});

test.run();
