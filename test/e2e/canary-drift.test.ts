// A drifted canary, end to end (real serving pods, router, Prometheus scraping them, the
// operator's controllers, labelled load with feedback): a model trained on shifted data — its
// reference profile is darker, blurred faces — sees normal live traffic as drifted, so the
// canary is rolled back for `drift` (not for accuracy, errors or a deadline), history records
// it, the router sends everything to stable, and stable keeps answering.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import {
  brief,
  MODEL,
  modelVersion,
  NS,
  rolloutEnded,
  routerDropped,
  serveV1WithLoad,
  startFixture,
  installOperatorChart,
  stopScenario,
  writeShiftedReferenceCopy,
  type Fixture,
  type RunningLoad,
} from './canary-support.js';

let fx: Fixture;
let load: RunningLoad | undefined;

test.before(async () => {
  fx = await startFixture(1);
  const models = join(fx.pvcRoot, NS, 'models');
  // The same weights as stable, so accuracy and prediction drift stay comparable: only the
  // reference distribution (what the model was trained on) differs from live traffic.
  await writeShiftedReferenceCopy(
    join(models, 'good-1'),
    join(models, 'shifted'),
    'lighting=0.6,blur=1.5,palette=warm',
  );
  await installOperatorChart(fx);
});

test.after(() => stopScenario(fx, load));

test('a model trained on shifted data is rolled back for drift; traffic returns to stable', async () => {
  // The default drift.max (0.25): the shifted reference scores several times that.
  const started = await serveV1WithLoad(fx);
  load = started.load;
  const stats = started.load.stats;

  // Trained on shifted data: its own validation set is shifted too, so the offline/serving
  // skew says nothing about live traffic here.
  const mv = modelVersion(2, 'shifted');
  mv.spec.validation = { ...mv.spec.validation!, skewTolerance: 1 };
  await fx.client.create(mv);
  await waitFor(
    async () =>
      (await fx.client.get<typeof mv>(Kinds.ModelVersion, NS, `${MODEL}-v2`)).status?.phase === 'Ready'
        ? true
        : undefined,
    120_000,
    'v2 Ready',
    250,
  );

  const s = await rolloutEnded(fx.client, 2, 120_000);
  const entry = s.status!.history!.find((h) => h.version === 2)!;
  assert.is(entry.outcome, 'RolledBack', JSON.stringify(brief(s)));
  assert.is(entry.reason, 'FailureLimitReached', JSON.stringify(brief(s)));
  assert.match(entry.message ?? '', /\bdrift\b/, 'the rollback names the drift check');
  const lastStep = entry.steps?.at(-1);
  const drift = lastStep?.checks?.find((c) => c.check === 'drift' && c.role === 'canary');
  assert.is(drift?.verdict, 'Fail', JSON.stringify(lastStep?.checks?.filter((c) => c.verdict !== 'Pass')));
  assert.ok(
    (drift?.value ?? 0) > 0.8 && (drift?.samples ?? 0) >= 30,
    `drift ${drift?.value} on ${drift?.samples} samples`,
  );
  assert.ok(Object.keys(drift?.breakdown ?? {}).length > 1, 'per-feature values kept');
  // Not a rollback for anything else: the same weights answer as well as stable.
  assert.ok(
    !lastStep?.checks?.some((c) => c.verdict === 'Fail' && (c.check === 'errorRate' || c.check === 'accuracyVsStable')),
    JSON.stringify(lastStep?.checks?.filter((c) => c.verdict === 'Fail')),
  );
  assert.is(s.status?.stable?.version, 1);
  assert.is(s.status?.phase, 'RolledBack');
  assert.ok(s.status?.failedVersions?.some((f) => f.version === 2));

  const table = await routerDropped(fx.client, 2);
  assert.ok(
    table.some((u) => u.version === '1' && u.weight > 0),
    JSON.stringify(table),
  );
  const before = { ok: stats.byStatus['200'] ?? 0, v1: stats.byVersion['1'] ?? 0, v2: stats.byVersion['2'] ?? 0 };
  await new Promise((r) => setTimeout(r, 3000));
  assert.ok((stats.byVersion['1'] ?? 0) - before.v1 > 50, `stable kept answering: ${JSON.stringify(stats.byVersion)}`);
  assert.is(stats.byVersion['2'] ?? 0, before.v2, 'no answers from the rolled-back canary');
  process.stderr.write(
    `canary-drift: ${entry.reason}: drift ${drift?.value?.toFixed(2)} on ${drift?.samples} samples; load ${JSON.stringify(stats.byVersion)}\n`,
  );
});

test.run();
