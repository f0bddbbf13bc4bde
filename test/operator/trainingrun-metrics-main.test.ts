// `operator/main.ts` as a process against the dev cluster (API server + node agent running the
// "modelship/test-job" stand-in trainer): its /metrics shows the controllers' metrics — the
// InferenceService rollout and analysis families, and the TrainingRun outcomes, durations and
// ModelVersion offline metrics with real values. A 409 on the status write that completes a
// run and an operator restart do not count a run twice.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type TrainingRun } from '../../operator/api/index.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { REPO_ROOT } from '../support/models.js';

const NS = 'default';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
let cluster: TestCluster;
let client: KubeClient;
const procs: ChildProcess[] = [];

interface Operator {
  proc: ChildProcess;
  port: Promise<number>;
  exited: Promise<number | null>;
}

function startOperator(): Operator {
  const main = join(REPO_ROOT, 'operator', 'main.ts');
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      main,
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
      '--leader-elect=false',
      '--namespace',
      NS,
    ],
    // The stand-in image writes no validation report: versions end Rejected, which is fine here.
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, POD_NAMESPACE: '', MODELSHIP_SERVING_IMAGE: 'modelship/test-job:1' },
    },
  );
  procs.push(proc);
  const port = new Promise<number>((resolve, reject) => {
    let buf = '';
    proc.stdout!.on('data', (d) => {
      buf += d;
      const m = /"metricsPort":(\d+)/.exec(buf);
      if (m) resolve(Number(m[1]));
      if (buf.length > 100_000) buf = buf.slice(-1000);
    });
    proc.once('exit', (code) => reject(new Error(`operator exited ${code} before starting`)));
  });
  proc.stderr!.on('data', (d) => process.stderr.write(d));
  return { proc, port, exited: new Promise((r) => proc.once('exit', (code) => r(code))) };
}

async function stopOperator(op: Operator): Promise<void> {
  op.proc.kill('SIGTERM');
  assert.is(await op.exited, 0);
}

const scrape = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();

/** The value of one sample line of the exposition text, by name and exact labels (in order). */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(/,(?=[a-zA-Z_]+=")/).filter(Boolean);
    if (want.every((w) => have.includes(w)) && have.length === want.length) return Number(m[3]);
  }
  return undefined;
}

function run(name: string, model: string, args: string[]): TrainingRun {
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: { name, namespace: NS },
    spec: {
      model,
      image: 'modelship/test-job:1',
      args,
      dataset: { uri: 's3://bucket/data' },
      output: { uri: 'pvc://tm-models/runs' },
      resources: { gpus: 0 },
      backoffLimit: 0,
      registration: { enabled: true, validation: { skewTolerance: 0.05, activeDeadlineSeconds: 60 } },
    },
  } as TrainingRun;
}

const summary = (metrics: Record<string, number>) =>
  JSON.stringify({ artifact: { uri: 'pvc://tm-models/runs/x', digest: DIGEST }, metrics });

test.before(async () => {
  cluster = await startTestCluster({ agent: true });
  const r = await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')]);
  if (r.code !== 0) throw new Error(r.stderr);
  client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
  await waitFor(
    async () => {
      await client.list(Kinds.TrainingRun, { namespace: NS });
      return true;
    },
    10_000,
    'CRDs served',
  );
});

test.after(async () => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await cluster?.stop();
});

test("the operator's /metrics exposes the rollout, analysis and training metrics; outcomes count once per run", async () => {
  const op = startOperator();
  const port = await op.port;
  const families = await waitFor(
    async () => {
      const text = await scrape(port);
      return /^modelship_operator_leader 1$/m.test(text) ? text : undefined;
    },
    20_000,
    'operator running its controllers',
  );
  for (const name of [
    'modelship_operator_canary_weight',
    'modelship_operator_rollout_phase',
    'modelship_operator_promotions_total',
    'modelship_operator_rollbacks_total',
    'modelship_operator_analysis_value',
    'modelship_operator_analysis_verdict',
    'modelship_operator_trainingruns_completed_total',
    'modelship_operator_trainingrun_duration_seconds',
    'modelship_operator_modelversion_metric',
  ])
    assert.match(families, new RegExp(`^# TYPE ${name} `, 'm'), `${name} on /metrics`);

  // The status write that completes tm-ok meets a 409 first: the retry stores it, counted once.
  cluster.api.faults.failNext({
    verb: 'update',
    resource: 'trainingruns.modelship.dev',
    subresource: 'status',
    code: 409,
    count: 2,
  });
  await client.create(
    run('tm-ok', 'tm-faces', ['--message', summary({ accuracy: 0.93, 'beard.accuracy': 0.97 }), '--sleep-ms', '1500']),
  );
  await client.create(run('tm-fail', 'tm-faces', ['--message', '{"error":"CUDA out of memory"}', '--exit-code', '1']));
  const ok = { resource_namespace: NS, model: 'tm-faces' };
  const text = await waitFor(
    async () => {
      const t = await scrape(port);
      return sample(t, 'modelship_operator_modelversion_metric', { ...ok, version: '1', metric: 'accuracy' }) !==
        undefined && sample(t, 'modelship_operator_trainingruns_completed_total', { ...ok, phase: 'Failed' }) === 1
        ? t
        : undefined;
    },
    45_000,
    'both runs finished and tm-ok registered',
  );
  assert.is(sample(text, 'modelship_operator_trainingruns_completed_total', { ...ok, phase: 'Succeeded' }), 1);
  assert.is(sample(text, 'modelship_operator_trainingruns_completed_total', { ...ok, phase: 'Failed' }), 1);
  assert.is(sample(text, 'modelship_operator_modelversion_metric', { ...ok, version: '1', metric: 'accuracy' }), 0.93);
  assert.is(
    sample(text, 'modelship_operator_modelversion_metric', { ...ok, version: '1', metric: 'beard.accuracy' }),
    0.97,
  );
  assert.is(
    sample(text, 'modelship_operator_trainingrun_duration_seconds_count', ok),
    2,
    'both runs started, so both have a duration',
  );
  const seconds = sample(text, 'modelship_operator_trainingrun_duration_seconds_sum', ok) ?? -1;
  assert.ok(seconds >= 1 && seconds < 40, `summed durations ${seconds} s (tm-ok sleeps 1.5 s)`);
  const okRun = await client.get<TrainingRun>(Kinds.TrainingRun, NS, 'tm-ok');
  assert.is(okRun.status?.modelVersion, 'tm-faces-v1');
  await stopOperator(op);

  // A new process sees both runs already terminal: their series exist at 0, nothing recounted.
  const again = startOperator();
  const port2 = await again.port;
  const after = await waitFor(
    async () => {
      const t = await scrape(port2);
      return sample(t, 'modelship_operator_modelversion_metric', { ...ok, version: '1', metric: 'accuracy' }) !==
        undefined
        ? t
        : undefined;
    },
    20_000,
    'restarted operator reconciled the runs',
  );
  assert.is(sample(after, 'modelship_operator_trainingruns_completed_total', { ...ok, phase: 'Succeeded' }), 0);
  assert.is(sample(after, 'modelship_operator_trainingruns_completed_total', { ...ok, phase: 'Failed' }), 0);
  assert.is(sample(after, 'modelship_operator_trainingrun_duration_seconds_count', ok), undefined);
  await stopOperator(again);
});

test.run();
