// PromQL builders and measure(): which queries run, and how their answers become data —
// missing series stay apart from zeros, provider errors become problems, never numbers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BadQueryError,
  ProviderUnreachableError,
  type MetricProvider,
  type Sample,
} from '../../operator/metrics-providers/index.js';
import { featureBinsFromSamples, feedbackFromSamples, measure } from '../../operator/analysis/measure.js';
import { measurementQueries, PromQLError, quote, range, selector } from '../../operator/analysis/promql.js';
import { observedShare, wholeCounts, type RoleMeasurements } from '../../operator/analysis/measurements.js';
import { analyseCanary, monitorVersion } from '../../operator/analysis/run.js';
import { tableProvider } from '../support/table-provider.js';

test('selectors quote values and check label names', () => {
  assert.is(quote('a"b\\c'), '"a\\"b\\\\c"');
  assert.is(selector({ version: '3', model: 'faces', namespace: 'ml' }), '{model="faces",namespace="ml",version="3"}');
  assert.is(
    selector({ version: '3', matchers: { job: 'pods' } }, { code: { re: '5..' } }),
    '{job="pods",version="3",code=~"5.."}',
  );
  assert.throws(
    () => selector({ version: '3', matchers: { 'bad-name': 'x' } }),
    (e: unknown) => e instanceof PromQLError,
  );
  assert.is(range('1m30s'), '[1m30s]');
  assert.throws(
    () => range('1 minute'),
    (e: unknown) => e instanceof PromQLError,
  );
  assert.throws(
    () => range('5m]) or vector(1'),
    (e: unknown) => e instanceof PromQLError,
  );
});

test('queries select the version, count prediction endpoints only, and use the window', () => {
  const q = measurementQueries({ version: '7', model: 'faces' }, '2m');
  assert.is(
    q.requests,
    'sum(increase(modelship_requests_total{model="faces",version="7",handler=~"predict|infer"}[2m]))',
  );
  assert.is(
    q.serverErrors,
    'sum(increase(modelship_requests_total{model="faces",version="7",handler=~"predict|infer",code=~"5.."}[2m]))',
  );
  assert.is(
    q.latencyP95Seconds,
    'histogram_quantile(0.95, sum by (le) (rate(modelship_request_duration_seconds_bucket{model="faces",version="7",handler=~"predict|infer"}[2m])))',
  );
  assert.is(q.feedback, 'sum by (head, outcome) (increase(modelship_feedback_total{model="faces",version="7"}[2m]))');
  assert.is(
    q.featureBins,
    'sum by (feature, bin) (increase(modelship_feature_bin_total{model="faces",version="7"}[2m]))',
  );
  assert.is(
    q.predictions,
    'sum by (head, class) (increase(modelship_predictions_total{model="faces",version="7"}[2m]))',
  );
  assert.match(q.routerFailures, /modelship_router_requests_total\{model="faces",version="7",code=~"502\|504"\}\[2m\]/);
  assert.match(q.modelErrors, /^sum by \(reason\) \(increase\(modelship_model_errors_total/);
  assert.is(
    q.scrapes,
    'max(count_over_time(modelship_requests_total{model="faces",version="7",handler=~"predict|infer"}[2m]))',
  );
});

test('the evidence window covers feedback, features and predictions; requests, errors and latency keep the interval', () => {
  const q = measurementQueries({ version: '7' }, '1m', '17m30s');
  for (const key of ['feedback', 'featureBins', 'predictions', 'evidenceScrapes'] as const)
    assert.match(q[key], /\[17m30s\]\)\)$/, key);
  for (const key of [
    'requests',
    'serverErrors',
    'routerFailures',
    'latencyP95Seconds',
    'modelErrors',
    'scrapes',
  ] as const)
    assert.match(q[key], /\[1m\]/, key);
});

test('wholeCounts scales each window by its own extrapolation', () => {
  const w = wholeCounts({
    role: 'canary',
    version: '2',
    window: '8s',
    evidenceWindow: '200s',
    problems: {},
    scrapes: 4,
    evidenceScrapes: 100,
    requests: 80,
    feedback: { smile: { correct: 900, total: 1000 } },
  });
  assert.equal([w.requests, w.feedback], [60, { smile: { correct: 891, total: 990 } }]);
});

test("wholeCounts: counts scaled back from increase()'s extrapolation to what was observed, then rounded", () => {
  const m: RoleMeasurements = {
    role: 'canary',
    version: '2',
    window: '8s',
    problems: {},
    scrapes: 4,
    // 4 samples 2 s apart in an 8 s window: increase() reports 4/3 of the 60 requests seen.
    requests: 80,
    errors: 4,
    feedback: { smile: { correct: 72, total: 80 } },
    featureBins: { b: [40, 26.666, 13.334] },
    predictions: { smile: { yes: 80 } },
  };
  const w = wholeCounts(m);
  assert.equal(
    [w.requests, w.errors, w.feedback, w.featureBins, w.predictions],
    [60, 3, { smile: { correct: 54, total: 60 } }, { b: [30, 20, 10] }, { smile: { yes: 60 } }],
  );
  assert.is(observedShare({ ...m, scrapes: undefined }), 1, 'unknown: unscaled');
  assert.is(observedShare({ ...m, scrapes: 1 }), 1, 'one sample: increase() has nothing to scale');
  assert.equal(
    wholeCounts({
      ...m,
      scrapes: undefined,
      requests: 59.98,
      errors: 61,
      feedback: { s: { correct: 10.6, total: 10.4 } },
    }).feedback,
    { s: { correct: 10, total: 10 } },
  );
  assert.is(
    wholeCounts({ ...m, scrapes: undefined, requests: 59.98, errors: 61 }).errors,
    60,
    'errors capped by requests',
  );
});

const at = new Date('2026-01-01T00:00:00Z');
const s = (value: number, labels: Record<string, string> = {}): Sample => ({ labels, value, timestamp: at });

test('feedback and feature bins from grouped samples', () => {
  assert.equal(
    feedbackFromSamples([
      s(8, { head: 'beard', outcome: 'correct' }),
      s(2, { head: 'beard', outcome: 'incorrect' }),
      s(3, { head: 'hair', outcome: 'incorrect' }),
    ]),
    {
      beard: { correct: 8, total: 10 },
      hair: { correct: 0, total: 3 },
    },
  );
  assert.equal(
    featureBinsFromSamples([
      s(5, { feature: 'b', bin: '2' }),
      s(1, { feature: 'b', bin: '0' }),
      s(7, { feature: 'a', bin: '0' }),
    ]),
    { b: [1, 0, 5], a: [7] },
  );
});

test('measure: a healthy version, every value as data', async () => {
  const p = tableProvider({
    'modelship_requests_total{model="faces",version="2",handler=~"predict|infer"}': [s(200)],
    'code=~"5.."': [s(3)],
    modelship_router_requests_total: [],
    'histogram_quantile(0.95': [s(0.125)],
    modelship_feedback_total: [
      s(90, { head: 'smile', outcome: 'correct' }),
      s(10, { head: 'smile', outcome: 'incorrect' }),
    ],
    modelship_feature_bin_total: [
      s(100, { feature: 'brightness', bin: '0' }),
      s(100, { feature: 'brightness', bin: '1' }),
    ],
    modelship_predictions_total: [s(120, { head: 'smile', class: 'yes' }), s(80, { head: 'smile', class: 'no' })],
    modelship_model_errors_total: [s(2, { reason: 'corrupt_image' })],
    'max(count_over_time(modelship_requests_total{model="faces",version="2",handler=~"predict|infer"}': [s(5)],
  });
  const m = await measure(p, { role: 'canary', version: '2', model: 'faces' }, { window: '1m', at });
  assert.is(p.queries.length, 10);
  assert.equal(m, {
    role: 'canary',
    version: '2',
    window: '1m',
    time: at.toISOString(),
    problems: {},
    requests: 200,
    errors: 3,
    latencyP95Ms: 125,
    feedback: { smile: { correct: 90, total: 100 } },
    featureBins: { brightness: [100, 100] },
    predictions: { smile: { yes: 120, no: 80 } },
    modelErrors: { corrupt_image: 2 },
    scrapes: 5,
    evidenceScrapes: 5,
  });
});

test('measure: no series is missing, zero is zero, absent 5xx series are zero errors', async () => {
  const idle = await measure(
    tableProvider({ modelship_requests_total: [s(0)], 'histogram_quantile(0.95': [s(NaN)] }),
    { role: 'canary', version: '2' },
    { window: '1m' },
  );
  assert.is(idle.requests, 0);
  assert.is(idle.errors, 0);
  assert.is(idle.latencyP95Ms, undefined, 'NaN p95 (no requests) is missing, not 0');
  assert.is(idle.problems.latencyP95Ms!.reason, 'NoData');
  assert.is(idle.feedback, undefined);
  assert.is(idle.problems.feedback!.reason, 'NoData');
  assert.equal(idle.modelErrors, {});

  const nothing = await measure(tableProvider({}), { role: 'canary', version: '9' }, { window: '1m' });
  for (const key of ['requests', 'errors', 'latencyP95Ms', 'feedback', 'featureBins', 'predictions'] as const) {
    assert.is(nothing[key], undefined, key);
    assert.is(nothing.problems[key]!.reason, 'NoData', key);
  }
});

test('measure: router 502/504 count as requests and errors of the version (crashed pods)', async () => {
  const m = await measure(
    tableProvider({ modelship_router_requests_total: [s(40)] }),
    { role: 'canary', version: '2' },
    { window: '1m' },
  );
  assert.is(m.requests, 40);
  assert.is(m.errors, 40);
});

test('measure: provider errors become problems with their reason, never values', async () => {
  const down = new ProviderUnreachableError('Prometheus at http://127.0.0.1:9 is unreachable: ECONNREFUSED');
  const m = await measure(tableProvider({ modelship_: down }), { role: 'stable', version: '1' }, { window: '1m' });
  for (const key of [
    'requests',
    'errors',
    'latencyP95Ms',
    'feedback',
    'featureBins',
    'predictions',
    'modelErrors',
  ] as const) {
    assert.is(m[key], undefined, key);
    assert.is(m.problems[key]!.reason, 'ProviderUnreachable', key);
  }
  const partial = await measure(
    tableProvider({ modelship_requests_total: [s(10)], modelship_feedback_total: new BadQueryError('bad', 'q') }),
    { role: 'stable', version: '1' },
    { window: '1m' },
  );
  assert.is(partial.requests, 10);
  assert.is(partial.problems.feedback!.reason, 'BadQuery');
  // Anything that is not a provider error is a bug and must surface.
  const broken: MetricProvider = {
    type: 'x',
    query: async () => {
      throw new TypeError('bug');
    },
  };
  try {
    await measure(broken, { role: 'stable', version: '1' }, { window: '1m' });
    assert.unreachable('should have thrown');
  } catch (err) {
    assert.instance(err, TypeError);
  }
});

const policy = {
  minRequests: 100,
  minFeedback: 50,
  checks: {
    accuracy: { maxDropVsStable: 0.02, confidence: 0.95, failOnEstimate: false },
    drift: { max: 0.25 },
    latencyP95Ms: { max: 500 },
    errorRate: { max: 0.01 },
  },
};

test('analyseCanary measures both roles at one time and aggregates; a dead provider is inconclusive', async () => {
  const p = tableProvider({
    modelship_requests_total: [s(1000)],
    'handler=~"predict|infer",code=~"5.."': [s(4)],
    'histogram_quantile(0.95': [s(0.05)],
    modelship_feedback_total: [
      s(900, { head: 'smile', outcome: 'correct' }),
      s(100, { head: 'smile', outcome: 'incorrect' }),
    ],
    modelship_feature_bin_total: [
      s(500, { feature: 'brightness', bin: '0' }),
      s(500, { feature: 'brightness', bin: '1' }),
    ],
    modelship_predictions_total: [s(500, { head: 'smile', class: 'yes' }), s(500, { head: 'smile', class: 'no' })],
  });
  const r = await analyseCanary({
    provider: p,
    canary: { version: '2' },
    stable: { version: '1' },
    window: '1m',
    at,
    reference: { features: { brightness: [1, 1] }, predictions: { smile: { yes: 0.5, no: 0.5 } } },
    policy,
  });
  assert.is(r.canary.time, at.toISOString());
  assert.is(r.stable!.time, at.toISOString());
  assert.ok(p.queries.some((q) => q.includes('version="1"')) && p.queries.some((q) => q.includes('version="2"')));
  assert.equal(
    r.checks.map((c) => `${c.check}:${c.verdict}`),
    ['accuracyVsStable:Inconclusive', 'drift:Pass', 'predictionDrift:Pass', 'latencyP95Ms:Pass', 'errorRate:Pass'],
  );
  assert.is(
    r.verdict,
    'Inconclusive',
    'equal accuracies of 0.9 cannot prove non-inferiority within 0.02 on 1000 samples each',
  );

  const dead = tableProvider({ modelship_: new ProviderUnreachableError('down') });
  const d = await analyseCanary({
    provider: dead,
    canary: { version: '2' },
    stable: { version: '1' },
    window: '1m',
    reference: { features: { brightness: [1, 1] } },
    policy,
  });
  assert.is(d.verdict, 'Inconclusive');
  assert.ok(d.checks.every((c) => c.verdict === 'Inconclusive'));
  const m = await monitorVersion({
    provider: dead,
    stable: { version: '1' },
    window: '5m',
    reference: { features: { brightness: [1, 1] } },
    monitoring: { drift: { warn: 0.1, critical: 0.25 } },
    minRequests: 100,
    minFeedback: 50,
    confidence: 0.95,
  });
  assert.is(m.status.drift!.level, 'Unknown');
  assert.is(m.status.accuracy!.level, 'Unknown');
  assert.is(m.measurements.problems.featureBins!.reason, 'ProviderUnreachable');
});

test("analyseCanary and monitorVersion take increase()'s fractional counts (rounded to whole trials, not a StatsError)", async () => {
  const p = tableProvider({
    modelship_requests_total: [s(999.6)],
    'count_over_time(modelship_requests_total': [], // samples per series unknown: nothing to scale back
    'handler=~"predict|infer",code=~"5.."': [s(3.7)],
    'histogram_quantile(0.95': [s(0.05)],
    modelship_feedback_total: [
      s(899.7, { head: 'smile', outcome: 'correct' }),
      s(100.4, { head: 'smile', outcome: 'incorrect' }),
    ],
    modelship_feature_bin_total: [
      s(500.2, { feature: 'brightness', bin: '0' }),
      s(499.9, { feature: 'brightness', bin: '1' }),
    ],
    modelship_predictions_total: [s(500.3, { head: 'smile', class: 'yes' }), s(499.8, { head: 'smile', class: 'no' })],
  });
  const r = await analyseCanary({
    provider: p,
    canary: { version: '2' },
    stable: { version: '1' },
    window: '1m',
    at,
    reference: { features: { brightness: [1, 1] }, predictions: { smile: { yes: 0.5, no: 0.5 } } },
    policy,
  });
  assert.is(r.canary.requests, 1000);
  assert.is(r.canary.errors, 4);
  assert.equal(r.canary.feedback!.smile, { correct: 900, total: 1000 });
  assert.equal(
    r.checks.map((c) => `${c.check}:${c.verdict}`),
    ['accuracyVsStable:Inconclusive', 'drift:Pass', 'predictionDrift:Pass', 'latencyP95Ms:Pass', 'errorRate:Pass'],
  );
  const m = await monitorVersion({
    provider: p,
    stable: { version: '1' },
    window: '5m',
    reference: { features: { brightness: [1, 1] } },
    monitoring: { drift: { warn: 0.1, critical: 0.25 } },
    minRequests: 100,
    minFeedback: 50,
    confidence: 0.95,
  });
  assert.equal(m.measurements.feedback!.smile, { correct: 900, total: 1000 });
  assert.is(m.status.drift!.level, 'Ok');
});

test.run();
