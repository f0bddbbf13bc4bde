// `serve router` as a real process through serving/main.ts: flags, all addresses, live reload from the
// file, admin endpoints, a bad config at startup, and draining in-flight requests on SIGTERM.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'router-cli-test-'));
const configPath = join(dir, 'router.json');

function writeConfig(value: unknown): void {
  writeFileSync(`${configPath}.tmp`, JSON.stringify(value));
  renameSync(`${configPath}.tmp`, configPath);
}

interface Proc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function startRouterProcess(args: string[]): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', 'serving/main.ts', 'router', ...args], {
    cwd: REPO,
    // POD_IP set as the downward API would: the router must not narrow its listen to it, or
    // `kubectl port-forward` (which connects to the pod's localhost) could not reach it.
    env: { ...process.env, POD_IP: '127.0.0.3' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let out = '';
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, output: () => out, exited };
}

async function waitForUrl(p: Proc): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = /"message":"router listening","url":"([^"]+)","admin":"([^"]+)"/.exec(p.output());
    if (m) {
      adminUrl = m[2];
      return m[1];
    }
    if (p.child.exitCode !== null || Date.now() > deadline) throw new Error(`router did not start:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let release: (() => void) | undefined;
let upstream: Server;
let upstreamUrl: string;
let router: Proc | undefined;
let url: string;
let adminUrl: string;

const t = suite('serve router (process)');

t.before(async () => {
  upstream = createServer((req, res) => {
    req.resume();
    const answer = () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ path: req.url }));
    };
    if (req.url === '/slow') release = answer;
    else answer();
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  writeConfig({ model: 'iris', upstreams: [{ role: 'stable', version: 'v1', url: upstreamUrl, weight: 100 }] });
  // An ephemeral admin port: the default (9090) may be taken on a shared machine.
  router = startRouterProcess([
    '--config',
    configPath,
    '--port',
    '0',
    '--admin-port',
    '0',
    '--shutdown-delay-ms',
    '300',
  ]);
  url = await waitForUrl(router);
});

t.after(async () => {
  if (router && router.child.exitCode === null) {
    router.child.kill('SIGKILL');
    await router.exited;
  }
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

t('listens on all addresses and proxies with identity headers', async () => {
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const r = await fetch(`${url}/v2/health/ready`);
  assert.is(r.status, 200);
  assert.is(r.headers.get('x-modelship-version'), 'v1');
  assert.equal(await r.json(), { path: '/v2/health/ready' });
  const port = new URL(url).port;
  for (const host of ['127.0.0.3', '127.0.0.7'])
    assert.is((await fetch(`http://${host}:${port}/-/router/healthz`)).status, 200, host);
  assert.is((await fetch(`${adminUrl.replace('127.0.0.1', '127.0.0.7')}/healthz`)).status, 200, 'admin port too');
});

t('probes on the public port; the table and metrics, with process metrics, on the admin port only', async () => {
  assert.is((await fetch(`${url}/-/router/readyz`)).status, 200);
  assert.is((await fetch(`${url}/-/router/healthz`)).status, 200);
  for (const internal of ['/-/router/metrics', '/-/router/config', '/metrics', '/v2/models/iris/profile']) {
    const r = await fetch(`${url}${internal}`);
    assert.is(r.status, 404, internal);
    assert.not.match(await r.text(), /modelship_router|upstreams|"path"/, `${internal} reveals nothing`);
  }
  assert.is((await fetch(`${adminUrl}/config`)).status, 200);
  const metrics = await (await fetch(`${adminUrl}/metrics`)).text();
  assert.match(metrics, /modelship_router_requests_total\{model="iris",role="stable",version="v1",code="200"\} 1/);
  assert.match(metrics, /process_resident_memory_bytes/);
});

t('file edits apply live; a broken edit is logged by field and ignored', async () => {
  writeConfig({ model: 'iris', upstreams: [{ role: 'stable', version: 'v2', url: upstreamUrl, weight: 100 }] });
  const deadline = Date.now() + 2000;
  let version: string | null = null;
  while (version !== 'v2' && Date.now() < deadline)
    version = (await fetch(`${url}/x`)).headers.get('x-modelship-version');
  assert.is(version, 'v2');
  writeConfig({ model: 'iris', upstreams: [{ role: 'stable', version: 'v3', url: 'not a url', weight: 100 }] });
  const logDeadline = Date.now() + 2000;
  while (!router!.output().includes('router config rejected') && Date.now() < logDeadline)
    await new Promise((r) => setTimeout(r, 20));
  assert.match(router!.output(), /router config rejected; keeping the last good table.*\/upstreams\/0\/url/);
  assert.is((await fetch(`${url}/x`)).headers.get('x-modelship-version'), 'v2');
});

t('SIGTERM: readyz turns 503 while traffic is still served, the in-flight request completes, exit 0', async () => {
  const inFlight = fetch(`${url}/slow`);
  while (!release) await new Promise((r) => setTimeout(r, 10));
  router!.child.kill('SIGTERM');
  const drainDeadline = Date.now() + 5000;
  while (!router!.output().includes('router draining') && Date.now() < drainDeadline)
    await new Promise((r) => setTimeout(r, 10));
  // Within --shutdown-delay-ms: not ready, yet new requests still get through.
  const ready = await fetch(`${url}/-/router/readyz`);
  assert.is(ready.status, 503);
  assert.is(((await ready.json()) as { reason: string }).reason, 'shutting down');
  assert.is((await fetch(`${url}/still-served`)).status, 200);
  release!();
  const r = await inFlight;
  assert.is(r.status, 200);
  assert.equal(await r.json(), { path: '/slow' });
  assert.is(await router!.exited, 0);
});

t('an invalid config at startup exits non-zero naming the field', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(
    bad,
    JSON.stringify({
      model: 'iris',
      upstreams: [{ role: 'stable', version: 'v1', url: upstreamUrl, weight: 'heavy' }],
    }),
  );
  const p = startRouterProcess(['--config', bad, '--port', '0']);
  assert.is(await p.exited, 1);
  assert.match(p.output(), /\/upstreams\/0\/weight: must be number/);
  const usage = startRouterProcess(['--port', '0']);
  assert.is(await usage.exited, 2, 'usage errors exit 2');
  assert.match(usage.output(), /--config FILE is required/);
});

t.run();
