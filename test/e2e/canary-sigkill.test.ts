// The operator (a real process) is SIGKILLed at random moments during canaries and restarted:
// every canary still ends in the right outcome, exactly once, with consistent status — the
// state lives in status, written before any child changes. CANARY_SIGKILL_COUNT kills per
// canary (default 3; `make test-slow`-style runs use 10). Unlike the other canary scenarios the
// operator here is a host process, not the chart's Deployment: the kubelet restarts a killed
// container with crash-loop back-off (1 s doubling), which would push ten kills past the canary.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { InferenceService } from '../../operator/api/index.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import {
  brief,
  createReadyVersion,
  MODEL,
  NS,
  OperatorProcess,
  serveV1WithLoad,
  startFixture,
  stopScenario,
  type Fixture,
  type RunningLoad,
} from './canary-support.js';

const KILLS = Number(process.env.CANARY_SIGKILL_COUNT ?? 3);
// Ten kills must land within one canary (~30 s of analyses): the more kills, the shorter the gaps.
const KILL_GAP_MS: [number, number] = KILLS > 3 ? [700, 2500] : [1500, 6000];
let fx: Fixture;
let operator: OperatorProcess;
let load: RunningLoad | undefined;
let last: InferenceService | undefined;
const getIsvc = async () => (last = await fx.client.get<InferenceService>(Kinds.InferenceService, NS, MODEL));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

test.before(async () => {
  fx = await startFixture(2);
  operator = new OperatorProcess(fx, fx.cluster.prometheusUrl!, process.env.CANARY_E2E_LOG);
  operator.start();
});

test.after(() => stopScenario(fx, load, operator && (() => operator.kill('SIGTERM'))));

/** Kills and restarts the operator KILLS times at random moments until `done` says so. */
async function chaos(version: number): Promise<InferenceService> {
  let kills = 0;
  for (;;) {
    const s = await getIsvc();
    const entry = s.status?.history?.find((h) => h.version === version);
    if (entry && !s.status?.canary) return s;
    if (kills < KILLS) {
      await sleep(rand(...KILL_GAP_MS));
      await operator.kill('SIGKILL');
      kills++;
      await sleep(rand(200, 1500));
      operator.start();
    } else await sleep(500);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what}: timed out after ${ms} ms; status ${JSON.stringify(brief(last))}`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

test('SIGKILL during a good canary: promoted exactly once, every step recorded', async () => {
  ({ load } = await serveV1WithLoad(fx));
  await createReadyVersion(fx.client, 2, 'good-2');
  const s = await withTimeout(chaos(2), 420_000, 'v2 finished');
  const entries = s.status?.history?.filter((h) => h.version === 2) ?? [];
  assert.is(entries.length, 1, JSON.stringify(brief(s)));
  assert.is(entries[0].outcome, 'Promoted', JSON.stringify(brief(s)));
  assert.equal(
    entries[0].steps?.map((st) => [st.weight, st.verdict]),
    [
      [20, 'Pass'],
      [50, 'Pass'],
    ],
  );
  assert.is(s.status?.stable?.version, 2);
  assert.is(s.status?.stable?.weight, 100);
  assert.is(s.status?.phase, 'Serving');
  assert.ok(operator.starts > KILLS, `restarts ${operator.starts}`);
});

test('SIGKILL during a bad canary: rolled back exactly once and not retried', async () => {
  await createReadyVersion(fx.client, 3, 'bad');
  const s = await withTimeout(chaos(3), 150_000, 'v3 finished');
  const entries = s.status?.history?.filter((h) => h.version === 3) ?? [];
  assert.is(entries.length, 1, JSON.stringify(brief(s)));
  assert.is(entries[0].outcome, 'RolledBack');
  assert.is(s.status?.stable?.version, 2);
  assert.ok(s.status?.failedVersions?.some((f) => f.version === 3));
  assert.is(s.status?.history?.filter((h) => h.outcome === 'Promoted').length, 1, 'no second promotion');
  await sleep(3000);
  assert.is((await getIsvc()).status?.canary, undefined, 'not retried');
});

test.run();
