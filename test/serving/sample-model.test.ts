// The real trained models from examples/ (cached by test/support/models.ts): the serving path
// reproduces the trainer's accuracy (no training/serving skew), and freshly generated images
// of known classes — never seen in training — are classified correctly over HTTP.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSampleModel, ensureTabularModel, generateImages } from '../support/models.js';
import { validateModelDir } from '../../serving/lib/validation/validate-model.js';
import { bytes, startApp } from './support/fixtures.js';

const test = suite('sample models');
const scratch = mkdtempSync(join(tmpdir(), 'modelship-sample-test-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

test('validate on the face-attributes model: serving-path accuracy per head equals metrics.json', async () => {
  const dir = await ensureSampleModel();
  const { report, profile } = await validateModelDir(dir, { profileOut: join(scratch, 'profile.json') });
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  for (const [head, m] of Object.entries<any>(metrics.heads)) {
    assert.ok(
      Math.abs(report.heads[head].accuracy - m.accuracy) <= 0.02,
      `${head}: serving ${report.heads[head].accuracy} vs training ${m.accuracy}`,
    );
  }
  assert.ok(report.accuracyGap !== null && Math.abs(report.accuracyGap) <= 0.02);
  assert.is(profile.samples, report.samples);
  assert.is(
    Object.values(profile.heads.hair_color.classes).reduce((a, b) => a + b, 0),
    report.samples,
  );
});

for (const [size, format, minAccuracy] of [
  [64, 'png', 0.8],
  [96, 'jpg', 0.7],
] as const) {
  test(`fresh ${size}px ${format} face images of known classes are classified correctly over /predict`, async () => {
    const dir = await ensureSampleModel();
    const { dir: imagesDir, labels } = await generateImages({
      count: 24,
      seed: 9001 + size,
      out: join(scratch, `faces-${size}`),
      size,
      format,
    });
    const srv = await startApp(dir);
    try {
      const correct: Record<string, number> = {};
      for (let i = 0; i < labels.length; i += 8) {
        const form = new FormData();
        for (const item of labels.slice(i, i + 8))
          form.append('file', new Blob([bytes(readFileSync(join(imagesDir, item.file)))]), item.file);
        const res = await fetch(`${srv.url}/predict`, { method: 'POST', body: form });
        assert.is(res.status, 200);
        const body = await res.json();
        body.predictions.forEach((p: any, k: number) => {
          for (const [head, truth] of Object.entries(labels[i + k].labels))
            correct[head] = (correct[head] ?? 0) + (p.heads[head].label === truth ? 1 : 0);
        });
      }
      for (const [head, n] of Object.entries(correct))
        assert.ok(n / labels.length >= minAccuracy, `${head}: ${n}/${labels.length} correct`);
    } finally {
      await srv.close();
    }
  });
}

test('tabular sample model: validate matches metrics.json and /predict names the species', async () => {
  const dir = await ensureTabularModel();
  const { report } = await validateModelDir(dir, { profileOut: join(scratch, 'tab-profile.json') });
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  assert.ok(
    Math.abs(report.accuracy - metrics.accuracy) <= 0.02,
    `serving ${report.accuracy} vs training ${metrics.accuracy}`,
  );
  const reference = readFileSync(join(dir, 'reference', 'labels.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const srv = await startApp(dir);
  try {
    let hits = 0;
    for (let i = 0; i < reference.length; i += 30) {
      const chunk = reference.slice(i, i + 30);
      const res = await fetch(`${srv.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ inputs: { features: chunk.map((r) => r.features) } }),
      });
      assert.is(res.status, 200);
      const body = await res.json();
      hits += body.predictions.filter((p: any, k: number) => p.heads.species.label === chunk[k].labels.species).length;
    }
    assert.ok(Math.abs(hits / reference.length - report.accuracy) < 1e-3, 'HTTP and validate agree');
    assert.ok(hits / reference.length >= 0.85);
  } finally {
    await srv.close();
  }
});

test.run();
