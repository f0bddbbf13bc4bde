// The compact validation report (termination message): what the operator records in
// ModelVersion.status must survive, within the kubelet's 4 KiB limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compactReport, profileSummary } from '../../serving/lib/validation/compact-report.js';
import type { Profile } from '../../serving/lib/model/schema.js';

const profile = (features: number): Profile => ({
  schemaVersion: 1,
  model: 'm',
  digest: 'sha256:00',
  samples: 40,
  bins: 4,
  features: Object.fromEntries(
    Array.from({ length: features }, (_, i) => [
      `f${i}`,
      { edges: [0.123456789, 0.5, 0.87654321], counts: [10, 10, 15, 5], min: 0, max: 1, mean: 0.5 },
    ]),
  ),
  heads: { beard: { classes: { no: 30, yes: 10 }, confidence: { edges: [0.5], counts: [5, 35] } } },
});

test('profileSummary: rounded edges and shares that sum to 1, class shares per head', () => {
  const s = profileSummary(profile(1));
  assert.equal(s.features, [{ name: 'f0', edges: [0.1235, 0.5, 0.8765], proportions: [0.25, 0.25, 0.375, 0.125] }]);
  assert.equal(s.predictions, [{ head: 'beard', labels: ['no', 'yes'], proportions: [0.75, 0.25] }]);
  assert.is(s.bins, 4);
});

test('compactReport carries the distributions when they fit', () => {
  const text = compactReport({ ok: true, model: 'm', samples: 40, accuracy: 0.9 }, profile(3));
  const parsed = JSON.parse(text);
  assert.is(parsed.distributions.features.length, 3);
  assert.ok(text.length <= 4096);
});

test('compactReport drops the distributions before the headline numbers when they do not fit', () => {
  const text = compactReport({ ok: true, model: 'm', samples: 40, accuracy: 0.9 }, profile(200));
  assert.ok(text.length <= 4096, `length ${text.length}`);
  const parsed = JSON.parse(text);
  assert.is(parsed.distributions, undefined);
  assert.is(parsed.accuracy, 0.9);
  assert.is(parsed.samples, 40);
});

test.run();
