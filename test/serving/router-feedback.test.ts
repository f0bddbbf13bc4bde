// Replays through the router meet the replica that counted them: two replicas of one version
// behind a Service that spreads requests over them (as kube-proxy does), each replica with its
// own replay memory. Sent through the Service, a replayed feedback is counted again by the
// other replica; sent by the router to the pod its predictionId hashes to, never.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouterConfig } from '../../serving/router/config.js';
import { pickEndpoint } from '../../serving/router/feedback.js';
import { startRouter, type RunningRouter } from '../../serving/router/router.js';
import { StaticRoutingSource } from '../../serving/router/source.js';
import { fixtureModels, parseMetrics, startApp, type RunningApp } from './support/fixtures.js';

const test = suite('router: feedback to one replica per prediction');
let replicas: RunningApp[];
let service: Server;
let serviceUrl: string;
let source: StaticRoutingSource;
let router: RunningRouter;

/** Round-robin over the replicas, the way a Service spreads connections. */
function roundRobin(targets: string[]): Server {
  let next = 0;
  return createServer((req, res) => {
    const target = new URL(req.url ?? '/', targets[next++ % targets.length]);
    const upstream = request(target, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
}

const table = (endpoints?: string[]): RouterConfig => ({
  model: 'iris',
  upstreams: [{ role: 'stable', version: 'v3', url: serviceUrl, weight: 100, ...(endpoints ? { endpoints } : {}) }],
});

test.before(async () => {
  replicas = [
    await startApp(fixtureModels().iris, { version: 'v3' }),
    await startApp(fixtureModels().iris, { version: 'v3' }),
  ];
  service = roundRobin(replicas.map((r) => r.url));
  await new Promise<void>((r) => service.listen(0, '127.0.0.1', r));
  serviceUrl = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  source = new StaticRoutingSource(table());
  router = await startRouter({ source, host: '127.0.0.1', port: 0 });
});
test.after(async () => {
  await router.close(100);
  service.close();
  for (const r of replicas) await r.close();
});

async function predictionIds(n: number): Promise<string[]> {
  const res = await fetch(`${router.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { features: Array.from({ length: n }, (_, i) => [5 + i / 10, 3.5, 1.4, 0.2]) } }),
  });
  return ((await res.json()) as { predictions: { predictionId: string }[] }).predictions.map((p) => p.predictionId);
}

const feedback = (predictionId: string) =>
  fetch(`${router.url}/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ predictionId, labels: { species: 'setosa' } }),
  }).then((r) => r.status);

async function counted(): Promise<number> {
  let total = 0;
  for (const r of replicas) {
    const m = parseMetrics(await (await fetch(`${r.url}/metrics`)).text());
    total += m('modelship_feedback_total', { head: 'species' }) ?? 0;
  }
  return total;
}

test('through the Service, a replay reaches the other replica and is counted again', async () => {
  source.set(table());
  const ids = await predictionIds(10);
  const first = await Promise.all(ids.map(feedback));
  const replayed = await Promise.all(ids.map(feedback));
  assert.ok(first.every((s) => s === 200));
  assert.ok(
    replayed.filter((s) => s === 200).length > 0,
    `replays counted twice without per-prediction routing: ${JSON.stringify(replayed)}`,
  );
});

test('with the pods known, every replay meets the replica that counted it: each prediction counts once', async () => {
  source.set(table(replicas.map((r) => r.url)));
  const before = await counted();
  const ids = await predictionIds(20);
  assert.ok(
    new Set(
      ids.map((id) =>
        pickEndpoint(
          replicas.map((r) => r.url),
          id.slice(id.lastIndexOf('.') + 1),
        ),
      ),
    ).size === 2,
    'the predictions spread over both replicas',
  );
  const first = await Promise.all(ids.map(feedback));
  const replays = await Promise.all([...ids, ...ids].map(feedback));
  assert.ok(
    first.every((s) => s === 200),
    JSON.stringify(first),
  );
  assert.ok(
    replays.every((s) => s === 409),
    `every replay refused: ${JSON.stringify(replays)}`,
  );
  assert.is((await counted()) - before, 20);
});

test('a listed pod that is gone (the list lags by up to 2 s): its feedback goes through the Service, never a 502', async () => {
  source.set(table(['http://127.0.0.1:1', ...replicas.map((r) => r.url)]));
  const ids = await predictionIds(30);
  const gone = ids.filter(
    (id) =>
      pickEndpoint(['http://127.0.0.1:1', ...replicas.map((r) => r.url)], id.slice(id.lastIndexOf('.') + 1)) ===
      'http://127.0.0.1:1',
  );
  assert.ok(gone.length > 0, 'some predictions hash to the gone pod');
  const statuses = await Promise.all(gone.map(feedback));
  assert.ok(
    statuses.every((s) => s === 200),
    JSON.stringify(statuses),
  );
  source.set(table(replicas.map((r) => r.url)));
});

test('a feedback body over 64 KiB is refused by the router (413), never spread over replicas', async () => {
  const status = await fetch(`${router.url}/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ predictionId: 'x', labels: { species: 'setosa' }, pad: ' '.repeat(70_000) }),
  }).then((r) => r.status);
  assert.is(status, 413);
});

test('rendezvous hashing: a key keeps its endpoint; removing one endpoint moves only its keys', () => {
  const three = ['http://10.0.0.1:8080', 'http://10.0.0.2:8080', 'http://10.0.0.3:8080'];
  const keys = Array.from({ length: 3000 }, (_, i) => `key-${i}`);
  const placed = keys.map((k) => pickEndpoint(three, k));
  const share = (e: string) => placed.filter((p) => p === e).length / keys.length;
  for (const e of three) assert.ok(share(e) > 0.28 && share(e) < 0.39, `${e} takes ${share(e)}`);
  const two = three.slice(0, 2);
  keys.forEach((k, i) => {
    if (placed[i] !== three[2]) assert.is(pickEndpoint(two, k), placed[i], 'a key not on the removed endpoint stays');
  });
});

test.run();
