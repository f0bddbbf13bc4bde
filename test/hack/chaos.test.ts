// Pure parts of the chaos helpers: seeds replay exactly, plans stay within their bounds and
// cover every kind of fault, and a bad CHAOS_SEED is refused rather than silently replaced.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyFault, planStorm, type FaultAction } from '../../hack/chaos/faults.js';
import { planKills } from '../../hack/chaos/monkey.js';
import { createRng, SeedError, seedFrom } from '../../hack/chaos/seed.js';

test('the same seed gives the same sequence; another seed a different one', () => {
  const a = createRng(42),
    b = createRng(42),
    c = createRng(43);
  const seq = (r: ReturnType<typeof createRng>) => Array.from({ length: 20 }, () => r.next());
  const sa = seq(a);
  assert.equal(sa, seq(b));
  assert.not.equal(sa, seq(c));
  assert.ok(sa.every((x) => x >= 0 && x < 1));
});

test('int() stays within [min, max] and reaches both ends', () => {
  const r = createRng(7);
  const xs = Array.from({ length: 2000 }, () => r.int(3, 6));
  assert.ok(xs.every((x) => x >= 3 && x <= 6 && Number.isInteger(x)));
  assert.equal([...new Set(xs)].sort(), [3, 4, 5, 6]);
});

test('seedFrom: CHAOS_SEED replays, absent falls back, garbage is refused', () => {
  assert.is(seedFrom({ CHAOS_SEED: '12345' }), 12345);
  assert.is(
    seedFrom({}, () => 99),
    99,
  );
  for (const bad of ['-1', '1.5', 'abc', String(2 ** 32)])
    assert.throws(
      () => seedFrom({ CHAOS_SEED: bad }),
      (e: unknown) => e instanceof SeedError,
    );
});

test('kill plans: within bounds, targets spread, reproducible', () => {
  const plan = planKills(createRng(1), { kills: 50, targets: 3, upMs: [100, 200], downMs: [0, 50] });
  assert.is(plan.length, 50);
  assert.ok(plan.every((k) => k.upMs >= 100 && k.upMs <= 200 && k.downMs >= 0 && k.downMs <= 50));
  assert.equal([...new Set(plan.map((k) => k.target))].sort(), [0, 1, 2]);
  assert.equal(plan, planKills(createRng(1), { kills: 50, targets: 3, upMs: [100, 200], downMs: [0, 50] }));
});

test('fault storms cover every fault kind and are applied to the injector as planned', () => {
  const plan = planStorm(createRng(5), { actions: 200, resources: ['pods', 'jobs.batch'], latencyMs: 2000 });
  const kinds = new Set(plan.map((a) => (a.op === 'fail' ? `${a.op}${a.code}` : a.op)));
  assert.equal([...kinds].sort(), ['compact', 'dropWatches', 'fail409', 'fail410', 'fail500', 'latency']);
  assert.ok(plan.every((a) => a.op !== 'latency' || a.latencyMs === 2000));
  const calls: string[] = [];
  const target = {
    failNext: (r: { code: number; verb?: string; subresource?: string }) =>
      calls.push(`fail ${r.code} ${r.verb}${r.subresource ? '/' + r.subresource : ''}`),
    addLatency: (r: { latencyMs: number }) => calls.push(`latency ${r.latencyMs}`),
    dropWatches: (m?: { abrupt?: boolean }) => calls.push(`drop ${m?.abrupt}`),
    compact: () => calls.push('compact'),
  };
  const sample: FaultAction[] = [
    { op: 'fail', verb: 'update', resource: 'pods', subresource: 'status', code: 409, count: 2 },
    { op: 'latency', verb: 'get', resource: 'pods', latencyMs: 2000, count: 1 },
    { op: 'dropWatches', abrupt: true },
    { op: 'compact' },
  ];
  for (const a of sample) applyFault(target, a);
  assert.equal(calls, ['fail 409 update/status', 'latency 2000', 'drop true', 'compact']);
});

test.run();
