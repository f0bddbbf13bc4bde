// Expectations of own writes: a cached version that one of our PUTs replaced is stale until the
// informer shows any other version; creates/patches (no base) expect nothing; entries expire.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OwnWrites } from '../../operator/runtime/own-writes.js';

type Step =
  | ['write', string | undefined, string | undefined, number]
  | ['observe', string]
  | ['forget']
  | ['stale?', string | undefined, number, boolean];

const cases: Array<[string, Step[]]> = [
  ['nothing written: never stale', [['stale?', '5', 0, false]]],
  [
    'the replaced version is stale, the new one is not',
    [
      ['write', '5', '6', 0],
      ['stale?', '5', 1, true],
      ['stale?', '6', 1, false],
    ],
  ],
  [
    'a create or patch (no base) expects nothing',
    [
      ['write', undefined, '6', 0],
      ['stale?', '5', 1, false],
    ],
  ],
  [
    'the informer showing the written version ends it',
    [
      ['write', '5', '6', 0],
      ['observe', '6'],
      ['stale?', '5', 1, false],
    ],
  ],
  [
    'the informer showing an older event of a superseded version keeps it',
    [
      ['write', '5', '6', 0],
      ['observe', '5'],
      ['stale?', '5', 1, true],
    ],
  ],
  [
    'two writes: both bases stale until caught up',
    [
      ['write', '5', '6', 0],
      ['write', '6', '7', 10],
      ['stale?', '5', 11, true],
      ['stale?', '6', 11, true],
      ['observe', '7'],
      ['stale?', '6', 12, false],
    ],
  ],
  [
    'any other version (a re-list past our write) ends it',
    [
      ['write', '5', '6', 0],
      ['observe', '9'],
      ['stale?', '5', 1, false],
    ],
  ],
  [
    'expires after the TTL',
    [
      ['write', '5', '6', 0],
      ['stale?', '5', 999, true],
      ['stale?', '5', 1001, false],
    ],
  ],
  ['deleted object: forgotten', [['write', '5', '6', 0], ['forget'], ['stale?', '5', 1, false]]],
  [
    'a write that changed nothing (same version) expects nothing',
    [
      ['write', '5', '5', 0],
      ['stale?', '5', 1, false],
    ],
  ],
];

for (const [name, steps] of cases) {
  test(name, () => {
    const w = new OwnWrites({ ttlMs: 1000 });
    steps.forEach((s, i) => {
      if (s[0] === 'write') w.written('k', s[1], s[2], s[3]);
      else if (s[0] === 'observe') w.observed('k', s[1]);
      else if (s[0] === 'forget') w.forget('k');
      else assert.is(w.isStale('k', s[1], s[2]), s[3], `step ${i}: stale(${s[1]}) at ${s[2]}`);
    });
  });
}

test('keys are independent; the oldest keys are forgotten beyond maxKeys', () => {
  const w = new OwnWrites({ maxKeys: 2 });
  w.written('a', '1', '2', 0);
  w.written('b', '1', '2', 0);
  assert.ok(w.isStale('a', '1', 0));
  assert.not.ok(w.isStale('a', '2', 0));
  w.written('c', '1', '2', 0);
  assert.is(w.size, 2);
  assert.not.ok(w.isStale('a', '1', 0), 'a was the oldest');
  assert.ok(w.isStale('b', '1', 0) && w.isStale('c', '1', 0));
});

test.run();
