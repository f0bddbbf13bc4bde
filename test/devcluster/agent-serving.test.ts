// The project's own images run under the node agent as images.yaml maps them: the serving
// image (node --import tsx serving/main.ts, cwd = repo root) serves a real model from a PVC
// mounted at a container path (rewritten to the PVC's host folder), becomes Ready through its
// OIP readiness endpoint and answers through its Service's cluster IP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { kubectlOk, httpGet } from './helpers.js';
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
  accessModes: [ReadWriteOnce]
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
        env: [{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
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
  const ready = await get(`http://${clusterIP}:9382/v2/health/ready`);
  assert.is(ready.status, 200);
  const pod = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=model', '-o', 'json'])).items[0];
  assert.equal(
    [pod.status.phase, pod.status.containerStatuses[0].ready, pod.status.containerStatuses[0].restartCount],
    ['Running', true, 0],
  );
});

test.run();
