// Hostile clients of the public Service, seeded (the seed is printed; CHAOS_SEED=<seed>
// replays it), against the operator's real stack on the dev cluster: the router in front of two
// serving replicas of one version. A random mix of genuine predictions with their feedback and
// attacks — replays of counted feedback, re-encoded tokens, feedback without the credential,
// version pins, stalled uploads, the router's and the model servers' internal paths, deeply
// nested JSON, 48 large uploads held at once (small predictions answered meanwhile) — and,
// halfway, one serving container killed and restarted. Afterwards: every attack got the answer
// it should, no 5xx but 503, each genuine feedback counted exactly once across both replicas
// (replays included, before and after the restart), and no pod restarted but the one killed
// (the dev cluster enforces memory limits: an OOMKilled container would show as a restart).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { readFeedbackCredential } from '../../hack/loadgen/credential.js';
import { readLabelledImages } from '../../hack/loadgen/loadgen.js';
import { routerUpstreams } from '../../hack/loadgen/router-admin.js';
import { chaosRng, type Rng } from '../../hack/chaos/seed.js';
import { API_VERSION, type InferenceService } from '../../operator/api/index.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { routerUrl } from '../e2e/canary-support.js';
import { MODEL, readyVersion, startCanaryEnv, type CanaryEnv } from './canary-support.js';
import { NS } from './support.js';
import { POD_IP_ENV } from '../../hack/devcluster/agent/pod-worker.js';

const ACTIONS = 160;
let env: CanaryEnv;
let url: string;
let credential: string;
let images: Buffer[];

type Pod = KubeObject & {
  status?: { podIP?: string; containerStatuses?: Array<{ restartCount: number; ready: boolean }> };
};

test.before(async () => {
  env = await startCanaryEnv();
  await readyVersion(env, 1, 'hostile-v1');
  await env.client.create({
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: MODEL, namespace: NS },
    // Two replicas: the scenario is about replays reaching another replica. Defaults otherwise.
    spec: { model: MODEL, version: 1, replicas: 2 },
  } as InferenceService);
  await waitFor(async () => ((await isvc()).status?.phase === 'Serving' ? true : undefined), 120_000, 'Serving', 300);
  url = await routerUrl(env.client);

  // Both replicas known to the router, so that feedback is routed per prediction from the start.
  await waitFor(
    async () => ((await routerUpstreams(env.client, NS, MODEL))?.[0]?.endpoints?.length === 2 ? true : undefined),
    60_000,
    'the router knowing both pods',
    300,
  );
  credential = await readFeedbackCredential(env.client, NS, MODEL);
  images = (await readLabelledImages(env.imagesDir)).slice(0, 50).map((i) => i.body);
});

test.after(async () => {
  await env?.stop();
});

const isvc = () => env.client.get<InferenceService>(Kinds.InferenceService, NS, MODEL);
const servingPods = async () =>
  (
    await env.client.list<Pod>(Kinds.Pod, {
      namespace: NS,
      labelSelector: `modelship.dev/inference-service=${MODEL},modelship.dev/role=stable`,
    })
  ).items;
const routerPods = async () =>
  (
    await env.client.list<Pod>(Kinds.Pod, {
      namespace: NS,
      labelSelector: `modelship.dev/inference-service=${MODEL},modelship.dev/role=router`,
    })
  ).items;

interface Counted {
  id: string;
  heads: number;
}

/** Texts that decode to the same MAC as the genuine token, and the genuine one. */
function spellings(id: string): string[] {
  const mac = id.slice(id.lastIndexOf('.') + 1);
  const body = id.slice(0, id.lastIndexOf('.') + 1);
  return [id, `${id}=`, `${id}!`, `${id} `, body + Buffer.from(mac, 'base64url').toString('base64')];
}

async function predict(
  image: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; id?: string; heads?: Record<string, { label: string }> }> {
  const res = await fetch(`${url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', ...headers },
    body: new Uint8Array(image),
  });
  const body = (await res.json().catch(() => ({}))) as {
    predictions?: Array<{ predictionId: string; heads: Record<string, { label: string }> }>;
  };
  return { status: res.status, id: body.predictions?.[0]?.predictionId, heads: body.predictions?.[0]?.heads };
}

function feedback(id: string, heads: Record<string, { label: string }>, withCredential = true): Promise<number> {
  const labels = Object.fromEntries(Object.entries(heads).map(([h, p]) => [h, p.label]));
  return fetch(`${url}/feedback`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(withCredential ? { authorization: `Bearer ${credential}` } : {}),
    },
    body: JSON.stringify({ predictionId: id, labels }),
  }).then((r) => r.status);
}

/** An upload that sends 10 of its 1,000 declared bytes and then nothing: the status line it gets. */
function stalledUpload(): Promise<string> {
  const { hostname, port } = new URL(url);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port || 80), hostname);
    let text = '';
    socket.on('data', (d) => (text += d));
    socket.on('close', () => resolve(text.split('\r\n')[0] || `closed without an answer after ${Date.now() - t0} ms`));
    socket.on('error', (e) => resolve(text.split('\r\n')[0] || `error ${e.message} after ${Date.now() - t0} ms`));
    socket.write(
      'POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: image/png\r\ncontent-length: 1000\r\n\r\nonly ten b',
    );
  });
}

/** SIGKILLs the serve process of `pod` (found by the pod IP the node agent gave it), as an OOM kill would. */
function killServing(pod: Pod): void {
  const ip = pod.status!.podIP!;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      if (environ.includes(`${POD_IP_ENV}=${ip}`) && cmdline.includes('serving/main') && !cmdline.includes('router'))
        process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone or not ours */
    }
  }
}

/** Feedback counted by the pods' processes as they are now (one pod, or all). */
async function feedbackCounted(only?: Pod): Promise<number> {
  let total = 0;
  for (const pod of only ? [only] : await servingPods()) {
    const text = await (await fetch(`http://${pod.status!.podIP}:8080/metrics`)).text();
    for (const line of text.split('\n'))
      if (line.startsWith('modelship_feedback_total{')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

type Action = (rng: Rng) => Promise<string | undefined>;

test(`${ACTIONS} seeded actions of hostile clients through the router, one replica killed halfway: every attack refused, every genuine feedback counted once`, async () => {
  const rng = chaosRng('hostile-clients');
  const counted: Counted[] = [];
  let lostWithVictim = 0;
  const statuses = new Map<string, number>();
  const bad: string[] = [];
  const note = (what: string, status: number | string) =>
    statuses.set(`${what} ${status}`, (statuses.get(`${what} ${status}`) ?? 0) + 1);
  const expect = (what: string, status: number | string, ok: boolean) => {
    note(what, status);
    return ok ? undefined : `${what}: ${status}`;
  };
  const actions: Record<string, Action> = {
    genuine: async (r) => {
      const p = await predict(r.pick(images));
      if (p.status !== 200) return `predict: ${p.status}`;
      const s = await feedback(p.id!, p.heads!);
      if (s === 200) counted.push({ id: p.id!, heads: Object.keys(p.heads!).length });
      return expect('genuine feedback', s, s === 200);
    },
    replay: async (r) => {
      if (!counted.length) return undefined;
      const c = r.pick(counted);
      const s = await fetch(`${url}/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${credential}` },
        body: JSON.stringify({ predictionId: r.pick(spellings(c.id)), labels: { beard: 'no' } }),
      }).then((x) => x.status);
      return expect('replay', s, s === 409 || s === 400);
    },
    anonymous: async (r) => {
      const p = await predict(r.pick(images));
      const s = await feedback(p.id!, p.heads!, false);
      const after = await feedback(p.id!, p.heads!);
      if (after === 200) counted.push({ id: p.id!, heads: Object.keys(p.heads!).length });
      return expect('feedback without credential', `${s}, then with it ${after}`, s === 401 && after === 200);
    },
    pin: async (r) => {
      const p = await predict(r.pick(images), { 'x-modelship-version': '999', 'x-modelship-role': 'canary' });
      return expect('untrusted pin', p.status, p.status === 200);
    },
    internal: async (r) => {
      const path = r.pick(['/-/router/config', '/-/router/metrics', '/metrics', `/v2/models/${MODEL}/profile`]);
      const s = (await fetch(`${url}${path}`)).status;
      return expect(`internal ${path}`, s, s === 404);
    },
    nested: async () => {
      const s = await fetch(`${url}/v2/models/${MODEL}/infer`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '['.repeat(200_000),
      }).then((x) => x.status);
      return expect('nested JSON', s, s === 400 || s === 413);
    },
  };
  const names = Object.keys(actions);
  let stalls: Promise<string[]> = Promise.resolve([]);
  // Noise does not compress: 1,770² RGB pixels make a valid ~9.4 MB PNG (3.1 MP, under
  // --max-pixels), which a server must buffer whole before it can decode it.
  const side = 1770;
  const big = await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  for (let i = 0; i < ACTIONS; i++) {
    if (i === ACTIONS / 2) {
      // Halfway: a serving container killed (OOM, crash) and restarted by the kubelet in its pod.
      // Its counters restart at 0 (Prometheus' increase() bridges that); what it had counted is
      // taken off the expected total.
      const [victim] = await servingPods();
      lostWithVictim = await feedbackCounted(victim);
      killServing(victim);
      await waitFor(
        async () => {
          const pod = (await servingPods()).find((p) => p.metadata?.name === victim.metadata?.name);
          const cs = pod?.status?.containerStatuses?.[0];
          return cs && cs.restartCount >= 1 && cs.ready ? true : undefined;
        },
        90_000,
        'the killed serving container back',
        300,
      );
      // ...and the router routing to it again (it lists the pods every 2 s): while a pod is
      // away its predictions' feedback goes to another one, the documented bound.
      await waitFor(
        async () => ((await routerUpstreams(env.client, NS, MODEL))?.[0]?.endpoints?.length === 2 ? true : undefined),
        30_000,
        'the router knowing both pods again',
        300,
      );
      // Every feedback counted before the kill is still refused, whichever replica judged it.
      for (const c of counted) {
        const s = await feedback(c.id, { beard: { label: 'no' } });
        const problem = expect('replay after a restart', s, s === 409);
        if (problem) bad.push(problem);
      }
      // 48 uploads of 9.4 MB held at once against the pods' default 1 GiB memory limit, which the
      // dev cluster enforces (a pod past it is OOMKilled and restarts): admission control must
      // refuse what does not fit (503) and keep answering small predictions meanwhile.
      const smallWhileLoaded = Promise.all(
        Array.from({ length: 4 }, (_, k) => predict(images[k % images.length]).then((r) => r.status)),
      );
      const uploads = await Promise.all(
        Array.from({ length: 48 }, () =>
          fetch(`${url}/predict`, {
            method: 'POST',
            headers: { 'content-type': 'image/png' },
            body: new Uint8Array(big),
          }).then(
            (x) => x.status,
            () => -1,
          ),
        ),
      );
      for (const s of uploads) note('large upload', s);
      for (const s of await smallWhileLoaded) {
        const problem = expect('small prediction during the uploads', s, s === 200);
        if (problem) bad.push(problem);
      }
      // Uploads that stall, started after the kill: a request in flight to a pod that dies is
      // rightly a 502; a client's own stall must be a 408.
      stalls = Promise.all([stalledUpload(), stalledUpload()]);
      if (uploads.some((s) => s !== 200 && s !== 503)) bad.push(`large uploads: ${uploads}`);
    }
    const name = rng.pick(names);
    const problem = await actions[name](rng).catch((e: Error) => `${name} threw ${e.message}`);
    if (problem) bad.push(problem);
  }
  const stalled = await stalls;
  for (const line of stalled) {
    const problem = expect('stalled upload', line, / 408 /.test(line));
    if (problem) bad.push(problem);
  }
  const picture = JSON.stringify([...statuses].sort());
  console.log(`  hostile-clients: ${counted.length} genuine feedbacks; answers ${picture}`);
  assert.equal(bad, [], `${bad.length} wrong answers, e.g. ${bad.slice(0, 5).join('; ')}; seen ${picture}`);
  const expected = counted.reduce((sum, c) => sum + c.heads, 0);
  assert.is(
    (await feedbackCounted()) + lostWithVictim,
    expected,
    `each genuine feedback counted once across both replicas; seen ${picture}`,
  );
  const restarts = (await servingPods()).map((p) => p.status?.containerStatuses?.[0]?.restartCount ?? -1).sort();
  assert.equal(restarts, [0, 1], 'only the killed container restarted');
  assert.ok(
    (await routerPods()).every((p) => p.status?.containerStatuses?.[0]?.restartCount === 0),
    'the router never restarted',
  );
});

test.run();
