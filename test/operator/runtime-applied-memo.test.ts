import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AppliedMemo } from '../../operator/runtime/applied-memo.js';

const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web-router', namespace: 'ml' } };

const cases: Array<{ name: string; steps: (m: AppliedMemo) => boolean; want: boolean }> = [
  { name: 'nothing remembered: apply', steps: (m) => m.isCurrent('k', sa, 0), want: false },
  {
    name: 'same intent within the ttl: skip',
    steps: (m) => (m.remember('k', sa, 0), m.isCurrent('k', structuredClone(sa), 59_999)),
    want: true,
  },
  {
    name: 'same intent after the ttl: apply again',
    steps: (m) => (m.remember('k', sa, 0), m.isCurrent('k', sa, 60_000)),
    want: false,
  },
  {
    name: 'changed intent: apply',
    steps: (m) => (
      m.remember('k', sa, 0),
      m.isCurrent('k', { ...sa, metadata: { ...sa.metadata, labels: { a: 'b' } } }, 1)
    ),
    want: false,
  },
  { name: 'another key: apply', steps: (m) => (m.remember('k', sa, 0), m.isCurrent('other', sa, 1)), want: false },
  {
    name: 'forgotten by prefix: apply',
    steps: (m) => (m.remember('ml/web|sa', sa, 0), m.forget('ml/web|'), m.isCurrent('ml/web|sa', sa, 1)),
    want: false,
  },
  {
    name: 'another prefix kept',
    steps: (m) => (m.remember('ml/web2|sa', sa, 0), m.forget('ml/web|'), m.isCurrent('ml/web2|sa', sa, 1)),
    want: true,
  },
];

for (const c of cases) {
  test(c.name, () => {
    assert.is(c.steps(new AppliedMemo({ ttlMs: 60_000 })), c.want);
  });
}

test('the remembered intent is a copy: a caller mutating its object later does not fake a match', () => {
  const m = new AppliedMemo();
  const obj = structuredClone(sa) as typeof sa & { metadata: { labels?: Record<string, string> } };
  m.remember('k', obj, 0);
  obj.metadata.labels = { changed: 'yes' };
  assert.not.ok(m.isCurrent('k', obj, 1));
});

test('bounded: the oldest keys are forgotten first', () => {
  const m = new AppliedMemo({ maxKeys: 2 });
  m.remember('a', 1, 0);
  m.remember('b', 2, 0);
  m.remember('c', 3, 0);
  assert.is(m.size, 2);
  assert.not.ok(m.isCurrent('a', 1, 1));
  assert.ok(m.isCurrent('c', 3, 1));
});

test.run();
