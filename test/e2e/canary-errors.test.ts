// A canary answering 5xx, end to end (real serving pods, router, Prometheus scraping them, the
// operator's controllers, labelled load): v2 passes validation, then its artifact is swapped
// for a graph that loads with the same signature but fails every prediction (HTTP 500). The
// canary is rolled back for `errorRate` — early, from the confident error bound, not at the
// progress deadline — history records it, the router sends everything to stable, and clients
// get only stable's 200s afterwards.
import { cpSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  breakModelAtInference,
  brief,
  createReadyVersion,
  NS,
  rolloutEnded,
  routerDropped,
  serveV1WithLoad,
  startFixture,
  installOperatorChart,
  stopScenario,
  type Fixture,
  type RunningLoad,
} from './canary-support.js';

let fx: Fixture;
let load: RunningLoad | undefined;

test.before(async () => {
  fx = await startFixture(2);
  const models = join(fx.pvcRoot, NS, 'models');
  cpSync(join(models, 'good-2'), join(models, 'broken'), { recursive: true });
  await breakModelAtInference(join(models, 'broken'));
  await installOperatorChart(fx);
});

test.after(() => stopScenario(fx, load));

test('a canary answering 5xx is rolled back for errorRate; stable keeps answering', async () => {
  const started = await serveV1WithLoad(fx);
  load = started.load;
  const stats = started.load.stats;

  const readyAt = Date.now();
  await createReadyVersion(fx.client, 2, 'good-2');
  // Valid when validated, failing at inference when it serves (the pods start after Ready).
  renameSync(
    join(fx.pvcRoot, NS, 'models', 'broken', 'model.onnx'),
    join(fx.pvcRoot, NS, 'models', 'good-2', 'model.onnx'),
  );

  const s = await rolloutEnded(fx.client, 2, 150_000);
  const entry = s.status!.history!.find((h) => h.version === 2)!;
  assert.is(entry.outcome, 'RolledBack', JSON.stringify(brief(s)));
  assert.is(entry.reason, 'FailureLimitReached', JSON.stringify(brief(s)));
  assert.match(entry.message ?? '', /errorRate/, 'the rollback names the errorRate check');
  const lastStep = entry.steps?.at(-1);
  const errors = lastStep?.checks?.find((c) => c.check === 'errorRate' && c.role === 'canary');
  assert.is(errors?.verdict, 'Fail', JSON.stringify(lastStep?.checks?.filter((c) => c.verdict !== 'Pass')));
  assert.ok((errors?.value ?? 0) > 0.5, `canary error rate ${errors?.value}`);
  assert.ok(Date.now() - readyAt < 120_000, 'rolled back on errors, well before the progress deadline');
  assert.ok((stats.byStatus['500'] ?? 0) > 0, `clients saw the canary's 500s: ${JSON.stringify(stats.byStatus)}`);
  assert.is(s.status?.stable?.version, 1);
  assert.is(s.status?.phase, 'RolledBack');
  assert.ok(s.status?.failedVersions?.some((f) => f.version === 2));

  const table = await routerDropped(fx.client, 2);
  assert.ok(
    table.some((u) => u.version === '1' && u.weight > 0),
    JSON.stringify(table),
  );
  // In-flight requests to the canary may still finish; after a moment only stable answers.
  await new Promise((r) => setTimeout(r, 500));
  const before = { ...stats.byStatus };
  const v1 = stats.byVersion['1'] ?? 0;
  await new Promise((r) => setTimeout(r, 3000));
  const bad = Object.entries(stats.byStatus).filter(([code, n]) => code !== '200' && n > (before[code] ?? 0));
  assert.equal(
    bad,
    [],
    `only 200s after the rollback: ${JSON.stringify(stats.byStatus)} (before ${JSON.stringify(before)})`,
  );
  assert.ok((stats.byVersion['1'] ?? 0) - v1 > 50, `stable kept answering: ${JSON.stringify(stats.byVersion)}`);
  process.stderr.write(`canary-errors: ${entry.reason}: ${entry.message}; load ${JSON.stringify(stats.byStatus)}\n`);
});

test.run();
