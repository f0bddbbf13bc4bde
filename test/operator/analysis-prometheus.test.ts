// measure() against the dev cluster's real Prometheus (Debian's binary, the dev-cluster config:
// file_sd pod targets, 2 s scrapes). Two exporters built from the serving runtime's own
// ServingMetrics (so the series names and labels are the real contract) play a canary and a
// stable version; the test drives known counter increments and checks that measure() returns
// exactly those numbers, that analyse() turns them into the expected verdicts, and that once
// Prometheus is stopped every check is inconclusive with the reason — never a pass.
//
// Exactness: increase()/rate() extrapolate to the window edges, so the window is anchored on
// scrape timestamps read back from Prometheus: at = the last scrape, window = last − base scrape
// (range selectors are closed intervals in Prometheus 2.x), and the increase is then exact.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultTargetsFile, startPrometheus, type RunningPrometheus } from '../../hack/devcluster/prometheus/index.js';
import { ServingMetrics } from '../../serving/lib/monitoring/metrics.js';
import type { Profile, Signature } from '../../serving/lib/model/schema.js';
import {
  aggregateVerdict,
  analyse,
  decideStep,
  measure,
  referenceFromProfileJson,
  type AnalysisPolicy,
  type MeasureTarget,
  type RoleMeasurements,
} from '../../operator/analysis/index.js';
import { BadQueryError, PrometheusProvider } from '../../operator/metrics-providers/index.js';
import type { InferenceServiceStatus } from '../../operator/api/index.js';
import { transition } from '../../operator/controllers/inferenceservice/phases.js';

const signature: Signature = {
  schemaVersion: 1,
  name: 'faces',
  input: { kind: 'tensor', tensor: 'x', dtype: 'float32', features: ['brightness', 'width'] },
  heads: [
    { name: 'smile', tensor: 'smile', type: 'binary', labels: ['no', 'yes'], activation: 'sigmoid' },
    { name: 'beard', tensor: 'beard', type: 'binary', labels: ['no', 'yes'], activation: 'sigmoid' },
  ],
};
const profile: Profile = {
  schemaVersion: 1,
  model: 'faces',
  digest: 'sha256:0',
  samples: 100,
  bins: 4,
  features: {
    brightness: { edges: [0.25, 0.5, 0.75], counts: [25, 25, 25, 25], min: 0, max: 1, mean: 0.5 },
    width: { edges: [100], counts: [50, 50], min: 32, max: 256, mean: 128 },
  },
  heads: {
    smile: { classes: { no: 50, yes: 50 }, confidence: { edges: [], counts: [100] } },
    beard: { classes: { no: 50, yes: 50 }, confidence: { edges: [], counts: [100] } },
  },
};

interface Exporter {
  url: string;
  server: Server;
  metrics: ServingMetrics;
}

async function exporter(version: string): Promise<Exporter> {
  const metrics = new ServingMetrics({ model: 'faces', version, digest: 'sha256:0' }, { processMetrics: false });
  metrics.describeModel(signature, ['brightness', 'width'], profile);
  const server = createServer(async (_req, res) => {
    const { contentType, body } = await metrics.render();
    res.writeHead(200, { 'content-type': contentType });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `127.0.0.1:${(server.address() as AddressInfo).port}`, server, metrics };
}

/** `n` prediction requests answered with `code` in `seconds`, each predicting `smile`/`beard`. */
function traffic(e: Exporter, n: number, code: number, seconds: number, rows?: number[][]): void {
  for (let i = 0; i < n; i++) e.metrics.observeRequest('predict', code, seconds);
  if (code === 200) {
    e.metrics.countPredictions(
      Array.from({ length: n }, (_, i) => ({
        smile: { label: i % 2 ? 'yes' : 'no', score: 0.9, scores: {} },
        beard: { label: i % 4 === 0 ? 'yes' : 'no', score: 0.8, scores: {} },
      })),
    );
  }
  if (rows) e.metrics.countFeatures(rows);
}

function feedback(e: Exporter, version: string, head: string, correct: number, incorrect: number): void {
  for (let i = 0; i < correct; i++) e.metrics.countFeedback(version, head, 'correct');
  for (let i = 0; i < incorrect; i++) e.metrics.countFeedback(version, head, 'incorrect');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until Prometheus holds `value` for the series, and returns its latest scrape time. */
async function scrapedAt(p: PrometheusProvider, series: string, value: number, timeoutMs = 40_000): Promise<Date> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const [s] = await p.query(series).catch(() => []);
    if (s && s.value === value) {
      const [t] = await p.query(`timestamp(${series})`);
      return new Date(Math.round(t.value * 1000));
    }
    await sleep(250);
  }
  throw new Error(`Prometheus never scraped ${series} == ${value}`);
}

const dir = mkdtempSync(join(tmpdir(), 'modelship-analysis-prom-'));
const proms: RunningPrometheus[] = [];
const exporters: Exporter[] = [];

test.after(async () => {
  for (const prom of proms) await prom.stop();
  for (const e of exporters) {
    e.server.closeAllConnections();
    await new Promise((r) => e.server.close(r));
  }
  rmSync(dir, { recursive: true, force: true });
});

const policy: AnalysisPolicy = {
  minRequests: 100,
  minFeedback: 50,
  checks: {
    accuracy: { min: 0.7, maxDropVsStable: 0.2, confidence: 0.95, failOnEstimate: false },
    drift: { max: 0.25 },
    latencyP95Ms: { max: 500 },
    errorRate: { max: 0.05 },
  },
};

test('measure() returns the exact counts Prometheus scraped; analyse() judges them; a stopped Prometheus is inconclusive', async () => {
  const canary = await exporter('2');
  const stable = await exporter('1');
  exporters.push(canary, stable);
  const targetsFile = defaultTargetsFile(join(dir, 'a'));
  const prom = await startPrometheus({ dataDir: join(dir, 'a'), targetsFile });
  proms.push(prom);
  const groups = [
    { targets: [canary.url], labels: { namespace: 'ml', pod: 'faces-canary-0' } },
    { targets: [stable.url], labels: { namespace: 'ml', pod: 'faces-stable-0' } },
  ];
  writeFileSync(`${targetsFile}.tmp`, JSON.stringify(groups));
  renameSync(`${targetsFile}.tmp`, targetsFile);
  const p = new PrometheusProvider({ address: prom.url, timeoutMs: 5000 });

  // Warm-up traffic creates every series; the base scrape is taken once Prometheus has it.
  // Counters created between two scrapes lose their first increments to increase() (a new
  // series has no earlier sample), so the warm-up creates every series the increments touch.
  traffic(canary, 10, 200, 0.02, [[0.1, 64]]);
  traffic(canary, 1, 500, 0.02);
  traffic(stable, 10, 200, 0.02, [[0.1, 64]]);
  feedback(canary, '2', 'smile', 1, 1);
  feedback(canary, '2', 'beard', 1, 1);
  feedback(stable, '1', 'smile', 1, 1);
  const reqs = (v: string) => `modelship_requests_total{version="${v}",handler="predict",code="200"}`;
  const [canaryBase, stableBase] = await Promise.all([scrapedAt(p, reqs('2'), 10), scrapedAt(p, reqs('1'), 10)]);

  // Known increments. Canary: 180 fast answers (160 OK, 20 × 500) and 20 slow OK ones; probes
  // on another endpoint that must not count; feedback on two heads; drifted brightness.
  const rows = [
    ...Array.from({ length: 10 }, () => [0.1, 64]),
    ...Array.from({ length: 10 }, () => [0.3, 64]),
    ...Array.from({ length: 40 }, () => [0.6, 200]),
    ...Array.from({ length: 40 }, () => [0.9, 200]),
  ];
  traffic(canary, 160, 200, 0.02, rows.slice(0, 80));
  traffic(canary, 20, 500, 0.02);
  traffic(canary, 20, 200, 0.2, rows.slice(80));
  for (let i = 0; i < 50; i++) canary.metrics.observeRequest('ready', 200, 0.001);
  feedback(canary, '2', 'smile', 90, 10);
  feedback(canary, '2', 'beard', 40, 10);
  traffic(stable, 100, 200, 0.02);
  feedback(stable, '1', 'smile', 45, 5);
  const [canaryLast, stableLast] = await Promise.all([scrapedAt(p, reqs('2'), 190), scrapedAt(p, reqs('1'), 110)]);
  // Let a few more scrapes land so "last" is not simply the newest sample by luck of timing.
  await sleep(2500);

  const target = (role: 'canary' | 'stable', version: string): MeasureTarget => ({
    role,
    version,
    model: 'faces',
    namespace: 'ml',
  });
  const windowOf = (base: Date, last: Date) => `${last.getTime() - base.getTime()}ms`;
  const c = await measure(p, target('canary', '2'), { window: windowOf(canaryBase, canaryLast), at: canaryLast });
  const s = await measure(p, target('stable', '1'), { window: windowOf(stableBase, stableLast), at: stableLast });

  const near = (actual: number | undefined, expected: number, what: string) =>
    assert.ok(
      actual !== undefined && Math.abs(actual - expected) < 1e-6 * Math.max(1, expected),
      `${what}: ${actual} ≈ ${expected}`,
    );
  assert.equal(c.problems, {}, 'canary measured completely');
  near(c.requests, 200, 'canary requests (prediction endpoints only)');
  near(c.errors, 20, 'canary 5xx');
  // 180 answers ≤ 0.1 s, 20 in (0.1, 0.25]: rank 190 → 0.1 + 0.15·(190−180)/(200−180) = 0.175 s
  near(c.latencyP95Ms, 175, 'canary p95 ms');
  near(c.feedback?.smile.correct, 90, 'smile correct');
  near(c.feedback?.smile.total, 100, 'smile total');
  near(c.feedback?.beard.total, 50, 'beard total');
  assert.equal(c.featureBins?.brightness.map(Math.round), [10, 10, 40, 40]);
  assert.equal(c.featureBins?.width.map(Math.round), [20, 80]);
  near(c.predictions?.smile.yes, 90, 'smile yes predictions');
  near(c.predictions?.beard.yes, 45, 'beard yes predictions');

  near(s.requests, 100, 'stable requests');
  assert.is(s.errors, 0, 'no 5xx series is zero errors, not missing');
  near(s.feedback?.smile.total, 50, 'stable feedback');
  assert.is(
    s.featureBins?.brightness.reduce((a, b) => a + b, 0),
    0,
    'pre-created bins without traffic are zeros',
  );

  const none = await measure(p, target('canary', '3'), { window: '1m' });
  assert.is(none.requests, undefined, 'a version without series is missing, not 0');
  assert.is(none.problems.requests?.reason, 'NoData');

  const checks = analyse({
    subject: c,
    baseline: s,
    reference: referenceFromProfileJson(profile),
    policy,
    heads: ['smile', 'beard'],
  });
  const byName = (check: string, head?: string) => checks.find((x) => x.check === check && x.head === head)!;
  assert.is(byName('accuracy', 'smile').verdict, 'Pass', 'smile 90/100, lower bound 0.826 ≥ 0.7');
  assert.is(byName('accuracy', 'beard').verdict, 'Inconclusive', 'beard 40/50: Wilson [0.670, 0.888] contains 0.7');
  assert.is(byName('accuracyVsStable', 'smile').verdict, 'Pass', '90/100 vs 45/50 with a 0.2 margin');
  assert.is(byName('accuracyVsStable', 'beard').verdict, 'Inconclusive', 'stable has no beard feedback');
  assert.is(byName('drift').verdict, 'Fail', 'brightness drifted');
  // PSI of the add-½ smoothed shares: (10.5, 10.5, 40.5, 40.5)/102 against (25.5 each)/102.
  assert.ok(
    Math.abs(byName('drift').breakdown!.brightness - 0.3970373) < 1e-4,
    String(byName('drift').breakdown!.brightness),
  );
  assert.is(byName('latencyP95Ms').verdict, 'Pass');
  assert.is(byName('errorRate').verdict, 'Fail', '20 of 200 failed');
  assert.is(aggregateVerdict(checks), 'Fail');

  // Prometheus goes away: every check is inconclusive with the reason; nothing passes.
  await prom.stop();
  const dark: RoleMeasurements = await measure(p, target('canary', '2'), { window: '1m' });
  for (const key of ['requests', 'errors', 'latencyP95Ms', 'feedback', 'featureBins', 'predictions'] as const) {
    assert.is(dark[key], undefined, key);
    assert.is(dark.problems[key]?.reason, 'ProviderUnreachable', key);
  }
  const darkChecks = analyse({
    subject: dark,
    baseline: await measure(p, target('stable', '1'), { window: '1m' }),
    reference: referenceFromProfileJson(profile),
    policy,
    heads: ['smile'],
  });
  assert.ok(
    darkChecks.every((x) => x.verdict === 'Inconclusive' && /ProviderUnreachable/.test(x.message ?? '')),
    JSON.stringify(darkChecks, null, 1),
  );
  assert.is(decideStep({ verdict: aggregateVerdict(darkChecks), failureLimit: 2 }).action, 'Hold');
  // Inconclusive forever is no way out: past the progress deadline the canary is rolled back.
  const started = new Date(Date.now() - 10 * 60_000).toISOString();
  const holding: InferenceServiceStatus = {
    phase: 'Progressing',
    stable: { version: 1, weight: 90 },
    canary: { version: 2, weight: 10, step: 0, startedAt: started },
  };
  const rollout = (deadlineMinutes: number) => ({
    steps: [10],
    intervalMs: 60_000,
    failureLimit: 2,
    progressDeadline: `${deadlineMinutes}m`,
    progressDeadlineMs: deadlineMinutes * 60_000,
    guardWindowMs: 0,
    generation: 1,
    replicas: 1,
  });
  assert.is(transition(holding, { type: 'Clock' }, rollout(30), new Date()).phase, 'Progressing');
  assert.is(
    transition(holding, { type: 'Clock' }, rollout(5), new Date()).history?.[0].reason,
    'ProgressDeadlineExceeded',
  );
});

test('real Prometheus answers: bad queries and range vectors are BadQueryError; no series is []', async () => {
  const prom = await startPrometheus({ dataDir: join(dir, 'b') });
  proms.push(prom);
  const p = new PrometheusProvider({ address: prom.url });
  const bad = await p.query('sum(').catch((e: unknown) => e);
  assert.instance(bad, BadQueryError);
  const range = await p.query('up[1m]').catch((e: unknown) => e);
  assert.instance(range, BadQueryError);
  assert.equal(await p.query('modelship_requests_total{version="never"}'), []);
  const [one] = await p.query('vector(1)');
  assert.is(one.value, 1);
});

test.run();
