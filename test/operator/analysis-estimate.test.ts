// The label-free accuracy estimate: the mean calibrated confidence with its interval, and the
// refusals that say why no number is given.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_ESTIMATE_POLICY, estimateAccuracy } from '../../operator/analysis/estimate.js';

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

test.run();
