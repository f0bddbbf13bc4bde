// The node agent runs a Deployment of a trivial HTTP server like kube-controller-manager and a
// kubelet would: it becomes Available (kubectl wait), is reachable through its Service's
// cluster IP, is scraped by the real Prometheus, gates endpoints on the readiness probe, refuses
// connects to a Service without ready endpoints, and
// scaling to zero or stopping the cluster leaves no process behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { kubectlOk, eventually, httpGet } from './helpers.js';
import { processesOfDataDir } from '../../hack/devcluster/agent/orphans.js';
import { POD_UID_ENV } from '../../hack/devcluster/agent/pod-worker.js';
import { DEFAULT_MIN_SYNC_MS } from '../../hack/devcluster/agent/service-proxy.js';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';

let cluster: TestCluster;

const kubectl = (args: string[], input?: string): Promise<string> => kubectlOk(cluster, args, input);

const get = httpGet;

async function promQuery(promql: string): Promise<any[]> {
  const res = await fetch(`${cluster.prometheusUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as any;
  return body.data.result;
}

/** Pod uids of the processes this cluster's agent runs. */
function runningPodUids(): Set<string> {
  const uids = new Set<string>();
  for (const pid of processesOfDataDir(cluster.dir)) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      const uid = env.find((e) => e.startsWith(`${POD_UID_ENV}=`));
      if (uid) uids.add(uid.slice(POD_UID_ENV.length + 1));
    } catch {
      // exited meanwhile
    }
  }
  return uids;
}

// Service ports are unusual on purpose: parallel dev clusters share the host's loopback and
// their API servers hand out cluster IPs from the same 127.96.0.0/16 range.
const web = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web, modelship.dev/model: flowers}
      annotations: {prometheus.io/scrape: "true", prometheus.io/port: "8080", prometheus.io/path: /metrics}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: server
        image: modelship/test-http-server:dev
        ports: [{name: http, containerPort: 8080}]
        env: [{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 9380, targetPort: http}]
`;

test.before(async () => {
  cluster = await startTestCluster({ agent: true, prometheus: true });
});

test.after(async () => {
  const dir = cluster?.dir;
  await cluster?.stop();
  if (dir) assert.equal(processesOfDataDir(dir), [], 'no process of this cluster survives its stop');
});

test('a Deployment becomes Available through the agent and is reachable through its Service', async () => {
  await kubectl(['apply', '-f', '-'], web);
  await kubectl(['wait', '--for=condition=Available', 'deployment/web', '--timeout=40s']);
  await kubectl(['rollout', 'status', 'deployment/web', '--timeout=40s']);
  const deploy = JSON.parse(await kubectl(['get', 'deployment', 'web', '-o', 'json']));
  assert.equal(
    [
      deploy.status.replicas,
      deploy.status.readyReplicas,
      deploy.status.availableReplicas,
      deploy.status.updatedReplicas,
    ],
    [2, 2, 2, 2],
  );
  assert.is(deploy.status.observedGeneration, deploy.metadata.generation);
  const rs = JSON.parse(await kubectl(['get', 'rs', '-l', 'app=web', '-o', 'json'])).items;
  assert.is(rs.length, 1);
  assert.is(rs[0].metadata.ownerReferences[0].kind, 'Deployment');
  const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  assert.is(pods.length, 2);
  assert.ok(pods.every((p: any) => p.metadata.ownerReferences[0].controller && p.metadata.labels['pod-template-hash']));
  assert.is.not(pods[0].status.podIP, pods[1].status.podIP);

  const slices = JSON.parse(
    await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web', '-o', 'json']),
  ).items;
  assert.equal(
    slices.flatMap((s: any) => s.endpoints.map((e: any) => `${e.addresses[0]}:${e.conditions.ready}`)).sort(),
    pods.map((p: any) => `${p.status.podIP}:true`).sort(),
  );
  const clusterIP = await kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
  const seen = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const r = await eventually('the service to answer', () =>
      get(`http://${clusterIP}:9380/`).then((x) => (x.status === 200 ? x : undefined)),
    );
    seen.add(r.body.trim());
  }
  assert.equal(
    [...seen].sort(),
    pods.map((p: any) => `hello from ${p.metadata.name}`).sort(),
    'round-robin over both pods',
  );
});

test('Prometheus scrapes the annotated pods with namespace, pod and label names', async () => {
  const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  const name = pods[0].metadata.name;
  const up = await eventually(
    'up == 1 for the pod',
    async () => {
      const r = await promQuery(`up{namespace="default",pod="${name}"}`);
      return r.length === 1 && r[0].value[1] === '1' ? r[0] : undefined;
    },
    40_000,
  );
  assert.equal(
    [up.metric.app, up.metric.modelship_dev_model, up.metric.instance],
    ['web', 'flowers', `${pods[0].status.podIP}:8080`],
  );
  const served = await eventually('a metric of the server', async () => {
    const r = await promQuery(`testserver_requests_total{pod="${name}",path="/metrics"}`);
    return r.length ? Number(r[0].value[1]) : undefined;
  });
  assert.ok(served >= 1);
  const api = await eventually('the API server scraped', async () => {
    const r = await promQuery('up{job="devcluster-apiserver"}');
    return r.length ? r[0].value[1] : undefined;
  });
  assert.is(api, '1');
});

test('the readiness probe gates endpoints and the Service', async () => {
  const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  const [a, b] = pods;
  await get(`http://${a.status.podIP}:8080/set-ready?value=false`);
  await eventually('pod a to leave the ready addresses', async () => {
    const ep = JSON.parse(await kubectl(['get', 'endpoints', 'web', '-o', 'json']));
    const ready = (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((x: any) => x.ip));
    const notReady = (ep.subsets ?? []).flatMap((s: any) => (s.notReadyAddresses ?? []).map((x: any) => x.ip));
    return ready.length === 1 && ready[0] === b.status.podIP && notReady[0] === a.status.podIP ? true : undefined;
  });
  assert.is(
    await kubectl(['get', 'pod', a.metadata.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']),
    'False',
  );
  const clusterIP = await kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
  // The proxy programs an endpoints change within its minimum sync period, as kube-proxy does.
  await new Promise((r) => setTimeout(r, DEFAULT_MIN_SYNC_MS + 200));
  for (let i = 0; i < 4; i++)
    assert.is((await get(`http://${clusterIP}:9380/`)).body.trim(), `hello from ${b.metadata.name}`);
  const deploy = JSON.parse(await kubectl(['get', 'deployment', 'web', '-o', 'json']));
  assert.is(deploy.status.readyReplicas, 1);
  await get(`http://${a.status.podIP}:8080/set-ready?value=true`);
  await kubectl(['wait', '--for=condition=Ready', `pod/${a.metadata.name}`, '--timeout=20s']);
});

/** Opens a TCP connection, resolving with the socket or the connect error's code. */
function connect(host: string, port: number): Promise<net.Socket | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

/** Sends one keep-alive GET on an open socket and resolves with the raw response head and body. */
function getOn(socket: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (/hello from \S+/.test(text)) {
        socket.off('data', onData);
        resolve(text);
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.write('GET / HTTP/1.1\r\nHost: web\r\nConnection: keep-alive\r\n\r\n');
  });
}

test('a Service without ready endpoints refuses connects; open connections stay', async () => {
  const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  const clusterIP = await kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}']);
  const open = await connect(clusterIP, 9380);
  if (typeof open === 'string') throw new Error(`the Service should accept while it has endpoints: ${open}`);
  const servedBy = /hello from (\S+)/.exec(await getOn(open))![1];
  for (const p of pods) await get(`http://${p.status.podIP}:8080/set-ready?value=false`);
  await eventually('the Service to have no ready address', async () => {
    const ep = JSON.parse(await kubectl(['get', 'endpoints', 'web', '-o', 'json']));
    return (ep.subsets ?? []).every((s: any) => !s.addresses?.length) || undefined;
  });
  // kube-proxy REJECTs with icmp-port-unreachable: the client's connect fails at once. The
  // proxy programs the change within its minimum sync period (more on a loaded machine, as its
  // informer may lag kubectl's read); a proxy that never refuses times the wait out.
  const refused = await eventually(
    'connects to be refused',
    async () => {
      const r = await connect(clusterIP, 9380);
      if (typeof r !== 'string') r.destroy();
      return r === 'ECONNREFUSED' ? r : undefined;
    },
    5 * DEFAULT_MIN_SYNC_MS + 5_000,
  );
  assert.is(refused, 'ECONNREFUSED');
  // conntrack keeps an established flow to its pod whatever the Service's endpoints say.
  assert.match(await getOn(open), `hello from ${servedBy}`);
  open.destroy();
  for (const p of pods) await get(`http://${p.status.podIP}:8080/set-ready?value=true`);
  const back = await eventually('the Service to accept again', async () => {
    const s = await connect(clusterIP, 9380);
    if (typeof s === 'string') return undefined;
    s.destroy();
    return true;
  });
  assert.ok(back);
});

test('a template change rolls out a new ReplicaSet and scales the old one to zero', async () => {
  const oldPods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items.map(
    (p: any) => p.metadata.name,
  );
  await kubectl(['set', 'env', 'deployment/web', 'GREETING=v2']);
  await kubectl(['rollout', 'status', 'deployment/web', '--timeout=40s']);
  const deploy = JSON.parse(await kubectl(['get', 'deployment', 'web', '-o', 'json']));
  assert.is(deploy.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  assert.equal([deploy.status.replicas, deploy.status.updatedReplicas, deploy.status.availableReplicas], [2, 2, 2]);
  const rs = JSON.parse(await kubectl(['get', 'rs', '-l', 'app=web', '-o', 'json'])).items;
  const byRevision = Object.fromEntries(
    rs.map((r: any) => [r.metadata.annotations['deployment.kubernetes.io/revision'], r.spec.replicas]),
  );
  assert.equal(byRevision, { 1: 0, 2: 2 });
  const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
  assert.is(pods.length, 2);
  assert.ok(
    pods.every(
      (p: any) =>
        !oldPods.includes(p.metadata.name) && p.spec.containers[0].env.some((e: any) => e.name === 'GREETING'),
    ),
  );

  await kubectl(['rollout', 'undo', 'deployment/web']);
  await kubectl(['rollout', 'status', 'deployment/web', '--timeout=40s']);
  const undone = JSON.parse(await kubectl(['get', 'deployment', 'web', '-o', 'json']));
  assert.is(
    undone.metadata.annotations['deployment.kubernetes.io/revision'],
    '3',
    'a rollback makes the old ReplicaSet the newest revision',
  );
  assert.not.ok(undone.spec.template.spec.containers[0].env.some((e: any) => e.name === 'GREETING'));
  const after = JSON.parse(await kubectl(['get', 'rs', '-l', 'app=web', '-o', 'json'])).items;
  assert.equal(
    Object.fromEntries(
      after.map((r: any) => [r.metadata.annotations['deployment.kubernetes.io/revision'], r.spec.replicas]),
    ),
    { 2: 0, 3: 2 },
  );
});

test('scaling 2 → 0 stops the processes', async () => {
  const uids = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items.map(
    (p: any) => p.metadata.uid,
  );
  const before = runningPodUids();
  assert.ok(
    uids.every((u: string) => before.has(u)),
    'each pod is a running process',
  );
  await kubectl(['scale', 'deployment/web', '--replicas=0']);
  await eventually('the pods to be gone', async () => {
    const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items;
    return pods.length === 0 ? true : undefined;
  });
  await eventually(
    'their processes to exit',
    async () => {
      const now = runningPodUids();
      return uids.some((u: string) => now.has(u)) ? undefined : true;
    },
    15_000,
  );
  const deploy = JSON.parse(await kubectl(['get', 'deployment', 'web', '-o', 'json']));
  assert.equal([deploy.status.replicas ?? 0, deploy.status.availableReplicas ?? 0], [0, 0]);
});

test.run();
