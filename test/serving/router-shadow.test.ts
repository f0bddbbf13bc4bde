// A shadow through the router: the client's requests are answered by stable alone, a copy of
// each goes to the shadow, and the two answers are joined per item and head (agreement, the
// confusion matrix) and kept by stable's predictionId, so that the feedback users send for
// stable's predictions scores the shadow on the same items. The shadow here is a stub that
// always answers "setosa", so what it should score is known exactly.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startRouter, type RunningRouter } from '../../serving/router/router.js';
import {
  joinAnswers,
  parsePredictAnswer,
  ShadowJoin,
  type Answer,
  type JoinResult,
} from '../../serving/router/shadow-join.js';
import { StaticRoutingSource } from '../../serving/router/source.js';
import { fixtureModels, parseMetrics, startApp, type RunningApp } from './support/fixtures.js';

const test = suite('router: shadow answers joined to stable');
let stable: RunningApp;
let shadow: Server;
let shadowRequests = 0;
let router: RunningRouter;

const routerMetrics = async () => parseMetrics(await (await fetch(`${router.adminUrl}/metrics`)).text());

/** A shadow that predicts "setosa" for every row it is sent. */
function setosaShadow(): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      shadowRequests++;
      const rows = (JSON.parse(body) as { inputs: { features: number[][] } }).inputs.features;
      const predictions = rows.map((_, i) => ({
        predictionId: `shadow-${i}`,
        heads: { species: { label: 'setosa', score: 1, scores: {} } },
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ model: 'iris', version: '2', predictions }));
    });
  });
}

test.before(async () => {
  stable = await startApp(fixtureModels().iris, { version: '1' });
  shadow = setosaShadow();
  await new Promise<void>((r) => shadow.listen(0, '127.0.0.1', r));
  const shadowUrl = `http://127.0.0.1:${(shadow.address() as AddressInfo).port}`;
  router = await startRouter({
    source: new StaticRoutingSource({
      model: 'iris',
      upstreams: [
        { role: 'stable', version: '1', url: stable.url, weight: 100 },
        { role: 'canary', version: '2', url: shadowUrl, weight: 0 },
      ],
      mirror: { role: 'canary', percent: 100 },
    }),
    host: '127.0.0.1',
    port: 0,
  });
});
test.after(async () => {
  await router.close(100);
  shadow.close();
  await stable.close();
});

// Setosa-like rows first, then versicolor/virginica-like ones: stable tells them apart.
const ROWS = [
  [5.1, 3.5, 1.4, 0.2],
  [4.9, 3.0, 1.4, 0.2],
  [6.4, 3.2, 4.5, 1.5],
  [6.9, 3.1, 4.9, 1.5],
  [6.3, 3.3, 6.0, 2.5],
  [7.1, 3.0, 5.9, 2.1],
];

interface Predicted {
  predictionId: string;
  heads: { species: { label: string } };
}

test('the client gets stable alone; agreement, confusion and feedback for both versions on the same items', async () => {
  const res = await fetch(`${router.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { features: ROWS } }),
  });
  assert.is(res.status, 200);
  assert.is(res.headers.get('x-modelship-role'), 'stable');
  const items = ((await res.json()) as { predictions: Predicted[] }).predictions;
  const stableLabels = items.map((p) => p.heads.species.label);
  assert.ok(stableLabels.includes('setosa') && stableLabels.some((l) => l !== 'setosa'), stableLabels.join());

  // The shadow answers on its own time: wait for the join (2 s at most).
  let metrics = await routerMetrics();
  for (let i = 0; i < 100 && metrics('modelship_router_shadow_joins_total', { result: 'joined' }) !== 1; i++) {
    await new Promise((r) => setTimeout(r, 20));
    metrics = await routerMetrics();
  }
  assert.is(shadowRequests, 1, 'the shadow got its copy');
  assert.is(metrics('modelship_router_shadow_joins_total', { version: '2', result: 'joined' }), 1);
  const agreeing = stableLabels.filter((l) => l === 'setosa').length;
  assert.is(
    metrics('modelship_router_shadow_pairs_total', { head: 'species', stable_class: 'setosa', shadow_class: 'setosa' }),
    agreeing,
  );
  assert.is(
    metrics('modelship_router_requests_total', { role: 'canary' }),
    undefined,
    'no client request answered by the shadow',
  );

  // The truth: the first two are setosa, the rest are not. Stable is right on all six; the
  // shadow on the first two only.
  const truth = ['setosa', 'setosa', 'versicolor', 'versicolor', 'virginica', 'virginica'];
  const send = (i: number) =>
    fetch(`${router.url}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ predictionId: items[i].predictionId, labels: { species: truth[i] } }),
    }).then((r) => r.status);
  const statuses = await Promise.all(items.map((_, i) => send(i)));
  assert.equal(statuses, [200, 200, 200, 200, 200, 200]);
  const replays = await Promise.all(items.map((_, i) => send(i)));
  assert.ok(
    replays.every((s) => s === 409),
    'replays refused by stable',
  );

  const after = await routerMetrics();
  const fb = (judged: string, outcome: string) =>
    after('modelship_router_shadow_feedback_total', {
      head: 'species',
      judged,
      outcome,
      version: '2',
      stable_version: '1',
    }) ?? 0;
  const stableRight = stableLabels.filter((l, i) => l === truth[i]).length;
  assert.is(fb('stable', 'correct'), stableRight);
  assert.is(fb('stable', 'incorrect'), 6 - stableRight);
  assert.is(fb('shadow', 'correct'), 2, 'scored once per item, replays not again');
  assert.is(fb('shadow', 'incorrect'), 4);
});

const answer = (ids: string[], label: string) =>
  Buffer.from(JSON.stringify({ predictions: ids.map((predictionId) => ({ predictionId, heads: { h: { label } } })) }));
const V = { stable: '1', shadow: '2' };

const joinCases: [string, Answer, Answer, JoinResult][] = [
  ['both answered', { status: 200, body: answer(['a'], 'x') }, { status: 200, body: answer(['s'], 'y') }, 'joined'],
  ['stable failed', { status: 503, body: undefined }, { status: 200, body: answer(['s'], 'y') }, 'stable_failed'],
  ['shadow failed', { status: 200, body: answer(['a'], 'x') }, { status: 0, body: undefined }, 'shadow_failed'],
  [
    'shadow not JSON',
    { status: 200, body: answer(['a'], 'x') },
    { status: 200, body: Buffer.from('<html>') },
    'unparsable',
  ],
  [
    'different batch sizes',
    { status: 200, body: answer(['a', 'b'], 'x') },
    { status: 200, body: answer(['s'], 'y') },
    'mismatched',
  ],
];
for (const [name, a, b, expected] of joinCases)
  test(`join: ${name} → ${expected}`, () => {
    assert.is(joinAnswers(new ShadowJoin(), V, a, b).result, expected);
  });

test('join: a full store joins pairs for agreement but keeps none, and never forgets early', () => {
  const join = new ShadowJoin({ capacity: 1 });
  assert.is(
    join.join(V, parsePredictAnswer(answer(['a'], 'x')), parsePredictAnswer(answer(['s'], 'x'))).result,
    'joined',
  );
  const second = join.join(V, parsePredictAnswer(answer(['b'], 'x')), parsePredictAnswer(answer(['t'], 'y')));
  assert.is(second.result, 'full');
  assert.equal(second.pairs, [{ head: 'h', stable: 'x', shadow: 'y' }]);
  assert.ok(join.score('a', { h: 'x' }), 'the first is still there');
  assert.is(join.score('b', { h: 'x' }), undefined);
});

test('join: scored once per head, and not after the token lifetime', () => {
  let now = 0;
  const join = new ShadowJoin({ ttlMs: 1000, now: () => now });
  join.join(V, parsePredictAnswer(answer(['a', 'b'], 'x')), parsePredictAnswer(answer(['s', 't'], 'y')));
  assert.equal(join.score('a', { h: 'x' })?.heads, [{ head: 'h', stableCorrect: true, shadowCorrect: false }]);
  assert.equal(join.score('a', { h: 'x' }), undefined, 'scored once');
  now = 1000;
  assert.is(join.score('b', { h: 'y' }), undefined, 'expired with its token');
});

test.run();
