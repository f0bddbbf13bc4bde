// A canary whose pods crash-loop (operator as its own process, real serving pods, router, real
// Prometheus, labelled load with feedback): v2 passes validation, then its artifact is broken
// before it serves, so every canary pod exits at start-up. The rollout fails safe — rolled back
// at the progress deadline with the reason — the stable version never changes, and clients see
// no 5xx other than 503 while the canary crashes.
import { truncateSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ModelVersion } from '../../operator/api/index.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import {
  brief,
  getIsvc,
  inferenceService,
  MODEL,
  readyVersion,
  rolloutEnded,
  serveAndLoad,
  startCanaryEnv,
  type CanaryEnv,
} from './canary-support.js';
import { NS } from './support.js';

let env: CanaryEnv;

test.before(async () => {
  env = await startCanaryEnv();
  await readyVersion(env, 1, 'v1');
  await env.client.create(inferenceService('40s')); // the deadline is this scenario's subject
  await serveAndLoad(env);
});

test.after(async () => {
  await env?.stop();
});

test('a crash-looping canary is rolled back; stable keeps serving', async () => {
  // Valid when validated, broken before it serves: the canary pods exit at start-up. A short
  // progress deadline: a canary that never gets ready must fail safe without waiting long.
  const stable = (await getIsvc(env)).status?.stable?.version;
  assert.is(stable, 1);
  await readyVersion(env, 2, 'v2');
  truncateSync(join(env.claimDir, 'v2', 'model.onnx'), 100);
  const before = { ...env.load!.stats.byStatus };
  const s = await rolloutEnded(env, 2, 150_000);
  const entry = s.status?.history?.find((h) => h.version === 2);
  assert.is(entry?.outcome, 'RolledBack', brief(s));
  assert.is(entry?.reason, 'ProgressDeadlineExceeded', brief(s));
  let mv2: ModelVersion | undefined;
  await waitFor(
    async () => {
      mv2 = await env.client.get<ModelVersion>(Kinds.ModelVersion, NS, `${MODEL}-v2`);
      return (mv2.status?.servedBy ?? []).length === 0;
    },
    20_000,
    'the rolled-back version no longer listed as served',
    500,
  ).catch((e: Error) => {
    throw new Error(`${e.message}: servedBy ${JSON.stringify(mv2?.status?.servedBy)}`, { cause: e });
  });
  assert.is(s.status?.stable?.version, stable, `stable unchanged: ${brief(s)}`);
  const after = env.load!.stats.byStatus;
  const bad = Object.entries(after)
    .filter(([code]) => Number(code) >= 500 && code !== '503')
    .map(([code, n]) => [code, n - (before[code] ?? 0)])
    .filter(([, n]) => Number(n) > 0);
  assert.equal(bad, [], `no 5xx but 503 to clients while the canary crashed: ${JSON.stringify(after)}`);
  const ok = (after['200'] ?? 0) - (before['200'] ?? 0);
  assert.ok(ok > 100, `stable kept answering (${ok} answers)`);
  process.stderr.write(`canary-crashloop: crash loop rolled back: ${entry?.reason}: ${entry?.message}\n`);
});

test.run();
