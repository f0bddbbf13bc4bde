// The label-free accuracy estimate: the mean calibrated confidence with its interval, and the
// refusals that say why no number is given.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_ESTIMATE_POLICY, estimateAccuracy } from '../../operator/analysis/estimate.js';
import { liveCounts, measureEstimates } from '../../operator/analysis/estimate-measure.js';
import { estimatedAccuracyChecks } from '../../operator/analysis/checks/estimated.js';
import { referenceFromProfileJson, referenceFromStatusProfile } from '../../operator/analysis/reference.js';
import { ProviderUnreachableError, type Sample } from '../../operator/metrics-providers/index.js';
import { tableProvider } from '../support/table-provider.js';

const policy = { ...DEFAULT_ESTIMATE_POLICY, confidence: 0.95, minSamples: 50 };
const reference = { bins: [0, 0, 10, 30, 60], eceAfter: 0.02 };
const live = (bins: number[], mean: number) => {
  const count = bins.reduce((a, b) => a + b, 0);
  return { bins, count, sum: mean * count };
};

const cases: Array<[string, ReturnType<typeof live>, number | undefined, string]> = [
  ['like the reference: an estimate', live([0, 0, 100, 300, 600], 0.9), 0.1, 'value'],
  ['too few predictions', live([0, 0, 1, 3, 6], 0.9), 0.1, 'TooFewSamples'],
  [
    'a fifth of the confidences where the reference had none',
    live([100, 100, 100, 300, 400], 0.7),
    0.1,
    'OutsideSupport',
  ],
  ['inputs far from the reference', live([0, 0, 100, 300, 600], 0.9), 3, 'InputDrift'],
  ['drift not measured: no refusal for it', live([0, 0, 100, 300, 600], 0.9), undefined, 'value'],
];
for (const [name, counts, drift, expected] of cases)
  test(`estimate: ${name}`, () => {
    const e = estimateAccuracy({ head: 'h', live: counts, reference, inputDrift: drift }, policy);
    assert.is('refused' in e ? e.refused : 'value', expected, JSON.stringify(e));
  });

test('the interval is the sampling error of the mean plus the out-of-fold calibration error', () => {
  const e = estimateAccuracy({ head: 'h', live: live([0, 0, 100, 300, 600], 0.9), reference, inputDrift: 0 }, policy);
  assert.ok('value' in e);
  if (!('value' in e)) return;
  const half = 1.959964 * Math.sqrt((0.9 * 0.1) / 1000) + 0.02;
  assert.ok(Math.abs(e.value - 0.9) < 1e-9);
  assert.ok(Math.abs(e.upper - e.value - half) < 1e-3 && Math.abs(e.value - e.lower - half) < 1e-3, JSON.stringify(e));
});

test('a head without calibration gets no estimate', () => {
  const e = estimateAccuracy(
    { head: 'h', live: live([0, 0, 100, 300, 600], 0.9), reference: undefined, inputDrift: 0 },
    policy,
  );
  assert.is('refused' in e && e.refused, 'NoCalibration');
});

const T = new Date('2026-01-01T00:00:00Z');
const s = (value: number, labels: Record<string, string>): Sample => ({ labels, value, timestamp: T });
/** Cumulative `le` buckets of head h: 0, 0, 100, 400, 1000 (then 1000 at +Inf). */
const buckets = ['0.2', '0.4', '0.6', '0.8', '1', '+Inf'].map((le, i) =>
  s([0, 0, 100, 400, 1000, 1000][i], { head: 'h', le }),
);

test('liveCounts: cumulative buckets become per-bin counts, in le order whatever the sample order', () => {
  const counts = liveCounts([...buckets].reverse(), [s(900, { head: 'h' })], [s(1000, { head: 'h' })], 5);
  assert.equal(counts.h, { bins: [0, 0, 100, 300, 600], sum: 900, count: 1000 });
});

test('measureEstimates: from the served histogram to an estimate; a dead Prometheus refuses, never estimates', async () => {
  const reference = { features: {}, calibration: { h: { bins: [0, 0, 10, 30, 60], eceAfter: 0.02 } } };
  const input = { target: { version: '2' }, evidenceWindow: '5m', at: T, reference, inputDrift: 0.1 };
  const provider = tableProvider({
    modelship_prediction_calibrated_confidence_bucket: buckets,
    modelship_prediction_calibrated_confidence_sum: [s(900, { head: 'h' })],
    modelship_prediction_calibrated_confidence_count: [s(1000, { head: 'h' })],
  });
  const [e] = await measureEstimates({ ...input, provider }, policy);
  assert.ok('value' in e && Math.abs(e.value - 0.9) < 1e-9, JSON.stringify(e));
  assert.ok(provider.queries.every((q) => q.includes('version="2"') && q.includes('[5m]')));
  const dead = tableProvider({ modelship_: new ProviderUnreachableError('down') });
  const [d] = await measureEstimates({ ...input, provider: dead }, policy);
  assert.is('refused' in d && d.refused, 'NoData');
});

test('early failure: only with failOnEstimate and min, only for an upper bound below min', () => {
  const estimates = [
    { head: 'a', value: 0.6, lower: 0.55, upper: 0.65, samples: 500 },
    { head: 'b', value: 0.9, lower: 0.85, upper: 0.95, samples: 500 },
    { head: 'c', refused: 'InputDrift' as const, message: 'x', samples: 500 },
  ];
  assert.equal(estimatedAccuracyChecks(estimates, { min: 0.8 }), []);
  const fails = estimatedAccuracyChecks(estimates, { min: 0.8, failOnEstimate: true });
  assert.equal(
    fails.map((c) => [c.check, c.head, c.verdict]),
    [['estimatedAccuracy', 'a', 'Fail']],
  );
});

test("the reference carries each head's calibration, from status or from profile.json", () => {
  const fromStatus = referenceFromStatusProfile(
    { samples: 100, features: [{ name: 'f', edges: [0.5], proportions: [0.5, 0.5] }] },
    [{ head: 'h', temperature: 1.2, eceAfter: 0.03, confidenceCounts: [1, 2, 3] }],
  );
  assert.equal(fromStatus?.calibration, { h: { bins: [1, 2, 3], eceAfter: 0.03 } });
  const fromJson = referenceFromProfileJson({
    features: { f: { counts: [50, 50] } },
    heads: { h: { classes: { a: 1 }, calibration: { eceAfter: 0.04, confidence: { counts: [4, 5] } } } },
  });
  assert.equal(fromJson.calibration, { h: { bins: [4, 5], eceAfter: 0.04 } });
});

test.run();
