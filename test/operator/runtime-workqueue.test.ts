// Work queue behaviour: de-duplication, one reconcile per key at a time, bounded concurrency,
// per-key backoff, requeueAfter and shutdown (with and without drain).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WorkQueue } from '../../operator/runtime/workqueue.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fast = { initialMs: 20, maxMs: 200, factor: 2, jitter: 0 };

test('a key added many times while queued is processed once', async () => {
  const q = new WorkQueue();
  for (let i = 0; i < 10; i++) q.add('ns/a');
  q.add('ns/b');
  assert.is(q.depth, 2);
  const seen: string[] = [];
  const run = q.process({
    concurrency: 2,
    handler: async (k) => {
      seen.push(k);
    },
  });
  await wait(20);
  await q.shutdown();
  await run;
  assert.equal(seen.sort(), ['ns/a', 'ns/b']);
});

test('a key is never processed twice at once; an add during processing re-runs it after', async () => {
  const q = new WorkQueue();
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const run = q.process({
    concurrency: 4,
    handler: async () => {
      active++;
      runs++;
      maxActive = Math.max(maxActive, active);
      await wait(30);
      active--;
    },
  });
  q.add('k');
  await wait(5);
  q.add('k');
  q.add('k');
  q.add('k'); // while processing: one more run, not three
  await wait(100);
  await q.shutdown();
  await run;
  assert.is(maxActive, 1);
  assert.is(runs, 2);
});

test('concurrency bounds the number of reconciles in flight', async () => {
  const q = new WorkQueue();
  let active = 0;
  let maxActive = 0;
  const run = q.process({
    concurrency: 3,
    handler: async () => {
      active++;
      maxActive = Math.max(maxActive, active);
      await wait(20);
      active--;
    },
  });
  for (let i = 0; i < 12; i++) q.add(`k${i}`);
  await wait(150);
  await q.shutdown();
  await run;
  assert.is(maxActive, 3);
});

test('failures back off exponentially per key and success resets the count', async () => {
  const q = new WorkQueue({ backoff: fast });
  const times: number[] = [];
  let fail = 3;
  const delays: number[] = [];
  const run = q.process({
    concurrency: 1,
    handler: async () => {
      times.push(Date.now());
      if (fail-- > 0) throw new Error('boom');
    },
    onError: (_k, _e, d) => delays.push(d),
  });
  q.add('k');
  await wait(250);
  assert.equal(delays, [20, 40, 80]);
  assert.is(times.length, 4);
  const gaps = times.slice(1).map((t, i) => t - times[i]);
  gaps.forEach((g, i) => assert.ok(g >= delays[i] - 2, `gap ${g} ≥ ${delays[i]}`));
  assert.is(q.failuresOf('k'), 0, 'success forgets the failures');
  await q.shutdown();
  await run;
});

test('backoff of one key does not delay other keys', async () => {
  const q = new WorkQueue({ backoff: { ...fast, initialMs: 500 } });
  const done: string[] = [];
  const run = q.process({
    concurrency: 1,
    handler: async (k) => {
      if (k === 'bad') throw new Error('x');
      done.push(k);
    },
  });
  q.add('bad');
  q.add('good');
  await wait(30);
  assert.equal(done, ['good']);
  assert.is(q.failuresOf('bad'), 1);
  await q.shutdown();
  await run;
});

test('requeueAfter re-runs the key after the delay; the earliest schedule wins', async () => {
  const q = new WorkQueue();
  const times: number[] = [];
  const other: number[] = [];
  const start = Date.now();
  const run = q.process({
    concurrency: 1,
    handler: async (k) => {
      if (k === 'other') {
        other.push(Date.now() - start);
        return;
      }
      times.push(Date.now() - start);
      return times.length === 1 ? { requeueAfterMs: 60 } : undefined;
    },
  });
  q.add('k');
  q.addAfter('other', 500);
  q.addAfter('other', 30); // earlier wins
  q.addAfter('other', 400); // later is ignored
  await wait(200);
  assert.is(times.length, 2);
  assert.ok(times[1] >= 55, `second run after ${times[1]} ms`);
  assert.is(other.length, 1);
  assert.ok(other[0] >= 25 && other[0] < 450, `scheduled key ran at ${other[0]} ms`);
  await q.shutdown();
  await run;
});

test('shutdown without drain stops handing out keys but waits for in-flight work', async () => {
  const q = new WorkQueue();
  const finished: string[] = [];
  const run = q.process({
    concurrency: 1,
    handler: async (k) => {
      await wait(40);
      finished.push(k);
    },
  });
  q.add('a');
  q.add('b');
  q.add('c');
  await wait(10);
  const t0 = Date.now();
  await q.shutdown();
  assert.ok(Date.now() - t0 >= 20, 'waited for the in-flight reconcile');
  await run;
  assert.equal(finished, ['a']);
  q.add('d');
  assert.is(q.depth, 0, 'adds after shutdown are ignored');
});

test('shutdown with drain finishes what is queued first', async () => {
  const q = new WorkQueue();
  const finished: string[] = [];
  const run = q.process({
    concurrency: 2,
    handler: async (k) => {
      await wait(15);
      finished.push(k);
    },
  });
  for (const k of ['a', 'b', 'c', 'd', 'e']) q.add(k);
  q.addAfter('later', 1000);
  await q.shutdown({ drain: true });
  await run;
  assert.equal(finished.sort(), ['a', 'b', 'c', 'd', 'e']);
});

test('queue depth is reported as keys come and go', async () => {
  const depths: number[] = [];
  const q = new WorkQueue({ onDepth: (d) => depths.push(d) });
  q.add('a');
  q.add('b');
  assert.equal(depths, [1, 2]);
  const run = q.process({ concurrency: 1, handler: async () => undefined });
  await wait(10);
  await q.shutdown();
  await run;
  assert.is(depths[depths.length - 1], 0);
});

test.run();
