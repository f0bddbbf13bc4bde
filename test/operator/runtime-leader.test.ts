// Leader election on a Lease against the dev-cluster API server: only the leader reconciles;
// a graceful stop hands over at once; a killed leader (separate process, SIGKILL) is replaced
// within the lease duration and not before it expires; a leader that cannot renew steps down
// and stops reconciling.
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import {
  startRuntimeCluster,
  waitFor,
  sleepMs,
  type RuntimeTestCluster,
} from '../../operator/runtime/testing/cluster.js';
import { widgetController, WidgetKind, type Widget } from '../../operator/runtime/testing/widget.js';

const NS = 'le';
const timing = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 250 };
let t: RuntimeTestCluster;
const managers: Manager[] = [];
const children: ChildProcess[] = [];

const widget = (name: string): Widget => ({
  apiVersion: 'test.modelship.dev/v1',
  kind: 'Widget',
  metadata: { name, namespace: NS },
  spec: { data: { name } },
});

async function hasStatus(name: string): Promise<boolean> {
  const w = await t.client.get<Widget>(WidgetKind, NS, name);
  return w.status?.conditions?.[0]?.status === 'True';
}

function startManager(identity: string, lease: string, reconciles: string[]): Manager {
  const m = new Manager({
    client: t.client,
    log: createLogger({ silent: true }),
    namespaces: [NS],
    leaderElection: { namespace: NS, name: lease, identity, ...timing },
    informer: { backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 } },
  });
  m.add(widgetController({ onReconcile: (k) => reconciles.push(k.name) }));
  managers.push(m);
  void m.start();
  return m;
}

async function holder(lease: string): Promise<string | undefined> {
  const l = await t.client.get<KubeObject & { spec?: { holderIdentity?: string } }>(Kinds.Lease, NS, lease);
  return l.spec?.holderIdentity;
}

test.before(async () => {
  t = await startRuntimeCluster([NS]);
});

test.after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(managers.map((m) => m.stop()));
  await t?.stop();
});

test('only the leader reconciles; a graceful stop releases the lease and the standby takes over at once', async () => {
  const a: string[] = [];
  const b: string[] = [];
  const ma = startManager('a', 'inproc', a);
  await waitFor(() => ma.isLeader(), 3000, 'a leads');
  const mb = startManager('b', 'inproc', b);
  await waitFor(() => mb.isReady(), 3000, 'standby ready (caches synced)');
  for (const n of ['x1', 'x2', 'x3']) await t.client.create(widget(n));
  await waitFor(
    async () => (await hasStatus('x1')) && (await hasStatus('x2')) && (await hasStatus('x3')),
    5000,
    'converged',
  );
  await sleepMs(300);
  assert.ok(a.length >= 3);
  assert.is(b.length, 0, 'the standby never reconciled');
  assert.not.ok(mb.isLeader());
  assert.is(await holder('inproc'), 'a');

  const t0 = Date.now();
  await ma.stop();
  await waitFor(() => mb.isLeader(), 3000, 'b takes over');
  const takeover = Date.now() - t0;
  assert.ok(takeover < timing.leaseDurationMs / 2, `takeover after release took ${takeover} ms`);
  await t.client.create(widget('x4'));
  await waitFor(() => hasStatus('x4'), 5000, 'x4 converged by the new leader');
  assert.ok(b.includes('x4'));
  assert.not.ok(a.includes('x4'));
  await mb.stop();
});

test('a leader that cannot renew steps down within the renew deadline and stops reconciling', async () => {
  const a: string[] = [];
  const ma = startManager('c', 'renewfail', a);
  await waitFor(() => ma.isLeader(), 3000, 'c leads');
  const fault = t.cluster.api.faults.failNext({
    verb: 'update',
    resource: 'leases.coordination.k8s.io',
    name: 'renewfail',
    code: 500,
    always: true,
  });
  const t0 = Date.now();
  await waitFor(() => !ma.isLeader(), timing.renewDeadlineMs + 3000, 'stepped down');
  const after = Date.now() - t0;
  assert.ok(
    after >= timing.renewDeadlineMs - timing.retryPeriodMs - 100 && after <= timing.renewDeadlineMs + 1000,
    `stepped down after ${after} ms`,
  );
  const before = a.length;
  await t.client.create(widget('y1'));
  await sleepMs(500);
  assert.is(a.length, before, 'no reconcile while not leading');
  t.cluster.api.faults.remove(fault);
  await waitFor(() => ma.isLeader(), 4000, 'leads again once the lease can be written');
  await waitFor(() => hasStatus('y1'), 5000, 'y1 converged after re-election');
  await ma.stop();
});

interface Child {
  proc: ChildProcess;
  events: Array<Record<string, unknown>>;
}

function spawnManager(identity: string, lease: string): Child {
  const entry = new URL('../../operator/runtime/testing/widget-manager.ts', import.meta.url).pathname;
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      entry,
      t.cluster.kubeconfigPath,
      identity,
      NS,
      lease,
      String(timing.leaseDurationMs),
      String(timing.renewDeadlineMs),
      String(timing.retryPeriodMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(proc);
  const child: Child = { proc, events: [] };
  let buf = '';
  proc.stdout!.on('data', (d) => {
    buf += d;
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) child.events.push({ ...JSON.parse(l), at: Date.now() });
  });
  return child;
}

const leading = (c: Child) => c.events.filter((e) => e.event === 'leader').at(-1)?.leading === true;

test('two operator processes: kill -9 the leader and the other takes over within the lease duration', async () => {
  const p1 = spawnManager('p1', 'procs');
  await waitFor(() => leading(p1), 15_000, 'p1 leads');
  const p2 = spawnManager('p2', 'procs');
  await waitFor(() => p2.events.some((e) => e.event === 'ready'), 15_000, 'p2 ready');
  await t.client.create(widget('z1'));
  await waitFor(() => hasStatus('z1'), 5000, 'z1 converged');
  await sleepMs(300);
  assert.ok(p1.events.some((e) => e.event === 'reconcile' && e.key === `${NS}/z1`));
  assert.not.ok(
    p2.events.some((e) => e.event === 'reconcile'),
    'the standby process never reconciled',
  );

  const killedAt = Date.now();
  p1.proc.kill('SIGKILL');
  await waitFor(() => leading(p2), timing.leaseDurationMs + 3000, 'p2 takes over');
  const tookOver = (p2.events.find((e) => e.event === 'leader' && e.leading)!.at as number) - killedAt;
  // Not before the lease expired (no split brain), and within the lease duration plus a retry period.
  assert.ok(
    tookOver >= timing.leaseDurationMs - 2 * timing.retryPeriodMs - 100,
    `took over ${tookOver} ms after the kill`,
  );
  assert.ok(tookOver <= timing.leaseDurationMs + 1500, `took over ${tookOver} ms after the kill`);
  await t.client.create(widget('z2'));
  await waitFor(() => hasStatus('z2'), 5000, 'z2 converged by the new leader');
  assert.ok(p2.events.some((e) => e.event === 'reconcile' && e.key === `${NS}/z2`));

  p2.proc.kill('SIGTERM');
  const code = await new Promise((r) => p2.proc.once('exit', r));
  assert.is(code, 0);
  assert.ok(p2.events.some((e) => e.event === 'stopped'));
  assert.is(await holder('procs'), '', 'the lease was released on SIGTERM');
});

test.run();
