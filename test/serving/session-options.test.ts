// onnxruntime session options: no busy-waiting pool threads unless asked for, and every
// thread/spinning choice gives the same predictions (only timing may differ).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Model, sessionOptions, type LoadOptions } from '../../serving/lib/model/onnx-model.js';
import { prepareImages } from '../../serving/lib/pipeline/prepare.js';
import type { ImageInput } from '../../serving/lib/model/schema.js';
import { colourImage, fixtureModels } from './support/fixtures.js';

const noSpin = { extra: { session: { intra_op: { allow_spinning: '0' } } } };
const cases: Array<[string, LoadOptions, object]> = [
  [
    'one thread: no pool, nothing to spin',
    { intraOpThreads: 1 },
    { graphOptimizationLevel: 'all', intraOpNumThreads: 1 },
  ],
  ['onnxruntime default threads: spinning off', { intraOpThreads: 0 }, { graphOptimizationLevel: 'all', ...noSpin }],
  ['nothing given = onnxruntime default threads, spinning off', {}, { graphOptimizationLevel: 'all', ...noSpin }],
  [
    '4 threads: spinning off',
    { intraOpThreads: 4 },
    { graphOptimizationLevel: 'all', intraOpNumThreads: 4, ...noSpin },
  ],
  [
    '4 threads, spinning asked for',
    { intraOpThreads: 4, intraOpSpinning: true },
    { graphOptimizationLevel: 'all', intraOpNumThreads: 4, extra: { session: { intra_op: { allow_spinning: '1' } } } },
  ],
];

for (const [name, opts, expected] of cases) {
  test(`session options: ${name}`, () => {
    assert.equal(sessionOptions(opts), expected);
  });
}

test('onnxruntime accepts each choice and the predictions are identical', async () => {
  const dir = fixtureModels().colours;
  const images = await Promise.all(
    [
      [250, 10, 10],
      [10, 240, 20],
      [20, 20, 230],
    ].map((rgb) => colourImage(rgb as [number, number, number], 64, 48, 'jpeg')),
  );
  const results: string[] = [];
  for (const [, opts] of cases) {
    const model = await Model.load(dir, opts);
    try {
      const batch = await prepareImages(model.signature.input as ImageInput, images, 1_000_000);
      results.push(JSON.stringify(await model.predict(batch.input, batch.dims)));
    } finally {
      await model.close();
    }
  }
  assert.ok(results[0].includes('"label"'), 'predictions were made');
  for (const r of results.slice(1)) assert.is(r, results[0]);
});

test.run();
