// Object storage end to end on the dev cluster with its S3 server (s3rver behind a SigV4
// front): a TrainingRun reads its data set from s3:// and writes its model to s3:// (the real
// PyTorch trainer needs no S3 library: Modelship's fetch and upload steps do the transfers),
// the ModelVersion is validated from a downloaded copy, and an InferenceService serves it with
// two replicas on the two nodes; the same model published on an https:// server is validated and
// served from there. A second run writes its own prefix and leaves the first untouched. Then the unhappy paths, each a condition on the object: a tampered model file
// (DigestMismatch), wrong credentials (StorageAccessDenied) and a missing bucket (NoSuchBucket).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type InferenceService, type ModelVersion, type TrainingRun } from '../../operator/api/index.js';
import { buildControllers } from '../../operator/controllers/registry.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { ensureWebCa, issueWebCertificate } from '../../hack/devcluster/web-ca/index.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { REPO_ROOT } from '../support/models.js';

const NS = 'default';
const MODEL = 'faces-s3';
const DATA = 's3://modelship-datasets/faces';
const OUTPUT = 's3://modelship-models/faces';
const SECRET = { name: 'modelship-s3' };
let cluster: TestCluster;
let client: KubeClient;
let manager: Manager;
let s3: S3Client;
let dataDir: string;

type Conditioned = {
  status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> };
};
const cond = (obj: Conditioned, type: string) => obj.status?.conditions?.find((c) => c.type === type);

function run(name: string): TrainingRun {
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: { name, namespace: NS },
    spec: {
      model: MODEL,
      image: 'modelship/trainer-image-classifier:e2e',
      hyperparameters: { width: '8', seed: '42', threads: '1', epochs: '2' },
      dataset: { uri: DATA, secretRef: SECRET },
      output: { uri: OUTPUT, secretRef: SECRET },
      resources: { gpus: 0 },
      backoffLimit: 0,
      registration: { enabled: true, validation: { skewTolerance: 0.2, activeDeadlineSeconds: 120 } },
    },
  } as TrainingRun;
}

/** A ModelVersion of an existing artifact, registered by hand (as a user publishing a model would). */
function version(v: number, artifact: ModelVersion['spec']['artifact']): ModelVersion {
  return {
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: `${MODEL}-manual-v${v}`, namespace: NS },
    spec: { model: `${MODEL}-manual`, version: v, artifact },
  } as ModelVersion;
}

async function settled<T extends Conditioned & { status?: { phase?: string } }>(
  kind: typeof Kinds.TrainingRun | typeof Kinds.ModelVersion,
  name: string,
  phases: string[],
  timeoutMs: number,
): Promise<T> {
  return waitFor(
    async () => {
      const obj = await client.get<T>(kind, NS, name);
      return phases.includes(obj.status?.phase ?? '') ? obj : undefined;
    },
    timeoutMs,
    `${kind.kind} ${name} in ${phases.join('/')}`,
    250,
  );
}

/** The predictions of `service` for one of the data set's images, through its router (retried while it starts). */
async function predictionsOf(service: string, imageFile: string): Promise<unknown[]> {
  const svc = await client.get<{ spec?: { clusterIP?: string } } & Record<string, unknown>>(Kinds.Service, NS, service);
  const image = readFileSync(join(dataDir, imageFile));
  const answer = await waitFor(
    async () => {
      const res = await fetch(`http://${svc.spec?.clusterIP}:80/predict`, {
        method: 'POST',
        body: new Uint8Array(image),
        headers: { 'content-type': 'image/png' },
      }).catch(() => undefined);
      return res?.ok ? ((await res.json()) as { predictions: unknown[] }) : undefined;
    },
    60_000,
    `a prediction of ${service}`,
    500,
  );
  return answer.predictions;
}

async function keysUnder(bucket: string, prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  for (const o of list.Contents ?? []) out[o.Key ?? ''] = o.ETag ?? '';
  return out;
}

async function uploadDataSet(): Promise<void> {
  dataDir = mkdtempSync(join(tmpdir(), 's3-e2e-data-'));
  execFileSync(
    '/usr/bin/python3',
    [join(REPO_ROOT, 'examples/datasets/face_attributes.py'), '--out', dataDir, '--count', '400'],
    {
      stdio: 'ignore',
    },
  );
  for (const file of readdirSync(dataDir)) {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'modelship-datasets',
        Key: `faces/${file}`,
        Body: readFileSync(join(dataDir, file)),
      }),
    );
  }
}

test.before(async () => {
  cluster = await startTestCluster({ agent: true, s3: true });
  const r = await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { timeoutMs: 60_000 });
  assert.is(r.code, 0, r.stderr);
  const { endpoint, accessKeyId, secretAccessKey, region } = cluster.s3!;
  s3 = new S3Client({ endpoint, region, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey } });
  client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
  await waitFor(async () => Boolean(await client.list(Kinds.TrainingRun, { namespace: NS })), 10_000, 'CRDs served');
  await uploadDataSet();
  manager = new Manager({ client, log: createLogger({ silent: true }), leaderElection: false });
  // The S3 credentials are the one Secret these runs name: allowed, as the chart value would.
  for (const c of buildControllers({ namespaces: [], trainingRunAllowlist: { secrets: [SECRET.name] } }))
    manager.add(c);
  await manager.start();
});

test.after(async () => {
  await manager?.stop();
  await cluster?.stop();
  s3?.destroy();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

test('s3:// data set → trainer → s3:// artifact → Ready → served by two replicas on two nodes', async () => {
  await client.create(run('faces-s3-a'));
  const tr = await settled<TrainingRun>(Kinds.TrainingRun, 'faces-s3-a', ['Succeeded', 'Failed'], 180_000);
  assert.is(tr.status?.phase, 'Succeeded', JSON.stringify(tr.status?.conditions));
  assert.is(tr.status?.artifact?.uri, `${OUTPUT}/faces-s3-a`);
  const uploaded = await keysUnder('modelship-models', 'faces/faces-s3-a/');
  assert.ok(
    uploaded['faces/faces-s3-a/model.onnx'] && uploaded['faces/faces-s3-a/modelship.json'],
    JSON.stringify(uploaded),
  );

  const mvName = await waitFor(
    async () => (await client.get<TrainingRun>(Kinds.TrainingRun, NS, 'faces-s3-a')).status?.modelVersion,
    30_000,
    'registered',
  );
  const mv = await settled<ModelVersion>(Kinds.ModelVersion, mvName, ['Ready', 'Rejected'], 120_000);
  assert.is(mv.status?.phase, 'Ready', JSON.stringify(mv.status?.conditions));
  assert.equal(mv.spec.artifact.secretRef, SECRET, 'read with the credentials it was written with');
  // Validation uploaded the profile next to model.onnx, where serving pods find it.
  const profile = await s3.send(
    new GetObjectCommand({ Bucket: 'modelship-models', Key: 'faces/faces-s3-a/profile.json' }),
  );
  assert.match(await profile.Body!.transformToString(), /"features"/);

  await client.create({
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: 'faces-s3', namespace: NS },
    // Two replicas: object storage is what lets pods on both nodes read one model.
    spec: { model: MODEL, replicas: 2 },
  } as InferenceService);
  const serving = await waitFor(
    async () => {
      const s = await client.get<InferenceService>(Kinds.InferenceService, NS, 'faces-s3');
      return (s.status?.stable?.readyReplicas ?? 0) >= 2 ? s : undefined;
    },
    120_000,
    'two ready replicas',
    500,
  );
  assert.is(serving.status?.phase, 'Serving');
  const pods = await client.list<{ spec?: { nodeName?: string } } & Record<string, unknown>>(Kinds.Pod, {
    namespace: NS,
    labelSelector: 'modelship.dev/inference-service=faces-s3,modelship.dev/role=stable',
  });
  assert.is(new Set(pods.items.map((p) => p.spec?.nodeName)).size, 2, 'one replica per node');
  assert.ok((await predictionsOf('faces-s3', '000000.png')).length > 0);
});

test('the same model published on an https:// server: validated and served from it', async () => {
  // Publish the first run's artifact on a web server with a certificate of the dev cluster's
  // stand-in for the public web PKI (the serving image trusts it, as real images trust public CAs).
  const published = mkdtempSync(join(tmpdir(), 's3-e2e-web-'));
  const keys = Object.keys(await keysUnder('modelship-models', 'faces/faces-s3-a/'));
  for (const key of keys) {
    const got = await s3.send(new GetObjectCommand({ Bucket: 'modelship-models', Key: key }));
    const file = join(published, key.slice('faces/faces-s3-a/'.length));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from(await got.Body!.transformToByteArray()));
  }
  // One archive: the whole artifact directory, reference images included (validation needs them).
  const archive = join(published, '..', `${basename(published)}.tar.gz`);
  execFileSync('tar', ['-czf', archive, '-C', published, '.']);
  const web = createHttpsServer(issueWebCertificate(ensureWebCa()), (req, res) => {
    if (req.url !== '/models/faces.tar.gz') return void res.writeHead(404).end();
    res.end(readFileSync(archive));
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  try {
    const port = (web.address() as { port: number }).port;
    const digest = (await client.get<TrainingRun>(Kinds.TrainingRun, NS, 'faces-s3-a')).status!.artifact!.digest!;
    const mv: ModelVersion = {
      apiVersion: API_VERSION,
      kind: 'ModelVersion',
      metadata: { name: 'faces-web-v1', namespace: NS },
      spec: {
        model: 'faces-web',
        version: 1,
        artifact: { uri: `https://127.0.0.1:${port}/models/faces.tar.gz`, digest },
      },
    } as ModelVersion;
    await client.create(mv);
    const ready = await settled<ModelVersion>(Kinds.ModelVersion, 'faces-web-v1', ['Ready', 'Rejected'], 120_000);
    assert.is(ready.status?.phase, 'Ready', JSON.stringify(ready.status?.conditions));
    await client.create({
      apiVersion: API_VERSION,
      kind: 'InferenceService',
      metadata: { name: 'faces-web', namespace: NS },
      spec: { model: 'faces-web' },
    } as InferenceService);
    await waitFor(
      async () =>
        ((await client.get<InferenceService>(Kinds.InferenceService, NS, 'faces-web')).status?.stable?.readyReplicas ??
          0) >= 1,
      120_000,
      'a ready replica serving the published model',
      500,
    );
    assert.ok((await predictionsOf('faces-web', '000001.png')).length > 0);
  } finally {
    await new Promise((r) => web.close(r));
    rmSync(published, { recursive: true, force: true });
    rmSync(archive, { force: true });
  }
});

test('a retrain writes its own prefix; the first artifact is untouched', async () => {
  const before = await keysUnder('modelship-models', 'faces/faces-s3-a/');
  await client.create(run('faces-s3-b'));
  const tr = await settled<TrainingRun>(Kinds.TrainingRun, 'faces-s3-b', ['Succeeded', 'Failed'], 180_000);
  assert.is(tr.status?.phase, 'Succeeded', JSON.stringify(tr.status?.conditions));
  assert.is(tr.status?.artifact?.uri, `${OUTPUT}/faces-s3-b`);
  assert.ok((await keysUnder('modelship-models', 'faces/faces-s3-b/'))['faces/faces-s3-b/model.onnx']);
  assert.equal(await keysUnder('modelship-models', 'faces/faces-s3-a/'), before);
});

test('tampered bytes, wrong credentials, a missing bucket: Rejected with the reason', async () => {
  // A copy of the first artifact with one byte of model.onnx changed after its digest was taken.
  const digest = (await client.get<TrainingRun>(Kinds.TrainingRun, NS, 'faces-s3-a')).status!.artifact!.digest!;
  for (const file of ['modelship.json', 'model.onnx']) {
    const got = await s3.send(new GetObjectCommand({ Bucket: 'modelship-models', Key: `faces/faces-s3-a/${file}` }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    if (file === 'model.onnx') bytes[bytes.length - 1] ^= 0xff;
    await s3.send(new PutObjectCommand({ Bucket: 'modelship-models', Key: `tampered/${file}`, Body: bytes }));
  }
  await client.create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'wrong-s3', namespace: NS },
    stringData: {
      AWS_ACCESS_KEY_ID: 'NOT-A-KEY',
      AWS_SECRET_ACCESS_KEY: 'nope',
      AWS_REGION: cluster.s3!.region,
      AWS_ENDPOINT_URL: cluster.s3!.endpoint,
    },
  });
  const cases: Array<[ModelVersion, string, RegExp]> = [
    [version(1, { uri: 's3://modelship-models/tampered', digest, secretRef: SECRET }), 'DigestMismatch', /sha256:/],
    [version(2, { uri: `${OUTPUT}/faces-s3-a`, secretRef: { name: 'wrong-s3' } }), 'StorageAccessDenied', /./],
    [version(3, { uri: 's3://no-such-bucket/faces', secretRef: SECRET }), 'NoSuchBucket', /no-such-bucket/],
  ];
  for (const [mv] of cases) await client.create(mv);
  for (const [mv, reason, message] of cases) {
    const done = await settled<ModelVersion>(Kinds.ModelVersion, mv.metadata.name!, ['Ready', 'Rejected'], 90_000);
    assert.is(done.status?.phase, 'Rejected', `${mv.metadata.name}: ${JSON.stringify(done.status?.conditions)}`);
    const c = cond(done, 'Validated') ?? cond(done, 'Ready');
    assert.is(c?.reason, reason, JSON.stringify(done.status?.conditions));
    assert.match(c?.message ?? '', message);
  }
});

test('bytes changed after validation: serving pods refuse them and the service says why', async () => {
  // Tamper with the served version's model in place, then ask for new pods (a second service).
  const key = 'faces/faces-s3-a/model.onnx';
  const got = await s3.send(new GetObjectCommand({ Bucket: 'modelship-models', Key: key }));
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  bytes[bytes.length - 1] ^= 0xff;
  await s3.send(new PutObjectCommand({ Bucket: 'modelship-models', Key: key, Body: bytes }));
  await client.create({
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: 'faces-s3-second', namespace: NS },
    spec: { model: MODEL, version: 1 },
  } as InferenceService);
  const refused = await waitFor(
    async () => {
      const s = await client.get<InferenceService>(Kinds.InferenceService, NS, 'faces-s3-second');
      return cond(s, 'Ready')?.reason === 'DigestMismatch' ? s : undefined;
    },
    90_000,
    'Ready=False DigestMismatch',
    500,
  );
  assert.is(cond(refused, 'Ready')?.status, 'False');
  assert.match(cond(refused, 'Ready')?.message ?? '', /fetch-model: .*sha256:/);
  assert.is(refused.status?.stable?.readyReplicas ?? 0, 0, 'no pod serves the changed bytes');
  const events = await client.list<{ reason?: string; involvedObject?: { name?: string } }>(Kinds.Event, {
    namespace: NS,
  });
  assert.ok(
    events.items.some((e) => e.involvedObject?.name === 'faces-s3-second' && e.reason === 'DigestMismatch'),
    'a Warning Event',
  );
});

test.run();
