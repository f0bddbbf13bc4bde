// `npm run operator` as a process against the dev cluster: flags, /healthz, /readyz, /metrics,
// leader election on the Lease, and a graceful SIGTERM (exit 0, lease released).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isNotFound } from '../../operator/runtime/errors.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { startRuntimeCluster, waitFor, type RuntimeTestCluster } from '../../operator/runtime/testing/cluster.js';

let t: RuntimeTestCluster;
const procs: ChildProcess[] = [];

interface Operator {
  proc: ChildProcess;
  logs: Array<Record<string, any>>;
  exited: Promise<number | null>;
}

function startOperator(args: string[]): Operator {
  const main = new URL('../../operator/main.ts', import.meta.url).pathname;
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      main,
      '--kubeconfig',
      t.cluster.kubeconfigPath,
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAMESPACE: '' } },
  );
  procs.push(proc);
  const op: Operator = { proc, logs: [], exited: new Promise((r) => proc.once('exit', (code) => r(code))) };
  let buf = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      try {
        op.logs.push(JSON.parse(l));
      } catch {
        /* not a log line */
      }
    }
  });
  proc.stderr!.on('data', (d) => process.stderr.write(d));
  return op;
}

const portOf = (op: Operator) =>
  op.logs.find((l) => l.message === 'Operator starting')?.metricsPort as number | undefined;
const get = (port: number, path: string) =>
  fetch(`http://127.0.0.1:${port}${path}`).then(async (r) => ({ status: r.status, body: await r.text() }));

test.before(async () => {
  t = await startRuntimeCluster();
  // The registered controllers watch Modelship's kinds: the operator is only ready once they are served.
  const crdDir = new URL('../../crds/', import.meta.url).pathname;
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of yaml.loadAll(readFileSync(join(crdDir, file), 'utf8')))
      if (doc) await t.client.create(doc as KubeObject);
  }
});

test.after(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await t?.stop();
});

test('serves health, readiness and metrics, leads via the Lease, and exits 0 on SIGTERM releasing it', async () => {
  const op = startOperator(['--lease-namespace', 'default', '--namespace', 'default']);
  const port = await waitFor(() => portOf(op), 20_000, 'operator started');
  assert.is((await get(port, '/healthz')).status, 200);
  await waitFor(async () => (await get(port, '/readyz')).status === 200, 15_000, 'ready');
  await waitFor(
    async () => /^modelship_operator_leader 1$/m.test((await get(port, '/metrics')).body),
    15_000,
    'leading',
  );
  const metrics = (await get(port, '/metrics')).body;
  assert.match(metrics, /process_resident_memory_bytes/);
  const lease = await t.client.get<KubeObject & { spec?: Record<string, unknown> }>(
    Kinds.Lease,
    'default',
    'modelship-operator',
  );
  assert.ok(String(lease.spec?.holderIdentity).length > 0);
  assert.is(lease.spec?.leaseDurationSeconds, 15);
  assert.is((await get(port, '/nope')).status, 404);

  op.proc.kill('SIGTERM');
  const code = await op.exited;
  assert.is(code, 0);
  assert.ok(op.logs.some((l) => l.message === 'Shutting down' && l.signal === 'SIGTERM'));
  assert.ok(op.logs.some((l) => l.message === 'Released leader lease'));
  const after = await t.client.get<KubeObject & { spec?: Record<string, unknown> }>(
    Kinds.Lease,
    'default',
    'modelship-operator',
  );
  assert.is(after.spec?.holderIdentity, '');
});

test('--leader-elect=false runs without a Lease', async () => {
  const op = startOperator(['--leader-elect=false', '--lease-name', 'unused']);
  const port = await waitFor(() => portOf(op), 20_000, 'operator started');
  await waitFor(
    async () => /^modelship_operator_leader 1$/m.test((await get(port, '/metrics')).body),
    15_000,
    'running controllers',
  );
  const lease = await t.client
    .get(Kinds.Lease, 'default', 'unused')
    .catch((e) => (isNotFound(e) ? undefined : Promise.reject(e)));
  assert.is(lease, undefined);
  op.proc.kill('SIGINT');
  assert.is(await op.exited, 0);
});

test('a bad flag exits 2 with the usage', async () => {
  const main = new URL('../../operator/main.ts', import.meta.url).pathname;
  const proc = spawn(process.execPath, ['--import', 'tsx', main, '--metrics-port', 'x'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d) => {
    err += d;
  });
  const code = await new Promise((r) => proc.once('exit', r));
  assert.is(code, 2);
  assert.match(err, /--metrics-port must be a port number/);
  assert.match(err, /Usage: npm run operator/);
});

test.run();
