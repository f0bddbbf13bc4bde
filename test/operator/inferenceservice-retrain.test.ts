// Production monitoring → retraining, through the real controller against the dev API server
// and a scripted Prometheus (HTTP API): drift rises from Ok to Warn to Critical, the controller
// reports each level (status, Drifting condition, Events) and creates exactly one TrainingRun
// from retrain.template; while it is in flight and during the cooldown no second run appears.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  API_VERSION,
  Labels,
  type InferenceService,
  type ModelVersion,
  type TrainingRun,
} from '../../operator/api/index.js';
import { inferenceServiceController } from '../../operator/controllers/inferenceservice/index.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { REPO_ROOT } from '../support/models.js';

const NS = 'default';
let cluster: TestCluster;
let client: KubeClient;
let manager: Manager;
let prom: Server;
let dir: string;
/** Live share of samples in the last bin of `brightness` (reference: 10 % per bin). */
let shift = 0.1;

function fakePrometheus(): Promise<string> {
  prom = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      const q = new URLSearchParams(body).get('query') ?? '';
      const result: Array<{ metric: Record<string, string>; value: [number, string] }> = [];
      const now = Date.now() / 1000;
      if (q.includes('modelship_feature_bin_total')) {
        for (let bin = 0; bin < 10; bin++) {
          const share = bin === 9 ? shift : (1 - shift) / 9;
          result.push({
            metric: { feature: 'brightness', bin: String(bin) },
            value: [now, String(Math.round(share * 1000))],
          });
        }
      } else if (q.startsWith('sum(increase(modelship_requests_total'))
        result.push({ metric: {}, value: [now, '1000'] });
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result } }));
    });
  });
  return new Promise((resolve) =>
    prom.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(prom.address() as { port: number }).port}`)),
  );
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'isvc-retrain-'));
  cluster = await startTestCluster();
  const r = await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { timeoutMs: 60_000 });
  assert.is(r.code, 0, r.stderr);
  client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
  await waitFor(
    async () => {
      await client.list(Kinds.InferenceService, { namespace: NS });
      return true;
    },
    10_000,
    'CRDs served',
  );
  const promUrl = await fakePrometheus();
  manager = new Manager({
    client,
    log: createLogger({ silent: true }),
    leaderElection: false,
    queueBackoff: { initialMs: 50, maxMs: 500, factor: 2, jitter: 0.1 },
  });
  manager.add(inferenceServiceController({ servingImage: 'modelship/serving:test', prometheusUrl: promUrl }));
  await manager.start();
});

test.after(async () => {
  await manager?.stop();
  await new Promise((r) => (profileServer ? profileServer.close(r) : r(undefined)));
  await new Promise((r) => prom?.close(r));
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

let profileServer: Server | undefined;

async function stableServiceIp(): Promise<string> {
  return waitFor(
    async () => {
      const svc = await client
        .get<{ spec?: { clusterIP?: string } } & Record<string, unknown>>(Kinds.Service, NS, 'faces-stable')
        .catch(() => undefined);
      return svc?.spec?.clusterIP;
    },
    10_000,
    'the stable Service',
    100,
  );
}

/** GET /v2/models/faces/profile on <ip>:80, as the serving pod would answer it. */
function serveProfile(ip: string, digest: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/v2/models/faces/profile') return void res.writeHead(404).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ digest, features: { brightness: { counts: new Array(10).fill(12) } } }));
  });
  return new Promise((resolve) => server.listen(80, ip, () => resolve(server)));
}

test('drift Ok → Warn → Critical; one TrainingRun, none while in flight or in the cooldown', async () => {
  const digest = `sha256:${'a'.repeat(64)}`;
  const mv = await client.create<ModelVersion>({
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: 'faces-v1', namespace: NS },
    spec: { model: 'faces', version: 1, artifact: { uri: `file://${dir}`, digest }, format: 'onnx' },
  } as ModelVersion);
  await client.updateStatus({ ...mv, status: { phase: 'Ready' } });
  const template = {
    model: 'faces',
    image: 'modelship/trainer-image-classifier:test',
    dataset: { uri: 'pvc://data/faces' },
    output: { uri: 'pvc://models/runs' },
  };
  await client.create({
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: 'faces', namespace: NS },
    spec: {
      model: 'faces',
      canary: { minRequests: 100 },
      monitoring: { interval: '1s', drift: { warn: 0.1, critical: 0.5 } },
      retrain: { onDrift: true, cooldown: '1h', template },
    },
  } as InferenceService);
  // No node agent here: play the kubelet for the stable pod the Deployment asks for.
  const pod = await client.create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'faces-stable-0',
      namespace: NS,
      labels: { [Labels.inferenceService]: 'faces', [Labels.role]: 'stable', [Labels.version]: '1' },
    },
    spec: { containers: [{ name: 'serving', image: 'modelship/serving:test' }] },
  });
  await client.updateStatus({ ...pod, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  // ...and the model server behind the stable Service, which the operator asks for the full
  // reference profile (the ModelVersion's status carries none here).
  profileServer = await serveProfile(await stableServiceIp(), digest);
  const isvc = () => client.get<InferenceService>(Kinds.InferenceService, NS, 'faces');
  const level = async (want: string) =>
    waitFor(
      async () => {
        const s = await isvc();
        return s.status?.monitoring?.drift?.level === want ? s : undefined;
      },
      15_000,
      `drift ${want}`,
      100,
    );

  let s = await level('Ok');
  assert.is(s.status?.phase, 'Serving');
  shift = 0.3;
  s = await level('Warn');
  assert.is(s.status?.conditions?.find((c) => c.type === 'Drifting')?.status, 'True');
  assert.equal(
    await client.list(Kinds.TrainingRun, { namespace: NS }).then((l) => l.items.length),
    0,
    'warn does not retrain',
  );
  shift = 0.8;
  s = await level('Critical');
  assert.is(s.status?.monitoring?.drift?.feature, 'brightness');
  const runs = await waitFor(
    async () => {
      const l = await client.list<TrainingRun>(Kinds.TrainingRun, { namespace: NS });
      return l.items.length ? l.items : undefined;
    },
    10_000,
    'TrainingRun',
    100,
  );
  assert.is(runs.length, 1);
  assert.equal(runs[0].spec.model, 'faces');
  assert.is(runs[0].metadata.labels?.[Labels.inferenceService], 'faces');
  s = await isvc();
  assert.is(s.status?.retrain?.lastReason, 'Drift');
  assert.is(s.status?.retrain?.trainingRun, runs[0].metadata.name);
  // Finish the run: still critical, but the cooldown holds.
  await client.updateStatus({ ...runs[0], status: { phase: 'Succeeded' } });
  await new Promise((r) => setTimeout(r, 3000));
  assert.is((await client.list(Kinds.TrainingRun, { namespace: NS })).items.length, 1, 'cooldown respected');
  const events = await client.list<{ reason?: string } & Record<string, unknown>>(Kinds.Event, { namespace: NS });
  const reasons = events.items.map((e) => e.reason);
  for (const r of ['DriftWarn', 'DriftCritical', 'RetrainTriggered'])
    assert.ok(reasons.includes(r), `${r} in ${reasons.join(',')}`);
});

test('children without an informer (router RBAC, feedback Secret) cost one call each, not one per reconcile; no Secret is read', async () => {
  const reconciles = async () =>
    (await manager.metrics.reconcileTotal.get()).values
      .filter((v) => v.labels.controller === 'inferenceservice')
      .reduce((n, v) => n + v.value, 0);
  const byKey = () => cluster.api.counters().byKey;
  // Each is read once (to leave an object the service did not create alone), then applied once.
  const unwatched = [
    'get serviceaccounts',
    'patch serviceaccounts',
    'get roles.rbac.authorization.k8s.io',
    'patch roles.rbac.authorization.k8s.io',
    'get rolebindings.rbac.authorization.k8s.io',
    'patch rolebindings.rbac.authorization.k8s.io',
  ];
  // Two Secrets: the signing keys and the feedback credential.
  const secretsCreated = 2;
  const r0 = await reconciles();
  const c0 = byKey();
  await new Promise((r) => setTimeout(r, 3000)); // monitoring every 1 s: a reconcile each second
  const c1 = byKey();
  assert.ok((await reconciles()) - r0 >= 2, `reconciles in 3 s: ${(await reconciles()) - r0}`);
  for (const k of unwatched) assert.is((c1[k] ?? 0) - (c0[k] ?? 0), 0, `${k} while reconciling at steady state`);
  for (const k of unwatched) assert.is(c1[k] ?? 0, 1, `${k} since the service was created: ${JSON.stringify(c1)}`);
  assert.is((c1['create secrets'] ?? 0) - (c0['create secrets'] ?? 0), 0, 'no Secret created again at steady state');
  assert.is(c1['create secrets'] ?? 0, secretsCreated, 'each feedback Secret created once');
  assert.is(c1['get secrets'] ?? 0, 0, 'the operator never reads a Secret');
});

test.run();
