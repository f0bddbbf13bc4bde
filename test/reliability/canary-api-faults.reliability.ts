// API server faults during two whole canaries (seeded storm; the seed is printed): 500 and 409
// bursts, 410 Expired watches, dropped and reset watch streams, compacted history and 2 s
// latency on InferenceServices, ModelVersions, Deployments, Services, Pods, Secrets, Jobs and
// Events, hitting the operator (its own process), the node agent and the router's watch of
// the InferenceService status alike, from the moment a version is registered until its
// rollout is decided. v2 is the same model as stable (promoted), v3 is trained on shuffled
// labels (rolled back). Afterwards: one decision each, the right one, the router on v2, the
// operator never crashed, and the cluster settles into its monitoring rhythm (no hot loop).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { planStorm, startStorm, type FaultAction, type Storm } from '../../hack/chaos/faults.js';
import { chaosRng } from '../../hack/chaos/seed.js';
import { WRITE_VERBS } from '../../hack/devcluster/apiserver/counters.js';
import { NotFoundError } from '../../operator/runtime/errors.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { NS } from './support.js';
import {
  goodThenBadUnderChaos,
  MODEL,
  serveAndLoad,
  startServedV1,
  type CanaryChaos,
  type CanaryEnv,
} from './canary-support.js';

const RESOURCES = [
  'inferenceservices.modelship.dev',
  'modelversions.modelship.dev',
  'deployments.apps',
  'services',
  'pods',
  'secrets',
  'jobs.batch',
  'events',
];
let env: CanaryEnv;
let corrupt: string;

test.before(async () => {
  ({ env, corrupt } = await startServedV1());
});

test.after(async () => {
  await env?.stop();
});

test('a storm of 409/410/500 bursts, dropped watches and 2 s latency during two canaries: right decisions, once each', async () => {
  const url = await serveAndLoad(env);
  const rng = chaosRng('canary-api-faults');
  const applied: FaultAction[] = [];
  const storm = (): CanaryChaos => {
    let running: Storm | undefined;
    return {
      // ~50 s of faults from the version's registration: its validation, the canary's start and
      // its first analyses. Faults still queued when the storm ends are dropped (a fault rule
      // waits for a matching request, and a controller backing off would meet them for minutes).
      start: () => {
        running = startStorm(
          env.cluster.api.faults,
          planStorm(rng, { actions: 40, latencyMs: 2000, resources: RESOURCES }),
          rng,
          [600, 1900],
        );
        void running.done.then(() => env.cluster.api.faults.clear());
      },
      stop: async () => {
        applied.push(...(await running!.stop()));
        env.cluster.api.faults.clear();
      },
    };
  };
  await goodThenBadUnderChaos(env, url, corrupt, storm(), assert.ok);
  assert.ok(applied.length >= 20, `the storm ran through the canaries (${applied.length} faults)`);
  assert.is(env.operator.incarnations, 1, 'the operator process never exited');
  // Settled: once the rollback's cleanup is done (the canary Deployment deleted, which on a
  // loaded machine can come a few seconds after the RolledBack status), status is written at
  // most once per monitoring interval (10 s), so a quiet 6 s holds at most a couple of writes;
  // a hot loop would show dozens.
  await waitFor(
    () =>
      env.client.get(Kinds.Deployment, NS, `${MODEL}-canary`).then(
        () => undefined,
        (err) => (err instanceof NotFoundError ? true : undefined),
      ),
    60_000,
    'the canary Deployment deleted',
  );
  await sleep(3000);
  const c0 = env.cluster.api.counters();
  await sleep(6000);
  const c1 = env.cluster.api.counters();
  const writes = c1.writes - c0.writes;
  assert.ok(
    writes <= 4,
    `writes in 6 s after the storm: ${writes} (${JSON.stringify(writesBetween(c0.byKey, c1.byKey))})`,
  );
  process.stderr.write(
    `canary-api-faults: writes in the settled 6 s: ${JSON.stringify(writesBetween(c0.byKey, c1.byKey))}\n`,
  );
  process.stderr.write(
    `canary-api-faults: ${applied.length} faults applied: ${JSON.stringify(countBy(applied.map((a) => (a.op === 'fail' ? `${a.code}` : a.op))))}; load ${JSON.stringify(env.load?.stats.byStatus)}\n`,
  );
});

/** Write requests by key between two counter snapshots (what a hot loop would be made of). */
function writesBetween(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(after))
    if (WRITE_VERBS.has(k.slice(0, k.indexOf(' '))) && n > (before[k] ?? 0)) out[k] = n - (before[k] ?? 0);
  return out;
}

function countBy(xs: string[]): Record<string, number> {
  return xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test.run();
