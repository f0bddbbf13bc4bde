// Verdict aggregation, the per-analysis decision, monitoring levels, and the status / metrics
// helpers the controller writes with.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import type { AnalysisCheck, Verdict } from '../../operator/api/index.js';
import { AnalysisMetrics } from '../../operator/analysis/metrics.js';
import type { RoleMeasurements } from '../../operator/analysis/measurements.js';
import { accuracyLevel, driftLevel, monitorStable, worstLevel } from '../../operator/analysis/monitoring.js';
import { MAX_CHECKS, toAnalysisStatus, toStatusCheck } from '../../operator/analysis/status.js';
import { aggregateVerdict, checkSummaries, decideStep, nextFailedChecks } from '../../operator/analysis/verdict.js';

const v = (...verdicts: Verdict[]) => verdicts.map((verdict) => ({ verdict }));

test('aggregate: any fail fails, any inconclusive is inconclusive, nothing measured is not a pass', () => {
  const cases: Array<[Verdict[], Verdict]> = [
    [['Pass', 'Pass'], 'Pass'],
    [['Pass', 'Inconclusive', 'Pass'], 'Inconclusive'],
    [['Inconclusive', 'Fail', 'Pass'], 'Fail'],
    [['Fail'], 'Fail'],
    [[], 'Inconclusive'],
  ];
  for (const [verdicts, expected] of cases) assert.is(aggregateVerdict(v(...verdicts)), expected, verdicts.join(','));
});

test('consecutive failures: fail counts, pass resets, inconclusive keeps the streak', () => {
  let n = 0;
  const seen: number[] = [];
  for (const verdict of ['Fail', 'Inconclusive', 'Fail', 'Pass', 'Fail'] as Verdict[])
    seen.push((n = nextFailedChecks(n, verdict)));
  assert.equal(seen, [1, 1, 2, 0, 1]);
  assert.is(nextFailedChecks(undefined, 'Inconclusive'), 0);
});

test('step decision (table)', () => {
  // The progress deadline is not decided here but by the rollout state machine's Clock event
  // (test/operator/inferenceservice-units.test.ts), before any analysis is made.
  const cases: Array<[string, Verdict, number, string]> = [
    // name, verdict, failedChecks before, expected action/reason
    ['pass advances', 'Pass', 1, 'Advance/AnalysisPassed'],
    ['inconclusive holds', 'Inconclusive', 0, 'Hold/AnalysisInconclusive'],
    ['first failure holds', 'Fail', 0, 'Hold/AnalysisFailed'],
    ['second failure rolls back', 'Fail', 1, 'Rollback/FailureLimitReached'],
  ];
  for (const [name, verdict, failedChecks, expected] of cases) {
    const d = decideStep({ verdict, failedChecks, failureLimit: 2, details: ['errorRate (canary): 3 of 10'] });
    assert.is(`${d.action}/${d.reason}`, expected, name);
    assert.is(d.failedChecks, nextFailedChecks(failedChecks, verdict), name);
    if (d.action !== 'Advance') assert.match(d.message, /errorRate/, name);
  }
});

test('check summaries name the check, head and role', () => {
  const checks: AnalysisCheck[] = [
    { check: 'accuracy', role: 'canary', head: 'beard', verdict: 'Fail', message: 'too low' },
    { check: 'drift', role: 'canary', verdict: 'Pass', message: 'fine' },
    { check: 'latencyP95Ms', role: 'canary', verdict: 'Inconclusive', message: 'few requests' },
  ];
  assert.equal(checkSummaries(checks), ['accuracy/beard (canary): too low', 'latencyP95Ms (canary): few requests']);
});

test('monitoring levels: drift by PSI score, accuracy by the upper Wilson bound', () => {
  const t = { warn: 0.1, critical: 0.25 };
  assert.equal(
    [driftLevel(0.05, t), driftLevel(0.1, t), driftLevel(0.2, t), driftLevel(0.25, t), driftLevel(undefined, t)],
    ['Ok', 'Warn', 'Warn', 'Critical', 'Unknown'],
  );
  const a = { warn: 0.9, critical: 0.8 };
  const opts = { confidence: 0.95, minFeedback: 50 };
  const cases: Array<[number, number, string]> = [
    [950, 1000, 'Ok'],
    [880, 1000, 'Warn'], // upper ≈ 0.898 < 0.9
    [700, 1000, 'Critical'], // upper ≈ 0.728 < 0.8
    [85, 100, 'Ok'], // upper ≈ 0.907: not confidently below 0.9
    [10, 20, 'Unknown'], // below minFeedback
  ];
  for (const [correct, total, level] of cases)
    assert.is(accuracyLevel({ correct, total }, a, opts).level, level, `${correct}/${total}`);
  assert.is(accuracyLevel(undefined, a, opts).level, 'Unknown');
  assert.is(
    accuracyLevel({ correct: 500, total: 1000 }, undefined, opts).level,
    'Ok',
    'no thresholds, nothing to report',
  );
  assert.is(worstLevel(['Ok', 'Unknown', 'Warn']), 'Warn');
  assert.is(worstLevel(['Ok', 'Critical', 'Warn']), 'Critical');
});

test('monitorStable: status.monitoring from measurements', () => {
  const m: RoleMeasurements = {
    role: 'stable',
    version: '1',
    window: '5m',
    time: '2026-01-01T00:05:00.000Z',
    problems: {},
    featureBins: { brightness: [10, 10, 40, 40], contrast: [50, 50] },
    feedback: { beard: { correct: 950, total: 1000 }, glasses: { correct: 700, total: 1000 } },
  };
  const reference = { features: { brightness: [1, 1, 1, 1], contrast: [1, 1] } };
  const r = monitorStable({
    measurements: m,
    reference,
    monitoring: { drift: { warn: 0.1, critical: 0.25 }, accuracy: { warn: 0.9, critical: 0.8 } },
    minRequests: 100,
    minFeedback: 50,
    confidence: 0.95,
  });
  assert.is(r.status.lastCheckedAt, '2026-01-01T00:05:00.000Z');
  assert.is(r.status.drift!.level, 'Critical');
  assert.is(r.status.drift!.feature, 'brightness');
  assert.is(
    r.status.drift!.score,
    0.397,
    'smoothed shares (see checks.test.ts; 0.3970373 to 4 decimals, as the Drift column shows it)',
  );
  assert.ok(Math.abs(r.drift.score! - 0.3970373) < 1e-6, 'unrounded for the metrics');
  assert.equal(Object.keys(r.status.drift!.features!).sort(), ['brightness', 'contrast']);
  assert.is(r.status.accuracy!.level, 'Critical', 'the worst head is reported');
  assert.is(r.status.accuracy!.value, 0.7);
  assert.is(r.status.accuracy!.lower, 0.6709, 'Wilson bound (0.670875) to 4 decimals');
  assert.is(r.accuracyByHead.beard.level, 'Ok');
  const few = monitorStable({
    measurements: { ...m, featureBins: { brightness: [1, 1, 4, 4], contrast: [5, 5] } },
    reference,
    monitoring: { drift: { warn: 0.1, critical: 0.25 } },
    minRequests: 100,
    minFeedback: 50,
    confidence: 0.95,
  });
  assert.is(few.status.drift!.level, 'Unknown', 'PSI of 10 samples is noise');
  // 120 samples a little off the reference: PSI above critical, but χ² p ≈ 0.4 (noise).
  const noisy = monitorStable({
    measurements: { ...m, featureBins: { brightness: [22, 38, 30, 30], contrast: [60, 60] } },
    reference,
    monitoring: { drift: { warn: 0.01, critical: 0.02 } },
    minRequests: 100,
    minFeedback: 50,
    confidence: 0.95,
  });
  assert.ok(noisy.status.drift!.score! > 0.02, `the score ${noisy.status.drift!.score} is still reported`);
  assert.is(noisy.status.drift!.level, 'Ok', 'a difference sampling noise explains raises no level');
});

test('status: schema-safe checks (integers, finite numbers, bounded sizes) and the aggregate verdict', () => {
  const c = toStatusCheck({
    check: 'drift',
    role: 'canary',
    verdict: 'Fail',
    value: 0.41588830833596713,
    samples: 99.6,
    lower: NaN,
    message: 'x'.repeat(2000),
    breakdown: Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`f${i}`, i])),
  });
  assert.is(c.value, 0.415888);
  assert.is(c.samples, 100);
  assert.is(c.lower, undefined);
  assert.is(c.message!.length, 1024);
  assert.is(Object.keys(c.breakdown!).length, 64);
  assert.ok(!('f0' in c.breakdown!), 'the smallest breakdown values go first');
  const many: AnalysisCheck[] = Array.from({ length: 40 }, (_, i) => ({
    check: 'accuracy',
    head: `h${i}`,
    role: 'canary',
    verdict: i === 39 ? 'Fail' : 'Pass',
  }));
  const status = toAnalysisStatus({ checks: many, time: new Date('2026-01-01T00:00:00Z'), step: 1, weight: 25 });
  assert.is(status.checks!.length, MAX_CHECKS);
  assert.ok(
    status.checks!.some((x) => x.head === 'h39'),
    'a failed check is never dropped',
  );
  assert.is(status.verdict, 'Fail');
  assert.equal([status.time, status.step, status.weight], ['2026-01-01T00:00:00.000Z', 1, 25]);
  assert.equal(JSON.parse(JSON.stringify(status)), status, 'survives JSON');
});

test('metrics: values, thresholds, verdicts and drift per feature; stale series are removed', async () => {
  const registry = new Registry();
  const metrics = new AnalysisMetrics(registry);
  const svc = { namespace: 'ml', name: 'faces' };
  metrics.recordAnalysis(svc, [
    { check: 'errorRate', role: 'canary', verdict: 'Pass', value: 0.002, threshold: 0.01 },
    { check: 'accuracy', role: 'canary', head: 'beard', verdict: 'Inconclusive' },
  ]);
  metrics.recordDrift(svc, 'canary', {
    items: {
      brightness: { psi: 0.3, jensenShannon: 0.2, samples: 100, pValue: 1e-9, pValueAt: () => 1e-9, noise: 0.05 },
    },
    missing: {},
  });
  metrics.recordLevels(svc, { drift: 'Critical', accuracy: 'Unknown' });
  let text = await registry.metrics();
  assert.match(
    text,
    /modelship_operator_analysis_value\{resource_namespace="ml",isvc="faces",check="errorRate",role="canary",head=""\} 0.002/,
  );
  assert.match(
    text,
    /modelship_operator_analysis_threshold\{resource_namespace="ml",isvc="faces",check="errorRate",role="canary",head=""\} 0.01/,
  );
  assert.match(
    text,
    /modelship_operator_analysis_verdict\{[^}]*check="accuracy"[^}]*head="beard",verdict="Inconclusive"\} 1/,
  );
  assert.match(
    text,
    /modelship_operator_drift_score\{resource_namespace="ml",isvc="faces",role="canary",feature="brightness"\} 0.3/,
  );
  assert.match(text, /modelship_operator_monitoring_level\{resource_namespace="ml",isvc="faces",signal="drift"\} 2/);
  assert.match(
    text,
    /modelship_operator_monitoring_level\{resource_namespace="ml",isvc="faces",signal="accuracy"\} -1/,
  );
  metrics.recordAnalysis(svc, [{ check: 'errorRate', role: 'canary', verdict: 'Fail', value: 0.5, threshold: 0.01 }]);
  text = await registry.metrics();
  assert.not.match(text, /check="accuracy"/);
  assert.not.match(text, /verdict="Pass"/);
  assert.match(text, /verdict="Fail"\} 1/);
  metrics.forget(svc);
  text = await registry.metrics();
  assert.not.match(text, /isvc="faces"/);
  assert.is(new AnalysisMetrics(registry).value, metrics.value, 'a second instance reuses the registered gauges');
});

test.run();
