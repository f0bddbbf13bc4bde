// Operator SIGKILL at random points of two canaries (seeded; the seed is printed), the
// operator being its own process with real serving pods, the router, real Prometheus and
// labelled load with feedback. Kills start when a version is registered, so they land during
// its validation, the canary's start, its analyses, and the promotion or rollback writes.
// v2 is the same model as stable (promoted), v3 is trained on shuffled labels (rolled back).
// After each: exactly one decision, the right one, stable consistent; at the end the router
// sends everything to v2 and history holds each decision once — state lives in status, so a
// restarted operator resumes where the dead one stopped, never deciding twice.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chaosRng } from '../../hack/chaos/seed.js';
import {
  goodThenBadUnderChaos,
  serveAndLoad,
  startServedV1,
  type CanaryChaos,
  type CanaryEnv,
} from './canary-support.js';

const KILLS_PER_CANARY = 5;
let env: CanaryEnv;
let corrupt: string;

// Four steps: each canary lasts at least four analyses (60 s), long enough for its kills.
test.before(async () => {
  ({ env, corrupt } = await startServedV1([20, 40, 60, 80]));
});

test.after(async () => {
  await env?.stop();
});

test(`operator SIGKILLs every 1–4 s (up to ${KILLS_PER_CANARY} a canary) during two canaries: the equal one promoted once, the bad one rolled back once`, async () => {
  const url = await serveAndLoad(env);
  const rng = chaosRng('canary-operator-kill');
  const kills = (): CanaryChaos => {
    let stopped = false;
    let wake: (() => void) | undefined;
    const nap = (ms: number) =>
      new Promise<void>((r) => {
        wake = r;
        setTimeout(r, ms);
      });
    let loop: Promise<void> = Promise.resolve();
    return {
      start: () => {
        stopped = false;
        loop = (async () => {
          for (let i = 0; i < KILLS_PER_CANARY; i++) {
            await nap(rng.int(1000, 4000));
            if (stopped) return;
            await env.operator.kill();
            await sleep(rng.int(0, 800));
            env.operator.start();
          }
        })();
      },
      stop: async () => {
        stopped = true;
        wake?.();
        await loop;
        if (!env.operator.running) env.operator.start();
      },
    };
  };
  const s = await goodThenBadUnderChaos(env, url, corrupt, kills(), assert.ok);
  const n = env.operator.kills.length;
  // A bad canary can be decided after two analyses, before all of its kills.
  assert.ok(
    n >= 2 * KILLS_PER_CANARY - 2,
    `${n} kills landed before their rollout ended: the chaos really hit the canaries`,
  );
  assert.is(s.status?.history?.filter((h) => h.outcome === 'Promoted').length, 1, 'no second promotion');
  assert.ok(
    s.status?.failedVersions?.some((f) => f.version === 3),
    'v3 remembered as failed (not retried)',
  );
  process.stderr.write(
    `canary-operator-kill: ${n} kills after ${env.operator.kills.map((k) => k.aliveMs).join(',')} ms alive; load ${JSON.stringify(env.load?.stats.byStatus)}\n`,
  );
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

test.run();
