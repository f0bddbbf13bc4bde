// 1,200 malformed predict / feedback / OIP bodies (seeded; the seed is printed) against a real
// serving pod — the Deployment and Service the operator's own builders produce, run by the node
// agent on the sample multi-head model — reached through its Service's cluster IP. Nothing may
// answer 5xx except 503, error bodies keep their machine-readable shape, the pod never restarts,
// and afterwards it still predicts and still counts genuine feedback.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type InferenceService, type ModelVersion } from '../../operator/api/index.js';
import {
  buildFeedbackCredentialSecret,
  buildFeedbackSecret,
  buildRoleService,
  buildServingDeployment,
} from '../../operator/controllers/inferenceservice/builders.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { chaosRng, type Rng } from '../../hack/chaos/seed.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { ensureSampleModel, readLabels, REPO_ROOT } from '../support/models.js';

const CREDENTIAL = 'malformed-bodies-feedback-credential-0123';
const NS = 'default';
const MODEL = 'faces';
const REQUESTS = 1200;
let cluster: TestCluster;
let client: KubeClient;
let url = '';
let png: Buffer;
let labels: Record<string, string>;

test.before(async () => {
  const modelDir = await ensureSampleModel();
  const [first] = await readLabels(join(modelDir, 'reference'));
  png = readFileSync(join(modelDir, 'reference', first.file));
  labels = first.labels;
  cluster = await startTestCluster({ agent: true });
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
  // An InferenceService object only to own the children (no operator runs here).
  const isvc = await client.create<InferenceService>({
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: MODEL, namespace: NS },
    spec: { model: MODEL, version: 1 },
  } as InferenceService);
  const mv = {
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: `${MODEL}-v1`, namespace: NS },
    spec: { model: MODEL, version: 1, artifact: { uri: `file://${modelDir}` }, format: 'onnx' },
  } as ModelVersion;
  await client.create(buildFeedbackSecret(isvc, 'malformed-bodies-feedback-key-0123456789'));
  await client.create(buildFeedbackCredentialSecret(isvc, CREDENTIAL));
  await client.create(buildServingDeployment(isvc, 'stable', mv, { servingImage: 'modelship/serving:reliability' }));
  const svc = await client.create<KubeObject & { spec?: { clusterIP?: string; ports?: Array<{ port: number }> } }>(
    buildRoleService(isvc, 'stable'),
  );
  url = `http://${svc.spec?.clusterIP}:${svc.spec?.ports?.[0].port}`;
  await waitFor(
    async () => (await fetch(`${url}/v2/health/ready`)).ok,
    90_000,
    'serving pod ready behind its Service',
    500,
  );
});

test.after(async () => {
  await cluster?.stop();
});

interface Case {
  path: string;
  type?: string;
  body: Buffer | string;
}

function makeCases(rng: Rng, n: number, token: string): Case[] {
  const bytes = (len: number) => Buffer.from(Array.from({ length: len }, () => rng.int(0, 255)));
  const flip = (b: Buffer) => {
    const c = Buffer.from(b);
    for (let i = 0; i < rng.int(1, 20); i++) c[rng.int(8, c.length - 1)] = rng.int(0, 255);
    return c;
  };
  const json = (depth: number): unknown => {
    const k = rng.int(0, depth > 2 ? 3 : 6);
    if (k === 0) return rng.next() * 1e6 - 5e5;
    if (k === 1) return rng.pick(['', 'x', 'beard', 'yes', 'aGVsbG8=', '\u0000', 'null', 'data:image/png;base64,AAAA']);
    if (k === 2) return rng.pick([null, true, false, -1, 1e308, 0]);
    if (k === 3) return [];
    if (k === 4) return Array.from({ length: rng.int(0, 3) }, () => json(depth + 1));
    return Object.fromEntries(
      Array.from({ length: rng.int(0, 3) }, () => [
        rng.pick(['image', 'images', 'inputs', 'predictionId', 'labels', 'beard', 'hair_color', 'shape', 'data']),
        json(depth + 1),
      ]),
    );
  };
  // Tokens that look right but are not: tampered payload or signature, truncated, other segments.
  const [v, payload, sig] = token.split('.');
  const forged = () =>
    rng.pick([
      `${v}.${payload}.${sig.slice(0, -2)}AA`,
      `${v}.${flip(Buffer.from(payload, 'base64url')).toString('base64url')}.${sig}`,
      token.slice(0, rng.int(1, token.length - 1)),
      `${v}.${payload}`,
      `${v}..${sig}`,
      `v2.${payload}.${sig}`,
      bytes(40).toString('base64url'),
    ]);
  const generators: Array<() => Case> = [
    () => ({
      path: '/predict',
      type: rng.pick([undefined, 'image/png', 'image/jpeg', 'application/octet-stream', 'text/plain', 'image/gif']),
      body: bytes(rng.int(0, 3000)),
    }),
    () => ({ path: '/predict', type: 'image/png', body: png.subarray(0, rng.int(0, png.length - 1)) }),
    () => ({ path: '/predict', type: 'image/png', body: flip(png) }),
    () => ({ path: '/predict', type: 'application/json', body: JSON.stringify(json(0)) }),
    () => ({
      path: '/predict',
      type: 'application/json',
      body: JSON.stringify({
        images: [png.subarray(0, rng.int(0, png.length - 1)).toString('base64'), bytes(30).toString('base64')],
      }),
    }),
    () => ({
      path: '/predict',
      type: 'multipart/form-data; boundary=b0',
      body: Buffer.concat([
        Buffer.from(
          `--b0\r\nContent-Disposition: form-data; name="${rng.pick(['file', 'image', ''])}"; filename="x.png"\r\n\r\n`,
        ),
        rng.pick([flip(png), bytes(100)]),
        Buffer.from(rng.pick(['\r\n--b0--\r\n', '', '\r\n--b'])),
      ]),
    }),
    () => ({
      path: `/v2/models/${rng.pick([MODEL, 'other', '%zz'])}/infer`,
      type: 'application/json',
      body: JSON.stringify({
        inputs: [
          {
            name: rng.pick(['image', 'input', 'x']),
            shape: Array.from({ length: rng.int(0, 4) }, () => rng.int(-2, 70)),
            datatype: rng.pick(['FP32', 'UINT8', 'BYTES', 'INT64', 3]),
            data: json(1),
          },
        ],
      }),
    }),
    () => ({
      path: `/v2/models/${MODEL}/infer`,
      type: rng.pick(['application/json', 'text/plain']),
      body: bytes(rng.int(0, 400)),
    }),
    () => ({ path: '/feedback', type: 'application/json', body: JSON.stringify({ predictionId: forged(), labels }) }),
    () => ({
      path: '/feedback',
      type: 'application/json',
      body: JSON.stringify({ predictionId: rng.pick([token, forged(), json(2)]), labels: json(1) }),
    }),
    () => ({
      path: '/feedback',
      type: rng.pick(['application/json', 'text/plain', undefined]),
      body: bytes(rng.int(0, 300)),
    }),
    () => ({
      path: rng.pick(['/predict', '/feedback', `/v2/models/${MODEL}/infer`]),
      type: rng.pick(['application/json', 'image/png', undefined]),
      body: '',
    }),
  ];
  return Array.from({ length: n }, () => rng.pick(generators)());
}

async function predict(): Promise<{ status: number; predictionId?: string; beard?: string }> {
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png' },
    body: new Uint8Array(png),
  });
  const body = (await res.json()) as {
    predictions?: Array<{ predictionId: string; heads: Record<string, { label: string }> }>;
  };
  return {
    status: res.status,
    predictionId: body.predictions?.[0].predictionId,
    beard: body.predictions?.[0].heads.beard?.label,
  };
}

async function servingPod(): Promise<{ restarts: number; ready: boolean }> {
  const pods = await client.list<
    KubeObject & { status?: { containerStatuses?: Array<{ restartCount: number; ready: boolean }> } }
  >(Kinds.Pod, { namespace: NS });
  const cs = pods.items[0]?.status?.containerStatuses?.[0];
  return { restarts: cs?.restartCount ?? -1, ready: cs?.ready ?? false };
}

test(`${REQUESTS} malformed predict/feedback/infer bodies through the Service: only 4xx or 503, no restart, still serving`, async () => {
  const rng = chaosRng('malformed-bodies');
  const genuine = await predict();
  assert.is(genuine.status, 200);
  const cases = makeCases(rng, REQUESTS, genuine.predictionId!);
  const statuses = new Map<number, number>();
  const bad: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      const c = cases[i];
      const res = await fetch(url + c.path, {
        method: 'POST',
        // Feedback with the credential, so that its malformed bodies reach the parser.
        headers: { ...(c.type ? { 'content-type': c.type } : {}), authorization: `Bearer ${CREDENTIAL}` },
        body: typeof c.body === 'string' ? c.body : new Uint8Array(c.body),
      });
      const text = await res.text();
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if ((res.status >= 500 && res.status !== 503) || (res.status < 400 && res.status !== 200))
        bad.push(`case ${i} ${c.path} ${c.type}: ${res.status} ${text.slice(0, 160)}`);
      if (res.status >= 400) {
        let shaped = false;
        try {
          const body = JSON.parse(text) as { error?: string | { code?: unknown } };
          shaped = c.path.startsWith('/v2')
            ? typeof body.error === 'string'
            : typeof (body.error as { code?: unknown } | undefined)?.code === 'string';
        } catch {
          /* not JSON: reported below */
        }
        if (!shaped)
          bad.push(`case ${i} ${c.path}: error body without a machine-readable error: ${text.slice(0, 160)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const picture = JSON.stringify([...statuses].sort());
  assert.equal(bad, [], `${bad.length} bad answers, e.g.\n${bad.slice(0, 5).join('\n')}\nstatuses ${picture}`);
  assert.is(
    [...statuses.values()].reduce((a, b) => a + b, 0),
    REQUESTS,
  );
  assert.ok((statuses.get(400) ?? 0) > REQUESTS / 4, `mostly refused as bad requests: ${picture}`);
  const after = await predict();
  assert.is(after.status, 200, 'still predicts');
  assert.is(after.beard, genuine.beard, 'and predicts the same');
  const fb = await fetch(`${url}/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${CREDENTIAL}` },
    body: JSON.stringify({ predictionId: after.predictionId, labels }),
  });
  assert.is(fb.status, 200, 'genuine feedback still accepted');
  const accepted = ((await fb.json()) as { accepted: Record<string, string> }).accepted;
  assert.ok(Object.keys(accepted).length >= 5, JSON.stringify(accepted));
  const pod = await servingPod();
  assert.equal(pod, { restarts: 0, ready: true }, 'the serving pod never restarted');
  process.stderr.write(`malformed-bodies: statuses ${picture}\n`);
});

test.run();
