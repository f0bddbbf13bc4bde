// The hand-written helpers that go with the generated API types (operator/api): ModelVersion
// names and durations as the CRDs write them. Storage URIs are tested with their parser in
// test/operator/storage-uri.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as api from '../../operator/api/index.js';

test('ModelVersion names follow <model>-v<version> both ways', () => {
  assert.is(api.modelVersionName('face-attributes', 12), 'face-attributes-v12');
  assert.equal(api.parseModelVersionName('face-attributes-v12'), { model: 'face-attributes', version: 12 });
  assert.equal(api.parseModelVersionName('v2-v3'), { model: 'v2', version: 3 });
  for (const bad of ['face-attributes-latest', 'face-attributes-v0', 'face-attributes-v01', 'Face-v1', '-v1']) {
    assert.is(api.parseModelVersionName(bad), undefined, bad);
  }
  assert.throws(() => api.modelVersionName('m', 0), /positive integer/);
  assert.throws(() => api.modelVersionName('m', 1.5), /positive integer/);
});

test('durations parse and format like the CRD pattern and CEL duration()', () => {
  const table: [string, number][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    ['1h1m1s1ms', 3_661_001],
  ];
  for (const [text, ms] of table) {
    assert.is(api.parseDuration(text), ms, text);
    assert.is(api.formatDuration(ms), text);
  }
  assert.is(api.parseDuration('90s'), 90_000);
  assert.is(api.formatDuration(0), '0s');
  for (const bad of ['', '5', '5 minutes', '1d', '-1s', '1.5h', 'm']) {
    assert.throws(
      () => api.parseDuration(bad),
      (e: unknown) => e instanceof api.DurationError && /invalid duration/.test(String(e)),
      bad,
    );
  }
  assert.throws(
    () => api.formatDuration(-1),
    (e: unknown) => e instanceof api.DurationError,
  );
});

test('annotations and labels live in the modelship.dev group', () => {
  assert.equal(api.Annotations, {
    promote: 'modelship.dev/promote',
    rollback: 'modelship.dev/rollback',
    abort: 'modelship.dev/abort',
    modelVersion: 'modelship.dev/model-version',
  });
  for (const [name, key] of Object.entries(api.Labels)) {
    if (name !== 'managedBy') assert.match(key, /^modelship\.dev\/[a-z-]+$/);
  }
});

test.run();
