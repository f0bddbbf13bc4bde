// Confidence calibration fitted at validation (temperature scaling), its error before and
// after, and the calibrated confidence the server exports.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  calibrate,
  calibratedConfidence,
  expectedCalibrationError,
  fitTemperature,
  temper,
  type Labelled,
} from '../../serving/lib/monitoring/calibration.js';
import { compactReport } from '../../serving/lib/validation/compact-report.js';
import { parseValidationReport } from '../../operator/controllers/modelversion/report.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { copyModel, fixtureModels, parseMetrics, startApp } from './support/fixtures.js';
import { validateModelDir } from '../../serving/lib/validation/validate-model.js';

const test = suite('calibration');

/** A deterministic pseudo-random stream (LCG), so the tables do not depend on Math.random. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/**
 * Binary predictions whose true accuracy at raw confidence c is sigmoid(logit(c) / k): k > 1
 * means the model is over-confident (the right temperature is k), k < 1 under-confident.
 */
function binary(n: number, k: number, seed = 7): Labelled[] {
  const r = rng(seed);
  const items: Labelled[] = [];
  for (let i = 0; i < n; i++) {
    const c = 0.5 + 0.4999 * r();
    const logit = Math.log(c / (1 - c));
    const accuracy = 1 / (1 + Math.exp(-logit / k));
    const right = r() < accuracy;
    items.push({ probabilities: [1 - c, c], truth: right ? 1 : 0 });
  }
  return items;
}

const cases: Array<[string, number, [number, number]]> = [
  ['calibrated already: T near 1', 1, [0.8, 1.25]],
  ['over-confident: T near 2', 2, [1.6, 2.5]],
  ['under-confident: T near 0.5', 0.5, [0.4, 0.63]],
];
for (const [name, k, [lo, hi]] of cases)
  test(`fitTemperature: ${name}`, () => {
    const t = fitTemperature(binary(4000, k));
    assert.ok(t > lo && t < hi, `T = ${t}`);
  });

test('temperature scaling lowers the calibration error of an over-confident head, out of fold too', () => {
  const c = calibrate(binary(2000, 2.5, 11));
  assert.ok(c.eceBefore > 0.05, JSON.stringify(c));
  assert.ok(c.eceAfter < c.eceBefore / 2, JSON.stringify(c));
  assert.is(c.samples, 2000);
});

test('temper keeps the predicted class; T = 1 changes nothing; binary is sigmoid(logit / T)', () => {
  assert.equal(
    temper([0.2, 0.8], 1).map((p) => Number(p.toFixed(12))),
    [0.2, 0.8],
  );
  const p = temper([0.1, 0.3, 0.6], 3);
  assert.ok(p[2] > p[1] && p[1] > p[0]);
  const c = 0.9;
  const expected = 1 / (1 + Math.exp(-Math.log(c / (1 - c)) / 2));
  assert.ok(Math.abs(calibratedConfidence([1 - c, c], 2) - expected) < 1e-12);
});

test('ECE: a perfectly calibrated bin is 0, an over-confident one its gap', () => {
  const right = (n: number, correct: number): Labelled[] =>
    Array.from({ length: n }, (_, i) => ({ probabilities: [0.1, 0.9], truth: i < correct ? 1 : 0 }));
  assert.ok(expectedCalibrationError(right(100, 90), 1) < 1e-9);
  assert.ok(Math.abs(expectedCalibrationError(right(100, 60), 1) - 0.3) < 1e-9);
});

test('validation records the calibration in profile.json and the report; the operator reads it into status', async () => {
  const { profile, report } = await validateModelDir(fixtureModels().iris);
  const c = profile.heads.species.calibration;
  assert.ok(c && c.temperature > 0 && c.samples > 0, JSON.stringify(c));
  assert.is(
    c!.confidence.counts.reduce((a, b) => a + b, 0),
    profile.samples,
  );
  const parsed = parseValidationReport(compactReport({ ...report, ok: true }, profile));
  assert.ok(parsed.ok);
  const status = parsed.ok ? parsed.report.calibration : undefined;
  assert.equal(status?.[0].head, 'species');
  assert.is(status?.[0].samples, c!.samples);
  assert.ok(Math.abs(status![0].temperature - c!.temperature) / c!.temperature < 1e-3);
});

test('the server exports the calibrated confidence of each prediction', async () => {
  // A copy whose profile.json is the one validation writes now, with its calibration.
  const copy = copyModel(fixtureModels().iris);
  const { profile } = await validateModelDir(copy.dir);
  writeFileSync(join(copy.dir, 'profile.json'), JSON.stringify(profile));
  const app = await startApp(copy.dir);
  try {
    await fetch(`${app.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: { features: [[5.1, 3.5, 1.4, 0.2]] } }),
    });
    const m = parseMetrics(await (await fetch(`${app.url}/metrics`)).text());
    assert.is(m('modelship_prediction_calibrated_confidence_count', { head: 'species' }), 1);
  } finally {
    await app.close();
    copy.cleanup();
  }
});

test.run();
