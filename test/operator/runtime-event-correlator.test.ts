// The Event correlator as pure logic: spam filter (token bucket per object), aggregation of
// similar Events (same object/type/reason, other messages), and create-then-patch dedup.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AGGREGATED_PREFIX,
  EventCorrelator,
  type Decision,
  type EventFacts,
} from '../../operator/runtime/event-correlator.js';

const ev = (message: string, over: Partial<EventFacts> = {}): EventFacts => ({
  objectKey: 'uid-1',
  type: 'Normal',
  reason: 'Synced',
  message,
  ...over,
});

/** Runs events at times (ms) and writes back what a successful write records; returns decision kinds (+count for patches). */
function run(c: EventCorrelator, steps: Array<[EventFacts, number]>): string[] {
  let n = 0;
  return steps.map(([e, t]) => {
    const d: Decision = c.decide(e, t);
    if (d.kind === 'create') c.recordWritten(d.key, { namespace: 'ns', name: `e${++n}` }, 1);
    if (d.kind === 'patch') c.recordWritten(d.key, d.ref, d.count);
    return d.kind === 'patch' ? `patch ${d.ref.name}#${d.count}` : d.kind;
  });
}

const cases: Array<[string, ConstructorParameters<typeof EventCorrelator>[0], Array<[EventFacts, number]>, string[]]> =
  [
    [
      'distinct events of an object: one create each',
      {},
      [
        [ev('a'), 0],
        [ev('b', { reason: 'Other' }), 0],
        [ev('c', { type: 'Warning' }), 0],
      ],
      ['create', 'create', 'create'],
    ],
    [
      'a repeat patches the Event it repeats, counting up',
      {},
      [
        [ev('a'), 0],
        [ev('a'), 1],
        [ev('b', { reason: 'R2' }), 2],
        [ev('a'), 3],
      ],
      ['create', 'patch e1#2', 'create', 'patch e1#3'],
    ],
    [
      'other objects are counted apart',
      {},
      [
        [ev('a'), 0],
        [ev('a', { objectKey: 'uid-2' }), 0],
      ],
      ['create', 'create'],
    ],
    [
      'burst then drop, refilled over time',
      { burst: 2, refillPerSecond: 1 },
      [
        [ev('a'), 0],
        [ev('b', { reason: 'R2' }), 0],
        [ev('c', { reason: 'R3' }), 0],
        [ev('c', { reason: 'R3' }), 999],
        [ev('c', { reason: 'R3' }), 1000],
      ],
      ['create', 'create', 'drop', 'drop', 'create'],
    ],
    [
      'the bucket never holds more than the burst',
      { burst: 1, refillPerSecond: 1 },
      [
        [ev('a'), 0],
        [ev('a'), 60_000],
        [ev('a'), 60_000],
      ],
      ['create', 'patch e1#2', 'drop'],
    ],
    [
      'similar messages: the 3rd and later combine into one Event',
      { maxSimilar: 3 },
      [
        [ev('m1'), 0],
        [ev('m2'), 1],
        [ev('m3'), 2],
        [ev('m4'), 3],
        [ev('m2'), 4],
      ],
      ['create', 'create', 'create', 'patch e3#2', 'patch e3#3'],
    ],
    [
      'similar messages outside the window start over',
      { maxSimilar: 2, similarWindowMs: 100 },
      [
        [ev('m1'), 0],
        [ev('m2'), 200],
        [ev('m3'), 201],
      ],
      ['create', 'create', 'create'],
    ],
  ];

for (const [name, opts, steps, want] of cases) {
  test(name, () => assert.equal(run(new EventCorrelator(opts), steps), want));
}

test('aggregated message carries the prefix and the latest message', () => {
  const c = new EventCorrelator({ maxSimilar: 2 });
  assert.equal(c.aggregate(ev('first'), 0).message, 'first');
  const second = c.aggregate(ev('second'), 1);
  assert.is(second.message, `${AGGREGATED_PREFIX}second`);
  assert.is(c.aggregate(ev('third'), 2).key, second.key);
});

test('an Event the server expired is created again after forgetWritten', () => {
  const c = new EventCorrelator();
  const first = c.decide(ev('a'), 0);
  assert.is(first.kind, 'create');
  if (first.kind !== 'create') return;
  c.recordWritten(first.key, { namespace: 'ns', name: 'e1' }, 1);
  assert.is(c.decide(ev('a'), 1).kind, 'patch');
  c.forgetWritten(first.key);
  assert.is(c.decide(ev('a'), 2).kind, 'create');
});

test('caches are bounded: the least recently used Event is forgotten', () => {
  const c = new EventCorrelator({ cacheSize: 2 });
  assert.equal(
    run(c, [
      [ev('a'), 0],
      [ev('b', { reason: 'B' }), 0],
      [ev('a'), 1],
      [ev('c', { reason: 'C' }), 2],
      [ev('a'), 3],
      [ev('b', { reason: 'B' }), 4],
    ]),
    ['create', 'create', 'patch e1#2', 'create', 'patch e1#3', 'create'],
  );
});

test.run();
