// Routing decisions without sockets: weights, pins, stickiness, mirror share, config validation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  parseRouterConfig,
  RouterConfigError,
  validateRouterConfig,
  type RouterConfig,
} from '../../serving/router/config.js';
import { blockCounts, hashToUnit, readCookie, RoutingTable } from '../../serving/router/table.js';
import { parseRouterArgs, RouterUsageError } from '../../serving/router/main.js';
import { originForm } from '../../serving/router/proxy.js';
import { seeded } from '../../hack/simulate/world.js';

function config(stable: number, canary: number, extra: Partial<RouterConfig> = {}): RouterConfig {
  return {
    model: 'face-attributes',
    upstreams: [
      { role: 'stable', version: 'v1', url: 'http://127.0.0.1:1', weight: stable },
      { role: 'canary', version: 'v2', url: 'http://127.0.0.1:2', weight: canary },
    ],
    ...extra,
  };
}

function tally(table: RoutingTable, n: number, headers: (i: number) => Record<string, string> = () => ({})) {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const r = table.route(headers(i));
    const key = r.upstream ? r.upstream.role : r.code;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

function three(a: number, b: number, c: number): RouterConfig {
  const base = config(a, b);
  return {
    ...base,
    upstreams: [...base.upstreams, { role: 'shadow', version: 'v3', url: 'http://127.0.0.1:3', weight: c }],
  };
}

// Tallies over whole blocks (Σweights / gcd requests) are exact, whatever the shuffle.
for (const [stable, canary, n, expected] of [
  [90, 10, 1000, { stable: 900, canary: 100 }],
  [100, 0, 500, { stable: 500 }],
  [0, 100, 500, { canary: 500 }],
  [1, 99, 100, { stable: 1, canary: 99 }],
  [0.5, 0.5, 10, { stable: 5, canary: 5 }],
  [99.5, 0.5, 200, { stable: 199, canary: 1 }],
] as const) {
  test(`shuffled blocks give exact shares at ${stable}/${canary} over ${n} requests`, () => {
    assert.equal(tally(new RoutingTable(config(stable, canary), { random: seeded(1) }), n), expected);
  });
}

for (const [weights, expected] of [
  [
    [90, 10],
    [9, 1],
  ],
  [
    [50, 30, 20],
    [5, 3, 2],
  ],
  [
    [0.5, 0.5],
    [1, 1],
  ],
  [
    [1.1, 2.2],
    [1, 2],
  ],
  [
    [99.5, 0.5],
    [199, 1],
  ],
  [[7], [1]],
  [[], []],
  [
    [5000, 5000],
    [1, 1],
  ],
  [[4999, 5002], undefined], // 10,001 entries
  [[1 / 3, 2 / 3], undefined], // not multiples of 10^-6
  [[1, 1e-7], undefined],
] as [number[], number[] | undefined][]) {
  test(`block counts for weights ${weights.join('/') || '(none)'}: ${expected?.join('/') ?? 'fallback'}`, () =>
    assert.equal(blockCounts(weights), expected));
}

for (const [weights, block, expected] of [
  [[90, 10, 0], 10, { stable: 9, canary: 1 }],
  [[10, 90, 0], 10, { stable: 1, canary: 9 }],
  [[50, 30, 20], 10, { stable: 5, canary: 3, shadow: 2 }],
  [[2, 2, 4], 4, { stable: 1, canary: 1, shadow: 2 }],
  [[1, 99, 0], 100, { stable: 1, canary: 99 }],
] as const) {
  test(`every block of ${block} at ${weights.join('/')} holds exactly ${JSON.stringify(expected)}`, () => {
    const [a, b, c] = weights;
    const table = new RoutingTable(three(a, b, c), { random: seeded(7) });
    for (let b = 0; b < 50; b++) assert.equal(tally(table, block), expected, `block ${b}`);
  });
}

// A periodic client (a load generator cycling a fixed pool, a batch job, retries) must not alias
// with the split: a deterministic order sends the canary the same input every cycle, which fails
// its input-drift statistics for an equally good model. Each input should reach the canary
// about 10 % of the times it is sent.
for (const period of [5, 10, 20]) {
  test(`a client cycling ${period} inputs in order sends each of them to a 10 % canary ~10 % of the time`, () => {
    const table = new RoutingTable(config(90, 10), { random: seeded(42) });
    const n = 10_000;
    const sends = n / period;
    const toCanary = new Array<number>(period).fill(0);
    for (let i = 0; i < n; i++) if (table.route({}).upstream?.role === 'canary') toCanary[i % period]++;
    assert.is(
      toCanary.reduce((a, b) => a + b, 0),
      1000,
    );
    for (const [input, hits] of toCanary.entries()) {
      const share = hits / sends;
      assert.ok(share > 0.05 && share < 0.15, `input ${input}: ${hits}/${sends} to the canary (${toCanary.join(',')})`);
    }
  });
}

test('the canary slot moves between blocks (not a fixed position in a cycle)', () => {
  const table = new RoutingTable(config(90, 10), { random: seeded(3) });
  const positions = new Set<number>();
  for (let b = 0; b < 100; b++) {
    for (let i = 0; i < 10; i++) if (table.route({}).upstream?.role === 'canary') positions.add(i);
  }
  assert.is(positions.size, 10, `canary positions seen: ${[...positions].sort().join(',')}`);
});

test('a seeded source gives a reproducible sequence; another seed a different one', () => {
  const run = (seed: number, weights: [number, number]) => {
    const table = new RoutingTable(config(...weights), { random: seeded(seed) });
    return Array.from({ length: 500 }, () => table.route({}).upstream!.role).join(',');
  };
  for (const weights of [
    [90, 10],
    [4999, 5002], // block of 10,001: the independent-choice fallback
  ] as [number, number][]) {
    assert.is(run(11, weights), run(11, weights), `${weights}`);
    assert.is.not(run(11, weights), run(12, weights), `${weights}`);
  }
});

test('without a random option the table draws from Math.random', () => {
  const roles = (table: RoutingTable) => Array.from({ length: 100 }, () => table.route({}).upstream!.role).join(',');
  const injected = roles(new RoutingTable(config(50, 50), { random: seeded(5) }));
  const original = Math.random;
  try {
    Math.random = seeded(5);
    assert.is(roles(new RoutingTable(config(50, 50))), injected);
  } finally {
    Math.random = original;
  }
});

for (const [name, weights, n, expectedCanary, tolerance] of [
  ['a block over 10,000 entries (4999/5002)', [4999, 5002], 10_000, 5002, 300],
  ['weights with no common decimal scale (1/3, 2/3)', [1 / 3, 2 / 3], 9_000, 6000, 300],
] as const) {
  test(`${name} falls back to independent weighted choice, still by weight`, () => {
    const counts = tally(new RoutingTable(config(weights[0], weights[1]), { random: seeded(9) }), n);
    assert.is(counts.stable + counts.canary, n);
    assert.ok(Math.abs(counts.canary - expectedCanary) < tolerance, JSON.stringify(counts));
  });
}

test('zero-weight upstreams are never chosen, by the blocks or the fallback', () => {
  for (const weights of [
    [0, 10, 90],
    [0, 4999, 5002],
    [0, 1 / 3, 2 / 3],
  ] as [number, number, number][]) {
    const counts = tally(new RoutingTable(three(...weights), { random: seeded(13) }), 5000);
    assert.is(counts.stable, undefined, `${weights}: ${JSON.stringify(counts)}`);
    assert.is(counts.canary + counts.shadow, 5000);
  }
});

test('a weight change (a new table) applies its own exact blocks at once', () => {
  const random = seeded(21);
  const before = new RoutingTable(config(90, 10), { random });
  tally(before, 7); // part of a block left unserved
  const after = new RoutingTable(config(75, 25), { random });
  for (let b = 0; b < 25; b++) assert.equal(tally(after, 4), { stable: 3, canary: 1 }, `block ${b}`);
  const full = new RoutingTable(config(100, 0), { random });
  assert.equal(tally(full, 100), { stable: 100 });
});

test('all weights zero → NO_UPSTREAM for unpinned requests', () => {
  assert.equal(tally(new RoutingTable(config(0, 0)), 3), { NO_UPSTREAM: 3 });
});

const TRUSTED = { versionHeader: 'x-internal-pin-version', roleHeader: 'x-internal-pin-role' };

test('pins from any client are ignored by default: the weights decide', () => {
  const table = new RoutingTable(config(100, 0));
  const clientPins: Array<Record<string, string>> = [
    { 'x-modelship-version': 'v2' },
    { 'x-modelship-role': 'canary' },
    { 'x-internal-pin-version': 'v2' },
  ];
  for (const headers of clientPins)
    assert.equal(
      tally(table, 5, () => headers),
      { stable: 5 },
      JSON.stringify(headers),
    );
});

test('version pin from the trusted header beats weights, reaching a weight-0 canary; role pin likewise; unknown pins fail', () => {
  const table = new RoutingTable(config(100, 0, { pins: TRUSTED }));
  assert.equal(
    tally(table, 5, () => ({ 'x-internal-pin-version': 'v2' })),
    { canary: 5 },
  );
  assert.equal(
    tally(table, 5, () => ({ 'x-internal-pin-role': 'canary' })),
    { canary: 5 },
  );
  assert.equal(
    tally(table, 5, () => ({ 'x-modelship-version': 'v2', 'x-modelship-role': 'canary' })),
    { stable: 5 },
    'the well-known names are not trusted just because some header is',
  );
  assert.equal(
    tally(table, 2, () => ({ 'x-internal-pin-version': 'v9' })),
    { NO_UPSTREAM: 2 },
  );
  assert.equal(
    tally(table, 2, () => ({ 'x-internal-pin-role': 'shadow' })),
    { NO_UPSTREAM: 2 },
  );
  // The version pin wins over a contradicting role pin.
  assert.equal(
    tally(table, 1, () => ({ 'x-internal-pin-version': 'v1', 'x-internal-pin-role': 'canary' })),
    { stable: 1 },
  );
});

test('feedback takes no place in the split: it goes to the highest weight, predictions keep exact shares', () => {
  const table = new RoutingTable(config(90, 10));
  const served: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const feedback = table.route({}, 'feedback');
    assert.is(feedback.upstream?.role, 'stable');
    served.push(table.route({}).upstream!.role);
  }
  assert.is(served.filter((r) => r === 'canary').length, 100, 'exactly 10 % of predictions');
});

test('sticky header: a key always lands on the same upstream; keys spread by weight', () => {
  const table = new RoutingTable(config(90, 10, { sticky: { header: 'x-session-id' } }));
  const placement = new Map<string, string>();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 2000; i++) {
      const r = table.route({ 'x-session-id': `user-${i}` });
      const prior = placement.get(`user-${i}`);
      if (prior) assert.is(r.upstream?.role, prior, `user-${i} moved`);
      placement.set(`user-${i}`, r.upstream!.role);
    }
  }
  const canary = [...placement.values()].filter((r) => r === 'canary').length;
  assert.ok(canary > 2000 * 0.07 && canary < 2000 * 0.13, `canary share ${canary}/2000`);
});

test('sticky placement is monotone: growing the canary only moves sessions onto it', () => {
  const keys = Array.from({ length: 3000 }, (_, i) => `session-${i}`);
  const at = (w: number) => {
    const t = new RoutingTable(config(100 - w, w, { sticky: { header: 'x-session-id' } }));
    return keys.map((k) => t.route({ 'x-session-id': k }).upstream!.role);
  };
  const steps = [5, 10, 25, 50, 100].map(at);
  for (let s = 1; s < steps.length; s++) {
    keys.forEach((_, i) => {
      if (steps[s - 1][i] === 'canary') assert.is(steps[s][i], 'canary');
    });
  }
});

test('sticky cookie: read from the Cookie header; requests without the key use the weights', () => {
  const table = new RoutingTable(config(50, 50, { sticky: { cookie: 'sid' } }));
  const first = table.route({ cookie: 'theme=dark; sid=abc123' }).upstream!.role;
  for (let i = 0; i < 20; i++) assert.is(table.route({ cookie: `sid=abc123; n=${i}` }).upstream!.role, first);
  assert.equal(tally(table, 10), { stable: 5, canary: 5 });
  assert.is(readCookie('a=1; sid = x ; b=2', 'sid'), 'x');
  assert.is(readCookie('a=1', 'sid'), undefined);
});

test('hashToUnit spreads similar keys uniformly over [0,1)', () => {
  const buckets = new Array(10).fill(0);
  for (let i = 0; i < 10000; i++) buckets[Math.floor(hashToUnit(`k${i}`) * 10)]++;
  for (const b of buckets) assert.ok(b > 850 && b < 1150, `bucket ${b}`);
});

test('mirror: exactly percent% of requests not already served by the mirror role', () => {
  const table = new RoutingTable(config(100, 0, { mirror: { role: 'canary', percent: 25 } }));
  const [stable, canary] = table.config.upstreams;
  let mirrored = 0;
  for (let i = 0; i < 400; i++) if (table.mirrorFor(stable)) mirrored++;
  assert.is(mirrored, 100);
  assert.is(table.mirrorFor(canary), undefined);
  const off = new RoutingTable(config(100, 0, { mirror: { role: 'canary', percent: 0 } }));
  assert.is(off.mirrorFor(stable), undefined);
});

test('valid configs parse, with every optional part', () => {
  const text = JSON.stringify(
    config(90, 10, { mirror: { role: 'canary', percent: 5 }, sticky: { header: 'x-session-id' }, generation: 7 }),
  );
  assert.is(parseRouterConfig(text).generation, 7);
  assert.equal(validateRouterConfig({ model: 'm', upstreams: [] }).upstreams, []);
});

for (const [name, value, field] of [
  ['not JSON', '{', '/: not valid JSON'],
  ['missing model', { upstreams: [] }, '/: missing field "model"'],
  ['negative weight', { ...config(-1, 10) }, '/upstreams/0/weight'],
  [
    'non-http url',
    { model: 'm', upstreams: [{ role: 'stable', version: 'v1', url: 'ftp://x', weight: 1 }] },
    '/upstreams/0/url',
  ],
  ['unknown field', { ...config(1, 1), weights: 3 }, '/: unknown field "weights"'],
  [
    'duplicate role',
    { model: 'm', upstreams: [config(1, 1).upstreams[0], config(1, 1).upstreams[0]] },
    '/upstreams/1/role: duplicate role "stable"',
  ],
  [
    'mirror of a missing role',
    config(1, 1, { mirror: { role: 'shadow', percent: 1 } }),
    '/mirror/role: no upstream has role "shadow"',
  ],
  ['mirror percent over 100', config(1, 1, { mirror: { role: 'canary', percent: 101 } }), '/mirror/percent'],
  ['sticky with both header and cookie', config(1, 1, { sticky: { header: 'a', cookie: 'b' } }), '/sticky'],
  ['bad header name', config(1, 1, { sticky: { header: 'x session' } }), '/sticky/header'],
] as const) {
  test(`invalid config is rejected naming the field: ${name}`, () => {
    try {
      parseRouterConfig(typeof value === 'string' ? value : JSON.stringify(value));
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, RouterConfigError);
      assert.ok(
        (err as RouterConfigError).problems.some((p) => p.startsWith(field)),
        (err as Error).message,
      );
    }
  });
}

test('CLI flags: defaults and usage errors', () => {
  assert.equal(parseRouterArgs(['--config', 'r.json']), {
    config: 'r.json',
    port: 8080,
    adminPort: 9090,
    upstreamTimeoutMs: 60000,
    shutdownDelayMs: 0,
    source: 'file',
    namespace: undefined,
    name: undefined,
  });
  for (const argv of [
    [],
    ['--config', 'r', '--port', 'x'],
    ['--config', 'r', '--bogus'],
    ['--config', 'r', '--upstream-timeout-ms', '0'],
    ['--config', 'r', '--shutdown-delay-ms', '-1'],
  ]) {
    assert.throws(
      () => parseRouterArgs(argv),
      (e: unknown) => e instanceof RouterUsageError,
    );
  }
});

for (const [input, expected] of [
  [undefined, '/'],
  ['/predict?x=1', '/predict?x=1'],
  ['http://router.local/predict?x=1', '/predict?x=1'],
  ['*', '/*'],
] as const) {
  test(`upstream request path for ${String(input)} is ${expected}`, () => assert.is(originForm(input), expected));
}

test.run();
