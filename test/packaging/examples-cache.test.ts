// The model cache behind test/support/models.ts: built once, shared by concurrent callers,
// never visible half-written, and recovered from a builder that died holding the lock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCachedDir, scriptsHash, shiftSpec } from '../support/models.js';

const roots: string[] = [];
async function freshRoot(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'modelship-cache-'));
  roots.push(dir);
  return dir;
}

function slowBuilder(counter: { builds: number }, ms = 150) {
  return async (dir: string) => {
    counter.builds++;
    await new Promise((r) => setTimeout(r, ms));
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.onnx'), 'x');
  };
}

test('concurrent callers share one build and all get the finished directory', async () => {
  const root = await freshRoot();
  const counter = { builds: 0 };
  const dirs = await Promise.all(
    [1, 2, 3].map(() => ensureCachedDir(root, 'k1', slowBuilder(counter), { pollMs: 20 })),
  );
  assert.is(counter.builds, 1);
  assert.equal(new Set(dirs).size, 1);
  assert.is(await readFile(join(dirs[0], 'model.onnx'), 'utf8'), 'x');
  assert.equal((await readdir(root)).sort(), ['k1'], 'no lock or temporary directory is left behind');
});

test('an existing result is reused without building', async () => {
  const root = await freshRoot();
  const counter = { builds: 0 };
  await ensureCachedDir(root, 'k2', slowBuilder(counter, 1));
  await ensureCachedDir(root, 'k2', slowBuilder(counter, 1));
  assert.is(counter.builds, 1);
});

test('a lock left by a dead process is taken over', async () => {
  const root = await freshRoot();
  await writeFile(join(root, 'k3.lock'), '999999999');
  const counter = { builds: 0 };
  const dir = await ensureCachedDir(root, 'k3', slowBuilder(counter, 1), { pollMs: 10 });
  assert.is(counter.builds, 1);
  assert.ok(existsSync(join(dir, 'model.onnx')));
});

test('a live lock holder is waited for, not overtaken', async () => {
  const root = await freshRoot();
  await writeFile(join(root, 'k4.lock'), String(process.pid));
  const counter = { builds: 0 };
  let settled = false;
  const pending = ensureCachedDir(root, 'k4', slowBuilder(counter, 1), { pollMs: 10 }).then(() => {
    settled = true;
  });
  await new Promise((r) => setTimeout(r, 120));
  assert.is(settled, false);
  await rm(join(root, 'k4.lock'));
  await pending;
  assert.is(counter.builds, 1);
});

test('a failed build leaves nothing behind and can be retried', async () => {
  const root = await freshRoot();
  let failed = false;
  try {
    await ensureCachedDir(root, 'k5', async (dir) => {
      await mkdir(dir);
      throw new Error('trainer exited 1');
    });
  } catch (err) {
    failed = (err as Error).message === 'trainer exited 1';
  }
  assert.ok(failed);
  assert.equal(await readdir(root), []);
  const counter = { builds: 0 };
  await ensureCachedDir(root, 'k5', slowBuilder(counter, 1));
  assert.is(counter.builds, 1);
});

test('the cache key follows the scripts and differs per model kind', async () => {
  const [image, again, tabular] = await Promise.all([
    scriptsHash('image'),
    scriptsHash('image'),
    scriptsHash('tabular'),
  ]);
  assert.match(image, /^[0-9a-f]{16}$/);
  assert.is(image, again);
  assert.is.not(image, tabular);
});

test('shift objects become the generator --shift syntax', () => {
  const cases: [Parameters<typeof shiftSpec>[0], string][] = [
    [undefined, ''],
    ['blur=1', 'blur=1'],
    [{ lighting: 0.4, palette: 'warm' }, 'lighting=0.4,palette=warm'],
    [{ noise: 0.1, blur: undefined }, 'noise=0.1'],
  ];
  for (const [input, want] of cases) assert.is(shiftSpec(input), want);
});

test.after(async () => {
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

test.run();
