// The node agent's Job controller pass helpers: pods grouped by their controlling Job, and the
// bounded fan-out that lets one pass overlap the writes of independent Jobs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { forEachBounded, podsByController } from '../../hack/devcluster/agent/job-controller.js';
import type { KubeObject } from '../../hack/devcluster/agent/kube-client.js';

const pod = (name: string, owners: Array<{ uid: string; controller?: boolean }>): KubeObject =>
  ({
    metadata: {
      name,
      namespace: 'default',
      ownerReferences: owners.map((o) => ({ apiVersion: 'batch/v1', kind: 'Job', name: o.uid, ...o })),
    },
  }) as KubeObject;

test('podsByController groups pods by the uid of their controller only', () => {
  const pods = [
    pod('a1', [{ uid: 'job-a', controller: true }]),
    pod('b1', [{ uid: 'job-b', controller: true }]),
    pod('a2', [{ uid: 'other' }, { uid: 'job-a', controller: true }]),
    pod('orphan', []),
    pod('not-controlled', [{ uid: 'job-c' }]),
  ];
  const byJob = podsByController(pods);
  assert.equal([...byJob.keys()].sort(), ['job-a', 'job-b']);
  assert.equal(
    byJob.get('job-a')?.map((p) => p.metadata.name),
    ['a1', 'a2'],
  );
  assert.equal(
    byJob.get('job-b')?.map((p) => p.metadata.name),
    ['b1'],
  );
});

test('forEachBounded visits every item once and never exceeds the limit', async () => {
  for (const { items, limit } of [
    { items: 0, limit: 4 },
    { items: 3, limit: 8 },
    { items: 50, limit: 4 },
    { items: 7, limit: 1 },
  ]) {
    let pending = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachBounded(
      Array.from({ length: items }, (_, i) => i),
      limit,
      async (i) => {
        pending++;
        peak = Math.max(peak, pending);
        await Promise.resolve();
        seen.push(i);
        pending--;
      },
    );
    assert.equal(
      seen.sort((a, b) => a - b),
      Array.from({ length: items }, (_, i) => i),
      `items ${items}`,
    );
    assert.ok(peak <= Math.max(1, limit), `peak ${peak} with limit ${limit}`);
    if (items >= limit) assert.is(peak, limit, `all ${limit} lanes busy`);
  }
});

test('forEachBounded finishes the other items and then reports the first failure', async () => {
  const done: number[] = [];
  try {
    await forEachBounded([1, 2, 3, 4], 2, async (i) => {
      if (i === 2) throw new Error('boom 2');
      if (i === 3) throw new Error('boom 3');
      done.push(i);
    });
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.is((e as Error).message, 'boom 2');
  }
  assert.equal(done.sort(), [1, 4]);
});

test.run();
