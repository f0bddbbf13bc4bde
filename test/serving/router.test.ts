// The router over real sockets: real upstream HTTP servers, the real file source, real
// keep-alive clients. Covers weights, pins, sticky, mirror, live reload, rejected configs,
// upstream failures, streaming of large bodies, response headers and admin endpoints.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RouterConfig } from '../../serving/router/config.js';
import { FileRoutingSource } from '../../serving/router/file-source.js';
import { RouterMetrics } from '../../serving/router/metrics.js';
import { startRouter, type RunningRouter } from '../../serving/router/router.js';
import { StaticRoutingSource } from '../../serving/router/source.js';
import type { RouterLogger } from '../../serving/router/source.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
interface FakeUpstream {
  name: string;
  url: string;
  seen: Seen[];
  server: Server;
  close(): Promise<void>;
}

/** An upstream that answers JSON naming itself, after reading the whole body. */
async function upstream(name: string, handler?: Parameters<typeof createServer>[1]): Promise<FakeUpstream> {
  const seen: Seen[] = [];
  const server = createServer(
    handler ??
      ((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
          res.writeHead(200, {
            'content-type': 'application/json',
            'x-upstream': name,
            'keep-alive': 'timeout=5',
            'x-private': 'drop-me',
            connection: 'keep-alive, x-private',
          });
          res.end(JSON.stringify({ upstream: name }));
        });
      }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    seen,
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const agent = new Agent({ keepAlive: true, maxSockets: 16 });

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { agent, method: options.method ?? (options.body ? 'POST' : 'GET'), headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
const json = (r: Reply) => JSON.parse(r.body.toString('utf8'));

function captureLog(): RouterLogger & {
  lines: { level: string; message: string; fields?: Record<string, unknown> }[];
} {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  return {
    lines,
    info: (message, fields) => lines.push({ level: 'info', message, fields }),
    warn: (message, fields) => lines.push({ level: 'warn', message, fields }),
    error: (message, fields) => lines.push({ level: 'error', message, fields }),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'router-test-'));
const configPath = join(dir, 'router.json');
/** Atomic replace, as kubectl/ConfigMap volumes and careful editors do. */
function writeConfig(config: unknown): void {
  const tmp = `${configPath}.tmp`;
  writeFileSync(tmp, typeof config === 'string' ? config : JSON.stringify(config));
  renameSync(tmp, configPath);
}

let stable: FakeUpstream;
let canary: FakeUpstream;
let router: RunningRouter;
let log: ReturnType<typeof captureLog>;
let metrics: RouterMetrics;

function table(stableWeight: number, canaryWeight: number, extra: Partial<RouterConfig> = {}): RouterConfig {
  return {
    model: 'face-attributes',
    upstreams: [
      { role: 'stable', version: 'v1', url: stable.url, weight: stableWeight },
      { role: 'canary', version: 'v2', url: canary.url, weight: canaryWeight },
    ],
    ...extra,
  };
}

/** Applies a table through the file and waits until the router uses it. */
async function apply(config: RouterConfig): Promise<number> {
  const started = Date.now();
  writeConfig(config);
  while (JSON.stringify(router.router.config) !== JSON.stringify(config)) {
    if (Date.now() - started > 5000) throw new Error('config not applied within 5 s');
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - started;
}

async function countRoles(
  n: number,
  headers: (i: number) => Record<string, string> = () => ({}),
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  const batch = 16;
  for (let i = 0; i < n; i += batch) {
    const replies = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
        call(`${router.url}/predict`, { headers: headers(i + j), body: Buffer.from('x') }),
      ),
    );
    for (const r of replies) {
      const role = r.status === 200 ? String(r.headers['x-modelship-role']) : String(r.status);
      counts[role] = (counts[role] ?? 0) + 1;
    }
  }
  return counts;
}

const t = suite('router over HTTP');

t.before(async () => {
  stable = await upstream('stable');
  canary = await upstream('canary');
  writeConfig(table(90, 10));
  log = captureLog();
  metrics = new RouterMetrics();
  const source = await FileRoutingSource.open(configPath, {
    log,
    onRejected: () => metrics.reloads.inc({ result: 'rejected' }),
  });
  router = await startRouter({ source, log, metrics, host: '127.0.0.1', port: 0, upstreamTimeoutMs: 400 });
});

t.after(async () => {
  await router?.close(100);
  await stable?.close();
  await canary?.close();
  agent.destroy();
  rmSync(dir, { recursive: true, force: true });
});

t.before.each(() => {
  stable.seen.length = 0;
  canary.seen.length = 0;
});

t('1,000 requests at 90/10 split within 2% of the weights (exactly, whole shuffled blocks)', async () => {
  await apply(table(90, 10));
  const counts = await countRoles(1000);
  assert.ok(Math.abs(counts.canary - 100) <= 20, JSON.stringify(counts));
  assert.is(counts.stable + counts.canary, 1000);
  assert.is(canary.seen.length, counts.canary, 'the canary upstream really received them');
});

t('100/0 and 0/100 are exact', async () => {
  await apply(table(100, 0));
  assert.equal(await countRoles(200), { stable: 200 });
  await apply(table(0, 100));
  assert.equal(await countRoles(200), { canary: 200 });
});

t(
  'responses carry x-modelship-version/role; hop-by-hop headers are not forwarded; X-Forwarded-* are added',
  async () => {
    await apply(table(100, 0));
    const r = await call(`${router.url}/predict?x=1`, {
      headers: { 'x-custom': 'kept', 'x-hop': 'dropped', connection: 'x-hop', expect: '100-continue' },
      body: Buffer.from('abc'),
    });
    assert.is(r.status, 200);
    assert.is(r.headers['x-modelship-version'], 'v1');
    assert.is(r.headers['x-modelship-role'], 'stable');
    assert.is(r.headers['x-upstream'], 'stable', 'end-to-end response headers pass through');
    assert.is(r.headers['x-private'], undefined, 'headers named in Connection are dropped');
    const seen = stable.seen[0];
    assert.is(seen.url, '/predict?x=1');
    assert.is(seen.body.toString(), 'abc');
    assert.is(seen.headers['x-custom'], 'kept');
    assert.is(seen.headers['x-hop'], undefined);
    assert.is(seen.headers.expect, undefined, 'the router itself answered 100-continue');
    assert.is(seen.headers['x-forwarded-for'], '127.0.0.1');
    assert.is(seen.headers['x-forwarded-host'], new URL(router.url).host);
    assert.is(seen.headers.host, new URL(stable.url).host);
  },
);

t(
  'pinning by the trusted headers reaches a weight-0 canary; client pins ignored; unknown version → 503 JSON',
  async () => {
    await apply(table(100, 0));
    assert.equal(await countRoles(20, () => ({ 'x-modelship-version': 'v2' })), { stable: 20 }, 'untrusted');
    await apply(table(100, 0, { pins: { versionHeader: 'x-pin-version', roleHeader: 'x-pin-role' } }));
    assert.equal(await countRoles(20, () => ({ 'x-pin-version': 'v2' })), { canary: 20 });
    assert.equal(await countRoles(20, () => ({ 'x-pin-role': 'canary' })), { canary: 20 });
    const r = await call(`${router.url}/predict`, { headers: { 'x-pin-version': 'v7' } });
    assert.is(r.status, 503);
    assert.is(json(r).error.code, 'NO_UPSTREAM');
    assert.match(json(r).error.message, /v7/);
  },
);

t('sticky by header: each session keeps its upstream, sessions split by weight', async () => {
  await apply(table(80, 20, { sticky: { header: 'x-session-id' } }));
  const first = new Map<number, string>();
  for (let round = 0; round < 2; round++) {
    const replies = await Promise.all(
      Array.from({ length: 300 }, (_, i) => call(`${router.url}/`, { headers: { 'x-session-id': `s${i}` } })),
    );
    replies.forEach((r, i) => {
      const role = String(r.headers['x-modelship-role']);
      if (round === 1) assert.is(role, first.get(i), `session s${i} moved`);
      first.set(i, role);
    });
  }
  const onCanary = [...first.values()].filter((r) => r === 'canary').length;
  assert.ok(onCanary > 30 && onCanary < 90, `canary sessions ${onCanary}/300`);
});

t('sticky by cookie', async () => {
  await apply(table(50, 50, { sticky: { cookie: 'sid' } }));
  const roles = new Set<string>();
  for (let i = 0; i < 10; i++)
    roles.add(
      String((await call(`${router.url}/`, { headers: { cookie: `a=b; sid=alice` } })).headers['x-modelship-role']),
    );
  assert.is(roles.size, 1);
});

t('mirror: copies (with body) reach the mirror role; the client still gets the primary answer', async () => {
  await apply(table(100, 0, { mirror: { role: 'canary', percent: 50 } }));
  const body = randomBytes(100_000);
  const replies = await Promise.all(Array.from({ length: 40 }, () => call(`${router.url}/predict`, { body })));
  for (const r of replies) assert.is(json(r).upstream, 'stable');
  const deadline = Date.now() + 2000;
  while (canary.seen.length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.is(canary.seen.length, 20);
  for (const s of canary.seen) {
    assert.is(s.headers['x-modelship-mirror'], '1');
    assert.ok(s.body.equals(body), 'mirror got the full body');
  }
  // Feedback is never mirrored: the mirror's pods would count it a second time.
  canary.seen.length = 0;
  const feedback = JSON.stringify({ predictionId: 'v2.k1.x.y', labels: { beard: 'no' } });
  for (let i = 0; i < 10; i++)
    assert.is((await call(`${router.url}/feedback`, { method: 'POST', body: Buffer.from(feedback) })).status, 200);
  await new Promise((r) => setTimeout(r, 200));
  assert.is(canary.seen.length, 0, 'no feedback copied to the mirror');
});

t('a hung mirror target never slows the client', async () => {
  const hung = await upstream('hung', (req) => {
    req.resume(); /* never answers */
  });
  try {
    await apply({
      model: 'face-attributes',
      upstreams: [
        { role: 'stable', version: 'v1', url: stable.url, weight: 100 },
        { role: 'shadow', version: 'v3', url: hung.url, weight: 0 },
      ],
      mirror: { role: 'shadow', percent: 100 },
    });
    const replies = await Promise.all(
      Array.from({ length: 10 }, () => call(`${router.url}/predict`, { body: Buffer.from('x') })),
    );
    for (const r of replies) assert.is(r.status, 200);
    // Every client has its answer while no mirror copy has settled (they hang until the
    // router's 400 ms upstream timeout), so the clients did not wait for the mirror.
    const settled = (await metrics.mirrored.get()).values.filter((v) => v.labels.role === 'shadow');
    assert.equal(settled, []);
  } finally {
    await hung.close();
  }
});

t('a config change applies without restart in under 1 s', async () => {
  await apply(table(100, 0));
  const ms = await apply(table(0, 100));
  assert.ok(ms < 1000, `took ${ms} ms`);
  assert.equal(await countRoles(10), { canary: 10 });
});

t('an invalid config is rejected with the field named, and the last good table stays', async () => {
  await apply(table(0, 100));
  const before = (await metrics.reloads.get()).values.find((v) => v.labels.result === 'rejected')?.value ?? 0;
  writeConfig({
    model: 'face-attributes',
    upstreams: [{ role: 'stable', version: 'v1', url: stable.url, weight: -5 }],
  });
  const deadline = Date.now() + 2000;
  let rejected = before;
  while (rejected === before && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    rejected = (await metrics.reloads.get()).values.find((v) => v.labels.result === 'rejected')?.value ?? 0;
  }
  assert.is(rejected, before + 1);
  const line = log.lines.findLast((l) => l.level === 'error');
  assert.ok(line && JSON.stringify(line.fields).includes('/upstreams/0/weight'), JSON.stringify(line));
  assert.equal(await countRoles(10), { canary: 10 });
  writeConfig('{ truncated');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(await countRoles(5), { canary: 5 });
});

t('an upstream that is down → 502 JSON; no upstream at all → 503 JSON', async () => {
  const gone = await upstream('gone');
  await gone.close();
  await apply({ model: 'face-attributes', upstreams: [{ role: 'stable', version: 'v1', url: gone.url, weight: 1 }] });
  const r = await call(`${router.url}/predict`, { body: Buffer.from('x') });
  assert.is(r.status, 502);
  assert.match(String(r.headers['content-type']), /application\/json/);
  assert.is(json(r).error.code, 'UPSTREAM_UNAVAILABLE');
  assert.match(json(r).error.message, /ECONNREFUSED/);
  assert.is(r.headers['x-modelship-role'], 'stable');
  await apply({ model: 'face-attributes', upstreams: [] });
  const none = await call(`${router.url}/predict`);
  assert.is(none.status, 503);
  assert.is(json(none).error.code, 'NO_UPSTREAM');
  const ready = await call(`${router.adminUrl}/readyz`);
  assert.is(ready.status, 503, 'not ready without upstreams');
});

t('an upstream that does not answer in time → 504 JSON', async () => {
  const slow = await upstream('slow', (req) => {
    req.resume();
  });
  try {
    await apply({ model: 'face-attributes', upstreams: [{ role: 'stable', version: 'v1', url: slow.url, weight: 1 }] });
    const r = await call(`${router.url}/predict`, { body: Buffer.from('x') });
    assert.is(r.status, 504);
    assert.is(json(r).error.code, 'UPSTREAM_TIMEOUT');
  } finally {
    await slow.close();
  }
});

t('a client that stalls its body gets 408, counted as 408 and never as the upstream failing', async () => {
  const own = new RouterMetrics();
  const stalling = await startRouter({
    source: new StaticRoutingSource(table(100, 0)),
    log,
    metrics: own,
    host: '127.0.0.1',
    port: 0,
    upstreamTimeoutMs: 5000,
    clientBodyTimeoutMs: 200,
  });
  try {
    const started = Date.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(stalling.url).port), '127.0.0.1');
      let text = '';
      socket.on('data', (d) => (text += d));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(
        'POST /predict HTTP/1.1\r\nhost: x\r\ncontent-type: image/png\r\ncontent-length: 1000\r\n\r\nonly ten b',
      );
    });
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /"code":"REQUEST_TIMEOUT"/);
    assert.ok(
      Date.now() - started < 2000,
      `answered after ${Date.now() - started} ms, long before the upstream timeout`,
    );
    const text = await own.registry.metrics();
    assert.match(
      text,
      /modelship_router_requests_total\{model="face-attributes",role="stable",version="v1",code="408"\} 1/,
    );
    assert.not.match(text, /code="50[24]"/);
  } finally {
    await stalling.close(100);
  }
});

t(
  'large bodies stream both ways (64 MiB up, hashed by the upstream; first download bytes arrive before the upstream finishes)',
  async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    const big = await upstream('big', (req, res) => {
      if (req.url === '/upload') {
        const hash = createHash('sha256');
        let bytes = 0;
        req.on('data', (c: Buffer) => {
          hash.update(c);
          bytes += c.length;
        });
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.write(Buffer.alloc(64 * 1024, 7));
      void released.then(() => res.end(Buffer.alloc(64 * 1024, 8)));
    });
    try {
      await apply({
        model: 'face-attributes',
        upstreams: [{ role: 'stable', version: 'v1', url: big.url, weight: 1 }],
      });
      const chunk = randomBytes(1 << 20);
      const expected = createHash('sha256');
      const up = await new Promise<Reply>((resolve, reject) => {
        const req = request(`${router.url}/upload`, { agent, method: 'POST' }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        let sent = 0;
        const pump = () => {
          while (sent < 64) {
            expected.update(chunk);
            sent++;
            if (!req.write(chunk)) {
              req.once('drain', pump);
              return;
            }
          }
          req.end();
        };
        pump();
      });
      assert.equal(json(up), { bytes: 64 * (1 << 20), sha256: expected.digest('hex') });

      const firstBytes = await new Promise<number>((resolve, reject) => {
        const req = request(`${router.url}/download`, { agent }, (res) => {
          let total = 0;
          res.on('data', (c: Buffer) => {
            if (total === 0) {
              resolve(c.length);
              release();
            }
            total += c.length;
          });
          res.on('end', () => assert.is(total, 128 * 1024));
        });
        req.on('error', reject);
        req.end();
      });
      assert.ok(firstBytes > 0, 'bytes arrived while the upstream was still holding its response open');
    } finally {
      release();
      await big.close();
    }
  },
);

t(
  'admin endpoints: healthz, readyz, config and metrics with per-role/version/code counts and the generation',
  async () => {
    const generation = 42;
    await apply(table(100, 0, { generation }));
    await countRoles(3);
    assert.is((await call(`${router.adminUrl}/healthz`)).status, 200);
    assert.is((await call(`${router.adminUrl}/readyz`)).status, 200);
    assert.is(json(await call(`${router.adminUrl}/config`)).generation, generation);
    const text = (await call(`${router.adminUrl}/metrics`)).body.toString();
    assert.match(
      text,
      /modelship_router_requests_total\{model="face-attributes",role="stable",version="v1",code="200"\} \d+/,
    );
    assert.match(
      text,
      /modelship_router_requests_total\{model="face-attributes",role="stable",version="v1",code="502"\} 1/,
    );
    assert.match(
      text,
      /modelship_router_upstream_duration_seconds_bucket\{le="0.001",model="face-attributes",role="stable",version="v1"\}/,
    );
    assert.match(text, /modelship_router_config_generation 42/);
    assert.match(text, /modelship_router_config_reloads_total\{result="rejected"\} 2/);
    assert.match(
      text,
      /modelship_router_mirror_requests_total\{model="face-attributes",role="canary",version="v2",result="ok"\} 20/,
    );
    assert.match(text, /modelship_router_upstream_weight\{model="face-attributes",role="stable",version="v1"\} 100/);
    const unknown = await call(`${router.adminUrl}/nope`);
    assert.is(unknown.status, 404);
    assert.is(json(unknown).error.code, 'NOT_FOUND');
  },
);

t.run();
