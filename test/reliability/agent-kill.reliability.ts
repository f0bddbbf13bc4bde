// Node-agent process kills (seeded; the seed is printed). The standalone agent runs every pod;
// its pods die with it (parent-death signal), as a node's containers die with a crashed
// kubelet/runtime. While the operator trains and validates and a two-replica Deployment serves
// behind a Service, the agent is SIGKILLed at random points and restarted. Afterwards: every
// Deployment pod is Ready again behind the Service, every TrainingRun ended (Succeeded with
// exactly one ModelVersion, or Failed with the Job's reason — never stuck), every ModelVersion
// finished validating, a run started after the chaos goes all the way to Ready, and a stopped
// agent leaves no process behind.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { processesOfDataDir } from '../../hack/devcluster/agent/orphans.js';
import { agentProcess } from '../../hack/chaos/components.js';
import { planKills, startMonkey } from '../../hack/chaos/monkey.js';
import type { ChaosProcess } from '../../hack/chaos/process.js';
import { chaosRng } from '../../hack/chaos/seed.js';
import { ensureSampleModel } from '../support/models.js';
import { cond, fastTrainingRun, modelAccuracy, NS, picture, runsSettled, startEnv, type Env } from './support.js';

const RUNS = 6;
let env: Env;
let agent: ChaosProcess;
let agentDir: string;

test.before(async () => {
  await ensureSampleModel();
  env = await startEnv({ agent: false });
  agentDir = join(env.cluster.dir, 'node');
  const kubeconfig = join(env.cluster.dir, 'agent.kubeconfig');
  env.cluster.api.writeKubeconfig(kubeconfig);
  agent = agentProcess({ kubeconfig, dataDir: agentDir, logDir: env.cluster.dir });
  agent.start();
});

test.after(async () => {
  await agent?.stop();
  await env?.stop();
});

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: modelship/test-http-server:1
        env: [{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
        readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

type Deployment = KubeObject & { status?: { readyReplicas?: number } };
type Pod = KubeObject & { status?: { containerStatuses?: Array<{ ready: boolean; restartCount: number }> } };

test('agent SIGKILLs mid-training and mid-serving: pods come back, runs end cleanly, new work still converges', async () => {
  const rng = chaosRng('agent-kill');
  const modelDir = await ensureSampleModel();
  const accuracy = modelAccuracy(modelDir);
  const applied = await env.cluster.kubectl(['apply', '-f', '-'], { input: deployment, timeoutMs: 30_000 });
  assert.is(applied.code, 0, applied.stderr);
  await waitFor(
    async () => ((await env.client.get<Deployment>(Kinds.Deployment, NS, 'web')).status?.readyReplicas ?? 0) === 2,
    60_000,
    'web ready',
    300,
  );

  const names = Array.from({ length: RUNS }, (_, i) => `agent-${i}`);
  // Right after each kill, the pods' processes must be gone (a kill that left pods running
  // would test nothing).
  const survivors: number[] = [];
  // (Polled for up to 4.3 s, before the restart 4.5 s or more after the kill: a shell
  // trainer's own children — its `sleep` of at most 4 s — are not killed with the agent, unlike
  // a container runtime's cgroup; they exit on their own.)
  const monkey = startMonkey(
    [agent],
    planKills(rng, { kills: 4, targets: 1, upMs: [1500, 6000], downMs: [4500, 5500] }),
    () => {
      const deadline = Date.now() + 4300;
      const poll = () => {
        const n = processesOfDataDir(agentDir).length;
        if (n === 0 || Date.now() > deadline) survivors.push(n);
        else setTimeout(poll, 100);
      };
      poll();
    },
  );
  for (const name of names) {
    const run = fastTrainingRun(name, 'agent-chaos', { modelDir, accuracy, seconds: rng.int(1, 4) });
    run.spec.backoffLimit = 2;
    await env.client.create(run);
    await sleep(rng.int(300, 1500));
  }
  const kills = await monkey.done;
  assert.is(kills.length, 4, 'the agent was killed four times');
  assert.equal(survivors, [0, 0, 0, 0], 'every pod process died with the agent');

  const svc = await env.client.get<KubeObject & { spec?: { clusterIP?: string } }>(Kinds.Service, NS, 'web');
  let pods: Pod[] = [];
  await waitFor(
    async () => {
      const d = await env.client.get<Deployment>(Kinds.Deployment, NS, 'web');
      pods = (await env.client.list<Pod>(Kinds.Pod, { namespace: NS, labelSelector: 'app=web' })).items;
      const res = await fetch(`http://${svc.spec?.clusterIP}:80/`);
      return (
        (d.status?.readyReplicas ?? 0) === 2 &&
        pods.length === 2 &&
        pods.every((p) => p.status?.containerStatuses?.[0]?.ready) &&
        res.ok &&
        processesOfDataDir(agentDir).length >= 2
      );
    },
    60_000,
    'the Deployment serving again behind its Service, both pods ready',
    500,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: ${JSON.stringify(pods.map((p) => [p.metadata?.name, p.status]))}`, { cause: e });
  });

  const outcomes = await waitFor(() => runsSettled(env.client, names), 180_000, 'runs ended', 500);
  const shown = picture(outcomes);
  for (const { run, versions } of outcomes) {
    if (run.status?.phase === 'Succeeded') {
      assert.is(versions.length, 1, `${run.metadata.name}: ${shown}`);
      assert.is(versions[0].metadata.name, run.status.modelVersion);
    } else {
      assert.is(versions.length, 0, `${run.metadata.name} failed and registered nothing`);
      assert.match(
        cond(run, 'Succeeded')?.reason ?? '',
        /BackoffLimitExceeded|DeadlineExceeded|JobDeleted/,
        `${run.metadata.name}: ${shown}`,
      );
    }
  }
  // Convergence: after the chaos a run goes all the way through.
  await env.client.create(fastTrainingRun('agent-after', 'agent-after', { modelDir, accuracy, seconds: 0 }));
  const [after] = await waitFor(() => runsSettled(env.client, ['agent-after']), 90_000, 'a run after the chaos', 500);
  assert.is(after.run.status?.phase, 'Succeeded', picture([after]));
  assert.is(after.versions[0]?.status?.phase, 'Ready', picture([after]));
  process.stderr.write(`agent-kill: kills after ${kills.map((k) => k.aliveMs).join(',')} ms; runs ${shown}\n`);

  await agent.stop();
  assert.equal(processesOfDataDir(agentDir), [], 'a stopped agent leaves nothing running');
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test.run();
