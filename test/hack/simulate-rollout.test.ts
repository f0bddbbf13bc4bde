// A small, seeded run of the rollout simulation (hack/simulate, the table of `make bench`) at
// the CRD defaults, so the figures operator/analysis/README.md quotes stay true as the checks,
// the defaults or the state machine change.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorsOf, runCell, type Setting } from '../../hack/simulate/table.js';
import { serviceWith, simulateCanary } from '../../hack/simulate/rollout.js';
import { faceAttributesWorld, seeded } from '../../hack/simulate/world.js';

const defaults: Setting = {
  name: 'defaults',
  canary: {},
  margin: serviceWith().spec.canary.checks.accuracy.maxDropVsStable,
};
const RUNS = 30;

test('at the defaults and 20 labelled requests per second an equal canary is promoted within the deadline', () => {
  const c = runCell(defaults, { effect: 0, heads: 'all', rps: 20 }, RUNS, 100);
  assert.is(c.promoted, RUNS, `${c.promoted} of ${RUNS} promoted`);
  assert.ok(c.p95Minutes < 30, `p95 ${c.p95Minutes} min`);
  assert.is(errorsOf(c, defaults.margin).falseRollbacks, 0);
});

test('a canary worse than the margin is never promoted; a shuffled-label one fails on accuracy within minutes', () => {
  const worse = runCell(defaults, { effect: -(defaults.margin + 0.03), heads: 'one', rps: 20 }, RUNS, 200);
  assert.is(worse.promoted, 0);
  assert.is(errorsOf(worse, defaults.margin).falsePromotions, 0);
  const random = seeded(300);
  const shuffled = simulateCanary(random, faceAttributesWorld(random), { effect: -0.4, heads: 'all', rps: 20 });
  assert.is(shuffled.outcome, 'RolledBack');
  assert.is(shuffled.reason, 'FailureLimitReached');
  assert.ok(
    shuffled.failed.some((f) => f.startsWith('accuracyVsStable/')),
    shuffled.failed.join(', '),
  );
  assert.ok(shuffled.seconds <= 5 * 60, `${shuffled.seconds} s`);
});

test('the same seed gives the same canary', () => {
  const once = () => {
    const random = seeded(9);
    return simulateCanary(random, faceAttributesWorld(random), { effect: 0, heads: 'all', rps: 20 });
  };
  assert.equal(once(), once());
});

test.run();
