// The shadow phase (spec.canary.shadow): the state machine (table), the routing table the
// router builds from status, and the shadow analysis over the router's join series.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  withInferenceServiceDefaults,
  type InferenceService,
  type InferenceServiceStatus,
} from '../../operator/api/index.js';
import { analyseShadow, joinedFromSamples } from '../../operator/analysis/index.js';
import {
  nextAnalysisAt,
  transition,
  type RolloutEvent,
  type RolloutPolicy,
} from '../../operator/controllers/inferenceservice/index.js';
import type { Sample } from '../../operator/metrics-providers/index.js';
import { tableFromStatus } from '../../serving/router/sources/isvc-status.js';
import { tableProvider } from '../support/table-provider.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const at = (s: number) => new Date(NOW.getTime() + s * 1000);
const POLICY: RolloutPolicy = {
  steps: [20, 50],
  intervalMs: 10_000,
  failureLimit: 2,
  progressDeadline: '10m',
  progressDeadlineMs: 600_000,
  guardWindowMs: 60_000,
  generation: 3,
  replicas: 1,
  shadow: { durationMs: 30_000 },
};
const serving: InferenceServiceStatus = {
  phase: 'Serving',
  stable: { version: 1, modelVersion: 'faces-v1', weight: 100, readyReplicas: 1, url: 'http://10.0.0.1:80' },
};
const analysis = (verdict: 'Pass' | 'Fail' | 'Inconclusive'): RolloutEvent => ({
  type: 'Analysis',
  verdict,
  checks: [{ check: 'accuracyVsStable', role: 'canary', head: 'beard', verdict }],
  details: [`accuracyVsStable: ${verdict}`],
  shadow: [{ head: 'beard', pairs: 200, agreement: 0.9, samples: 60, accuracy: 0.88, stableAccuracy: 0.9 }],
});
const target: RolloutEvent = { type: 'Target', target: { version: 2, modelVersion: 'faces-v2' } };
const ready: RolloutEvent = { type: 'CanaryReady', readyReplicas: 1 };

/** Runs `events` at the given seconds after NOW. */
function run(events: Array<[number, RolloutEvent]>, from = serving): InferenceServiceStatus {
  let s = structuredClone(from);
  for (const [t, e] of events) s = transition(s, e, POLICY, at(t));
  return s;
}

/** A canary whose shadow began: its target, then its pods ready 5 s later. */
const STARTED: Array<[number, RolloutEvent]> = [
  [0, target],
  [5, ready],
];

const machine = suite('shadow phase: state machine');
const rows: Array<[string, Array<[number, RolloutEvent]>, (s: InferenceServiceStatus) => void]> = [
  [
    'a new target starts in the shadow: no traffic, not started until pods are ready',
    [[0, target]],
    (s) => {
      assert.is(s.phase, 'Progressing');
      assert.equal(s.canary?.shadow, {});
      assert.is(s.canary?.weight, 0);
      assert.is(nextAnalysisAt(s, POLICY), undefined);
    },
  ],
  [
    'ready pods start the shadow, still at weight 0',
    [...STARTED],
    (s) => {
      assert.is(s.canary?.shadow?.startedAt, at(5).toISOString());
      assert.is(s.canary?.stepStartedAt, at(5).toISOString());
      assert.is(s.canary?.weight, 0);
      assert.is(s.stable?.weight, 100);
      assert.equal(nextAnalysisAt(s, POLICY), at(15));
    },
  ],
  [
    'a pass before the shadow duration holds, with the per-head summary in status',
    [...STARTED, [15, analysis('Pass')]],
    (s) => {
      assert.is(s.canary?.shadow?.passedAt, undefined);
      assert.is(s.canary?.weight, 0);
      assert.equal(s.canary?.shadow?.heads?.[0].agreement, 0.9);
      assert.is(s.analysis?.verdict, 'Pass');
    },
  ],
  [
    'a pass after the duration starts the first step',
    [...STARTED, [15, analysis('Pass')], [35, analysis('Pass')]],
    (s) => {
      assert.is(s.canary?.shadow?.passedAt, at(35).toISOString());
      assert.is(s.canary?.weight, 20);
      assert.is(s.canary?.step, 0);
      assert.is(s.canary?.stepStartedAt, at(35).toISOString());
      assert.equal(nextAnalysisAt(s, POLICY), at(45), 'the first step gets a whole interval of its own');
      assert.equal(s.canary?.steps, [], 'the shadow is not a step');
    },
  ],
  [
    'failureLimit failed shadow analyses roll back before any user saw the version',
    [...STARTED, [15, analysis('Fail')], [25, analysis('Fail')]],
    (s) => {
      assert.is(s.phase, 'RolledBack');
      assert.is(s.canary, undefined);
      assert.is(s.history?.[0].reason, 'ShadowFailed');
      assert.match(s.history?.[0].message ?? '', /^shadow phase: /);
      assert.is(s.failedVersions?.[0].version, 2);
    },
  ],
  [
    'an inconclusive shadow keeps waiting (the progress deadline bounds it)',
    [...STARTED, [15, analysis('Inconclusive')], [45, analysis('Inconclusive')]],
    (s) => {
      assert.is(s.phase, 'Progressing');
      assert.is(s.canary?.weight, 0);
      assert.is(s.canary?.failedChecks, 0);
    },
  ],
  [
    'past the progress deadline a shadow rolls back like any canary',
    [...STARTED, [601, { type: 'Clock' }]],
    (s) => assert.is(s.history?.[0].reason, 'ProgressDeadlineExceeded'),
  ],
];
for (const [name, events, expect] of rows) machine(name, () => expect(run(events)));

machine('an analysis records the label-free estimate per head in status.canary', () => {
  const estimatedAccuracy = [
    { head: 'beard', value: 0.9, lower: 0.85, upper: 0.95, samples: 400 },
    { head: 'glasses', refused: 'InputDrift', message: 'input drift PSI 3 above 1', samples: 400 },
  ];
  const s = run([...STARTED, [15, { ...analysis('Inconclusive'), estimatedAccuracy } as RolloutEvent]]);
  assert.equal(s.canary?.estimatedAccuracy, estimatedAccuracy);
});

machine('without spec.canary.shadow the canary starts at its first step', () => {
  let s = transition(structuredClone(serving), target, { ...POLICY, shadow: undefined }, at(0));
  s = transition(s, ready, { ...POLICY, shadow: undefined }, at(5));
  assert.is(s.canary?.shadow, undefined);
  assert.is(s.canary?.weight, 20);
});
machine.run();

const routing = suite('shadow phase: the routing table from status');
routing('in the shadow the canary takes no traffic and gets a copy of every request; after it, none', () => {
  const inShadow = run([...STARTED]);
  const status = (s: InferenceServiceStatus) => ({
    ...s,
    canary: { ...s.canary, url: 'http://10.0.0.2:80' },
  });
  const t = tableFromStatus({ spec: { model: 'faces' }, status: status(inShadow) });
  assert.equal(t.mirror, { role: 'canary', percent: 100 });
  assert.equal(
    t.upstreams.map((u) => [u.role, u.weight]),
    [
      ['stable', 100],
      ['canary', 0],
    ],
  );
  const passed = run([...STARTED, [35, analysis('Pass')]]);
  const after = tableFromStatus({ spec: { model: 'faces' }, status: status(passed) });
  assert.is(after.mirror, undefined);
  assert.equal(
    after.upstreams.map((u) => u.weight),
    [80, 20],
  );
});
routing.run();

const judged = suite('shadow phase: analysis from the router join');
const T = new Date('2026-01-01T00:00:00Z');
const s = (value: number, labels: Record<string, string> = {}): Sample => ({ labels, value, timestamp: T });
/** The CRD defaults, as an InferenceService with no canary settings gets them. */
const policy = withInferenceServiceDefaults({ model: 'faces' } as InferenceService['spec']).canary;
/** Joined feedback: both versions judged on the same `n` items, right `stable` and `shadow` times. */
const joinedFeedback = (n: number, stable: number, shadow: number) => [
  s(stable, { head: 'beard', judged: 'stable', outcome: 'correct' }),
  s(n - stable, { head: 'beard', judged: 'stable', outcome: 'incorrect' }),
  s(shadow, { head: 'beard', judged: 'shadow', outcome: 'correct' }),
  s(n - shadow, { head: 'beard', judged: 'shadow', outcome: 'incorrect' }),
];
const pairs = (agree: number, disagree: number) => [
  s(agree / 2, { head: 'beard', stable_class: 'yes', shadow_class: 'yes' }),
  s(agree / 2, { head: 'beard', stable_class: 'no', shadow_class: 'no' }),
  s(disagree, { head: 'beard', stable_class: 'yes', shadow_class: 'no' }),
];
const reference = { features: { brightness: [1, 1] }, predictions: { beard: { yes: 0.5, no: 0.5 } } };
/** What every shadow analysis here measures: v2 against v1 over a minute, at T. */
const ANALYSED = { canary: { version: '2' }, stable: { version: '1' }, window: '1m', at: T, reference, policy };
const served = {
  modelship_requests_total: [s(3000)],
  'handler=~"predict|infer",code=~"5.."': [s(0)],
  modelship_feature_bin_total: [
    s(1500, { feature: 'brightness', bin: '0' }),
    s(1500, { feature: 'brightness', bin: '1' }),
  ],
  modelship_predictions_total: [s(1500, { head: 'beard', class: 'yes' }), s(1500, { head: 'beard', class: 'no' })],
  'histogram_quantile(0.95': [s(0.02)],
  // The stable version's own feedback (every label users sent): not what the shadow is judged against.
  modelship_feedback_total: [s(5000, { head: 'beard', outcome: 'correct' })],
};

judged(
  "joined labels replace both versions' own feedback; a shuffled shadow fails on accuracy and agreement",
  async () => {
    const p = tableProvider({
      ...served,
      modelship_router_shadow_feedback_total: joinedFeedback(400, 360, 190),
      modelship_router_shadow_pairs_total: pairs(200, 1800),
    });
    const r = await analyseShadow({ ...ANALYSED, provider: p, shadow: { minSamples: 50, minAgreement: 0.5 } });
    assert.ok(p.queries.some((q) => q.includes('modelship_router_shadow_feedback_total{version="2"}')));
    const byName = Object.fromEntries(r.checks.map((c) => [c.check, c]));
    assert.is(byName.accuracyVsStable.verdict, 'Fail', byName.accuracyVsStable.message);
    assert.match(byName.accuracyVsStable.message ?? '', /canary 0\.475 \(400 samples\) − stable 0\.9 \(400 samples\)/);
    assert.is(byName.agreement.verdict, 'Fail', byName.agreement.message);
    assert.is(r.verdict, 'Fail');
    assert.equal(r.heads, [
      { head: 'beard', pairs: 2000, agreement: 0.1, samples: 400, accuracy: 0.475, stableAccuracy: 0.9 },
    ]);
  },
);

judged('an equally good shadow passes; below minSamples joined labels it is inconclusive', async () => {
  const good = tableProvider({
    ...served,
    modelship_router_shadow_feedback_total: joinedFeedback(3000, 2700, 2710),
    modelship_router_shadow_pairs_total: pairs(2800, 200),
  });
  const input = { ...ANALYSED, provider: good, shadow: { minSamples: 50 } };
  const r = await analyseShadow(input);
  assert.is(r.verdict, 'Pass', JSON.stringify(r.checks));
  assert.not.ok(
    r.checks.some((c) => c.check === 'agreement'),
    'agreement unchecked without minAgreement',
  );
  const few = await analyseShadow({
    ...input,
    provider: tableProvider({ ...served, modelship_router_shadow_feedback_total: joinedFeedback(30, 27, 27) }),
  });
  const acc = few.checks.find((c) => c.check === 'accuracyVsStable');
  assert.is(acc?.verdict, 'Inconclusive');
  assert.match(acc?.message ?? '', /fewer than minFeedback=50/);
});

judged('no joined feedback is inconclusive, never a pass', async () => {
  const r = await analyseShadow({
    ...ANALYSED,
    provider: tableProvider(served),
    shadow: { minSamples: 50, minAgreement: 0.5 },
  });
  assert.is(r.verdict, 'Inconclusive');
  assert.match(r.checks.find((c) => c.check === 'accuracyVsStable')?.message ?? '', /no feedback/);
  assert.is(r.checks.find((c) => c.check === 'agreement')?.verdict, 'Inconclusive');
});

judged('joinedFromSamples: agreement is the confusion matrix diagonal', () => {
  const j = joinedFromSamples([], pairs(10, 4));
  assert.equal(j.pairs, { beard: { agree: 10, total: 14 } });
});
judged.run();
