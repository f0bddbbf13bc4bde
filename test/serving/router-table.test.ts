// Routing decisions without sockets: weights, pins, stickiness, mirror share, config validation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  parseRouterConfig,
  RouterConfigError,
  validateRouterConfig,
  type RouterConfig,
} from '../../serving/router/config.js';
import { hashToUnit, readCookie, RoutingTable } from '../../serving/router/table.js';
import { parseRouterArgs, RouterUsageError } from '../../serving/router/main.js';
import { originForm } from '../../serving/router/proxy.js';

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

for (const [stable, canary, n, expected] of [
  [90, 10, 1000, { stable: 900, canary: 100 }],
  [100, 0, 500, { stable: 500 }],
  [0, 100, 500, { canary: 500 }],
  [1, 99, 100, { stable: 1, canary: 99 }],
  [0.5, 0.5, 10, { stable: 5, canary: 5 }],
] as const) {
  test(`smooth weighted round-robin gives exact shares at ${stable}/${canary}`, () => {
    assert.equal(tally(new RoutingTable(config(stable, canary)), n), expected);
  });
}

test('the 10% canary share holds in every window of 10 requests, not just on average', () => {
  const table = new RoutingTable(config(90, 10));
  for (let window = 0; window < 20; window++) {
    assert.equal(tally(table, 10), { stable: 9, canary: 1 }, `window ${window}`);
  }
});

test('all weights zero → NO_UPSTREAM for unpinned requests', () => {
  assert.equal(tally(new RoutingTable(config(0, 0)), 3), { NO_UPSTREAM: 3 });
});

test('version pin beats weights, reaching a weight-0 canary; role pin likewise; unknown pins fail', () => {
  const table = new RoutingTable(config(100, 0));
  assert.equal(
    tally(table, 5, () => ({ 'x-modelship-version': 'v2' })),
    { canary: 5 },
  );
  assert.equal(
    tally(table, 5, () => ({ 'x-modelship-role': 'canary' })),
    { canary: 5 },
  );
  assert.equal(
    tally(table, 2, () => ({ 'x-modelship-version': 'v9' })),
    { NO_UPSTREAM: 2 },
  );
  assert.equal(
    tally(table, 2, () => ({ 'x-modelship-role': 'shadow' })),
    { NO_UPSTREAM: 2 },
  );
  // The version pin wins over a contradicting role pin.
  assert.equal(
    tally(table, 1, () => ({ 'x-modelship-version': 'v1', 'x-modelship-role': 'canary' })),
    { stable: 1 },
  );
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

test('CLI flags: defaults, POD_IP, and usage errors', () => {
  assert.equal(parseRouterArgs(['--config', 'r.json'], {}), {
    config: 'r.json',
    port: 8080,
    adminPort: undefined,
    upstreamTimeoutMs: 60000,
    shutdownDelayMs: 0,
    host: '0.0.0.0',
    source: 'file',
    namespace: undefined,
    name: undefined,
  });
  assert.equal(
    parseRouterArgs(['--config', 'r.json', '--port', '9000', '--admin-port', '9001'], { POD_IP: '127.64.0.9' }).host,
    '127.64.0.9',
  );
  for (const argv of [
    [],
    ['--config', 'r', '--port', 'x'],
    ['--config', 'r', '--bogus'],
    ['--config', 'r', '--upstream-timeout-ms', '0'],
    ['--config', 'r', '--shutdown-delay-ms', '-1'],
  ]) {
    assert.throws(
      () => parseRouterArgs(argv, {}),
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
