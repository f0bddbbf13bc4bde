// Every check: known measurements → known values, bounds and verdicts (table-driven).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { analyse, type AnalysisPolicy } from '../../operator/analysis/analyse.js';
import { accuracyChecks } from '../../operator/analysis/checks/accuracy.js';
import { driftCheck, predictionDriftCheck } from '../../operator/analysis/checks/drift.js';
import { errorRateCheck } from '../../operator/analysis/checks/errors.js';
import { latencyCheck } from '../../operator/analysis/checks/latency.js';
import type { CheckResult } from '../../operator/analysis/checks/result.js';
import type { RoleMeasurements } from '../../operator/analysis/measurements.js';
import type { ReferenceProfile } from '../../operator/analysis/reference.js';
import { psi } from '../../operator/analysis/divergence.js';
import { aggregateVerdict } from '../../operator/analysis/verdict.js';
import { MIXING_SCALE, proportionSequence } from '../../operator/analysis/sequential.js';

const close = (actual: number | undefined, expected: number, eps = 5e-5, what = '') =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= eps, `${what} ${actual} ≈ ${expected}`);

function canary(fields: Partial<RoleMeasurements> = {}): RoleMeasurements {
  return { role: 'canary', version: '2', window: '1m', problems: {}, ...fields };
}
function stable(fields: Partial<RoleMeasurements> = {}): RoleMeasurements {
  return { role: 'stable', version: '1', window: '1m', problems: {}, ...fields };
}
const unreachable = {
  reason: 'ProviderUnreachable',
  message: 'Prometheus at http://127.0.0.1:9 is unreachable: ECONNREFUSED',
};

const acc = { maxDropVsStable: 0.05, confidence: 0.95, minFeedback: 50 };

test("accuracy vs min: the confidence sequence's lower bound ≥ min passes, upper < min fails, else inconclusive", () => {
  const exact = proportionSequence({ successes: 900, trials: 1000 }, 0.95, MIXING_SCALE).lower;
  const cases: Array<[string, number, number, number, number, string, number?, number?]> = [
    // name, correct, total, min, minFeedback, verdict, lower, upper (τ = 0.1, 95 %)
    ['clearly above', 900, 1000, 0.85, 50, 'Pass', 0.8687, 0.9313],
    ['min inside the sequence', 900, 1000, 0.9, 50, 'Inconclusive', 0.8687, 0.9313],
    ['clearly below', 700, 1000, 0.8, 50, 'Fail', 0.654, 0.746],
    ['too few samples', 9, 10, 0.5, 50, 'Inconclusive'],
    ['lower bound exactly at min passes', 900, 1000, exact, 50, 'Pass'],
  ];
  for (const [name, correct, total, min, minFeedback, verdict, lower, upper] of cases) {
    const [c] = accuracyChecks(canary({ feedback: { smile: { correct, total } } }), undefined, {
      ...acc,
      min,
      minFeedback,
    });
    assert.is(c.check, 'accuracy', name);
    assert.is(c.head, 'smile', name);
    assert.is(c.verdict, verdict, name);
    assert.is(c.samples, total, name);
    assert.is(c.threshold, min, name);
    close(c.value, correct / total, 1e-12, name);
    if (lower !== undefined) close(c.lower, lower, 5e-5, name);
    if (upper !== undefined) close(c.upper, upper, 5e-5, name);
  }
});

test('accuracy: an inconclusive check says how many more samples it needs, and that many decide it', () => {
  const cases: Array<[string, number, number, number, 'Pass' | 'Fail']> = [
    // name, correct, total, min, the verdict the estimate points to
    ['above min, too few samples to show it', 90, 100, 0.84, 'Pass'],
    ['below min, too few samples to show it', 78, 100, 0.84, 'Fail'],
  ];
  for (const [name, correct, total, min, towards] of cases) {
    const policy = { ...acc, min, minFeedback: 10 };
    const [c] = accuracyChecks(canary({ feedback: { h: { correct, total } } }), undefined, policy);
    assert.is(c.verdict, 'Inconclusive', name);
    const needed = c.samplesNeeded!;
    assert.ok(needed > 0, name);
    assert.match(c.message!, new RegExp(`about ${needed} more samples needed at the current estimate`), name);
    const grown = (n: number) =>
      accuracyChecks(canary({ feedback: { h: { correct: (correct / total) * n, total: n } } }), undefined, policy)[0];
    assert.is(grown(total + needed).verdict, towards, `${name}: ${needed} more decide it`);
    assert.is(grown(total + Math.floor(needed * 0.9)).verdict, 'Inconclusive', `${name}: fewer do not`);
  }
  const [onTheLine] = accuracyChecks(canary({ feedback: { h: { correct: 84, total: 100 } } }), undefined, {
    ...acc,
    min: 0.84,
  });
  assert.is(onTheLine.samplesNeeded, undefined, 'an estimate exactly at min never decides');
  assert.match(onTheLine.message!, /more samples alone will not decide/);
});

test('accuracy: with several heads a failing bound is corrected for them (Bonferroni), a passing one is not', () => {
  // 750/1000: 95 % upper bound 0.7937 < 0.797, 99 % upper bound 0.8003 > 0.797.
  const heads = {
    a: { correct: 750, total: 1000 },
    b: { correct: 950, total: 1000 },
    c: { correct: 950, total: 1000 },
    d: { correct: 950, total: 1000 },
    e: { correct: 950, total: 1000 },
  };
  const policy = { ...acc, min: 0.797 };
  const five = accuracyChecks(canary({ feedback: heads }), undefined, policy);
  const low = accuracyChecks(
    canary({ feedback: { ...heads, b: { correct: 100, total: 1000 } } }),
    undefined,
    policy,
  ).find((c) => c.head === 'b')!;
  assert.match(low.message!, /; upper bound [\d.]+ at 99% \(corrected for the heads\) < min 0\.797$/);
  assert.is(
    five.find((c) => c.head === 'a')!.verdict,
    'Inconclusive',
    'one of five heads at 95 % is not enough to fail',
  );
  close(five.find((c) => c.head === 'a')!.upper, 0.7937, 5e-4, 'the reported sequence stays at 95 %');
  assert.ok(
    five.filter((c) => c.head !== 'a').every((c) => c.verdict === 'Pass'),
    'passing heads use the plain 95 % bound',
  );
  const [one] = accuracyChecks(canary({ feedback: { a: heads.a } }), undefined, policy);
  assert.is(one.verdict, 'Fail', 'a single head fails at 95 %');
  // Clearly worse than stable on one of five heads still fails, and says at which level.
  const base = stable({ feedback: { ...heads, a: { correct: 950, total: 1000 } } });
  const worse = accuracyChecks(canary({ feedback: { ...heads, a: { correct: 600, total: 1000 } } }), base, acc).find(
    (c) => c.check === 'accuracyVsStable' && c.head === 'a',
  )!;
  assert.is(worse.verdict, 'Fail');
  assert.match(
    worse.message!,
    /by more than the margin 0\.05 \(upper bound -[\d.]+ at 99% \(corrected for the heads\)\)$/,
  );
  const [alone] = accuracyChecks(canary({ feedback: { a: { correct: 100, total: 1000 } } }), undefined, policy);
  assert.match(alone.message!, /; upper bound < min 0\.797$/, 'one head: no correction to mention');
});

test('accuracy: missing feedback or a provider error is inconclusive with the reason, never a pass', () => {
  const [missing] = accuracyChecks(canary({ problems: { feedback: unreachable } }), undefined, { ...acc, min: 0 });
  assert.is(missing.verdict, 'Inconclusive');
  assert.match(missing.message!, /ProviderUnreachable/);
  assert.is(missing.value, undefined);
  const [absentHead] = accuracyChecks(
    canary({ feedback: { smile: { correct: 100, total: 100 } } }),
    undefined,
    { ...acc, min: 0.5 },
    ['smile', 'glasses'],
  ).slice(1);
  assert.is(absentHead.head, 'glasses');
  assert.is(absentHead.verdict, 'Inconclusive');
  assert.is(absentHead.samples, 0);
  // min unset: no absolute check at all, and without a baseline nothing else.
  assert.equal(accuracyChecks(canary({ feedback: { smile: { correct: 1, total: 1 } } }), undefined, acc), []);
});

test('accuracy per head: every head is kept, the worst verdict wins', () => {
  const checks = accuracyChecks(
    canary({ feedback: { beard: { correct: 950, total: 1000 }, glasses: { correct: 600, total: 1000 } } }),
    undefined,
    { ...acc, min: 0.8 },
  );
  assert.equal(
    checks.map((c) => [c.head, c.verdict]),
    [
      ['beard', 'Pass'],
      ['glasses', 'Fail'],
    ],
  );
  assert.is(aggregateVerdict(checks), 'Fail');
});

test('accuracy vs stable: a confidence sequence for the difference against the non-inferiority margin', () => {
  const cases: Array<[string, [number, number], [number, number], number, number, string, number?, number?]> = [
    // name, canary, stable, margin, minFeedback, verdict, lower, upper (τ = 0.1, 95 %)
    ['canary better', [560, 700], [480, 800], 0.02, 50, 'Pass', 0.1292, 0.2708],
    ['canary worse, whole sequence below −margin', [480, 800], [560, 700], 0.02, 50, 'Fail', -0.2708, -0.1292],
    ['equal, 500 each: too wide for a 5-point margin', [450, 500], [450, 500], 0.05, 50, 'Inconclusive', -0.0594],
    ['equal, 500 each, 10-point margin', [450, 500], [450, 500], 0.1, 50, 'Pass'],
    ['equal, 5000 each, 5-point margin', [4500, 5000], [4500, 5000], 0.05, 50, 'Pass', -0.0205],
    ['stable below minFeedback', [90, 100], [9, 10], 0.02, 50, 'Inconclusive'],
  ];
  for (const [name, [c1, n1], [c2, n2], margin, minFeedback, verdict, lower, upper] of cases) {
    const checks = accuracyChecks(
      canary({ feedback: { smile: { correct: c1, total: n1 } } }),
      stable({ feedback: { smile: { correct: c2, total: n2 } } }),
      { ...acc, maxDropVsStable: margin, minFeedback },
    );
    assert.is(checks.length, 1, name);
    const [c] = checks;
    assert.is(c.check, 'accuracyVsStable', name);
    assert.is(c.verdict, verdict, name);
    assert.is(c.threshold, -margin, name);
    close(c.value, c1 / n1 - c2 / n2, 1e-12, name);
    if (lower !== undefined) close(c.lower, lower, 5e-5, name);
    if (upper !== undefined) close(c.upper, upper, 5e-5, name);
  }
  const [noStable] = accuracyChecks(
    canary({ feedback: { smile: { correct: 90, total: 100 } } }),
    stable({ problems: { feedback: unreachable } }),
    acc,
  );
  assert.is(noStable.verdict, 'Inconclusive');
  assert.match(noStable.message!, /stable version 1.*ProviderUnreachable/);
  // An equal canary short of evidence: grown by samplesNeeded (both sides in proportion), it passes.
  const equal = (n: number) =>
    accuracyChecks(
      canary({ feedback: { smile: { correct: 0.9 * n, total: n } } }),
      stable({ feedback: { smile: { correct: 0.9 * 4 * n, total: 4 * n } } }),
      acc,
    )[0];
  const needed = equal(400).samplesNeeded!;
  assert.is(equal(400).verdict, 'Inconclusive');
  assert.is(
    equal(400 + needed).verdict,
    'Pass',
    `${needed} more canary samples (and stable's in proportion) decide it`,
  );
});

const reference: ReferenceProfile = {
  features: { brightness: [0.25, 0.25, 0.25, 0.25], contrast: [0.5, 0.5] },
  predictions: { smile: { yes: 0.5, no: 0.5 } },
};
const drift = { max: 0.25, minRequests: 100, confidence: 0.95 };

test('drift: PSI per feature against the reference, score = max, per-feature values kept', () => {
  const same = driftCheck(
    canary({ featureBins: { brightness: [50, 50, 50, 50], contrast: [100, 100] } }),
    reference,
    drift,
  );
  assert.is(same.verdict, 'Pass');
  assert.is(same.value, 0);
  assert.equal(same.breakdown, { brightness: 0, contrast: 0 });
  assert.is(same.samples, 200);

  // brightness: smoothed shares (10.5, 10.5, 40.5, 40.5)/102 against the exact (¼, ¼, ¼, ¼):
  // 2·(10.5/102 − ¼)·ln(4·10.5/102) + 2·(40.5/102 − ¼)·ln(4·40.5/102) = 0.3970373
  const shifted = driftCheck(
    canary({ featureBins: { brightness: [10, 10, 40, 40], contrast: [50, 50] } }),
    reference,
    drift,
  );
  assert.is(shifted.verdict, 'Fail');
  close(shifted.value, 0.3970373, 1e-6);
  close(shifted.breakdown!.brightness, 0.3970373, 1e-6);
  assert.is(shifted.breakdown!.contrast, 0);
  assert.match(shifted.message!, /brightness/);
});

test('drift: inconclusive on few samples, missing features, no reference or provider errors', () => {
  const cases: Array<[string, RoleMeasurements, ReferenceProfile | undefined, string, RegExp]> = [
    [
      'few samples',
      canary({ featureBins: { brightness: [5, 5, 5, 5], contrast: [10, 10] } }),
      reference,
      'Inconclusive',
      /minRequests=100/,
    ],
    [
      'one feature without data',
      canary({ featureBins: { brightness: [50, 50, 50, 50] } }),
      reference,
      'Inconclusive',
      /contrast \(no live data\)/,
    ],
    [
      'no reference profile',
      canary({ featureBins: { brightness: [50, 50, 50, 50] } }),
      undefined,
      'Inconclusive',
      /no reference profile/,
    ],
    [
      'Prometheus down',
      canary({ problems: { featureBins: unreachable } }),
      reference,
      'Inconclusive',
      /ProviderUnreachable/,
    ],
    [
      'bins do not match the profile',
      canary({ featureBins: { brightness: [1, 1, 1, 1, 1, 1], contrast: [100, 100] } }),
      reference,
      'Inconclusive',
      /6 bins, the reference 4/,
    ],
    // A feature that drifts fails even though another one has no data.
    [
      'drift confirmed despite missing data',
      canary({ featureBins: { brightness: [0, 0, 0, 100] } }),
      reference,
      'Fail',
      /> max 0.25/,
    ],
    // A score far above max on a handful of requests is noise, not a verdict.
    [
      'score above max on 4 samples',
      canary({ featureBins: { brightness: [0, 0, 0, 4], contrast: [4, 0] } }),
      reference,
      'Inconclusive',
      /> max 0.25, but only 4 samples, fewer than minRequests=100/,
    ],
    [
      'score above max one sample short',
      canary({ featureBins: { brightness: [0, 0, 0, 99] } }),
      reference,
      'Inconclusive',
      /only 99 samples/,
    ],
    [
      'score above max at exactly minRequests',
      canary({ featureBins: { brightness: [0, 0, 0, 100], contrast: [100, 0] } }),
      reference,
      'Fail',
      /> max 0.25/,
    ],
    [
      'score within max on few samples',
      canary({ featureBins: { brightness: [1, 1, 1, 1], contrast: [2, 2] } }),
      reference,
      'Inconclusive',
      /; only 4 samples/,
    ],
  ];
  for (const [name, m, ref, verdict, message] of cases) {
    const c = driftCheck(m, ref, drift);
    assert.is(c.verdict, verdict, name);
    assert.match(c.message!, message, name);
  }
  // Live series only exist up to the highest bin seen so far: trailing bins count as 0.
  const trailing = driftCheck(
    canary({ featureBins: { brightness: [100, 100, 100], contrast: [150, 150] } }),
    reference,
    drift,
  );
  assert.ok(trailing.value! > 0.25, 'a missing last bin is a real shift');
});

// 41 requests drawn from the reference itself (the windows right after a Prometheus restart):
// four empty 2–5 % bins alone add ~0.8 to the plain PSI through its epsilon floor; smoothed
// shares score 0.18, and χ² = 8.7 on 9 degrees of freedom (p ≈ 0.47) says it is noise anyway.
const tenBins: ReferenceProfile = {
  features: { contrast: [0.02, 0.05, 0.1, 0.15, 0.18, 0.18, 0.15, 0.1, 0.05, 0.02] },
  samples: 2000,
};
const fortyOne = [0, 0, 6, 8, 7, 9, 5, 6, 0, 0];

test('drift: small same-distribution samples pass; a score above max that noise explains is inconclusive, a significant one fails', () => {
  assert.ok(psi(tenBins.features.contrast, fortyOne) > 0.6, 'the plain PSI of these 41 samples is above 0.6');
  const small = driftCheck(canary({ featureBins: { contrast: fortyOne } }), tenBins, {
    ...drift,
    max: 0.6,
    minRequests: 20,
  });
  assert.is(small.verdict, 'Pass', small.message);
  assert.ok(small.value! < 0.25, `smoothed PSI ${small.value}`);
  const noisy = driftCheck(canary({ featureBins: { contrast: fortyOne } }), tenBins, {
    ...drift,
    max: 0.1,
    minRequests: 20,
  });
  assert.is(noisy.verdict, 'Inconclusive');
  assert.match(
    noisy.message!,
    /> max 0\.1, but not significant at 95% \(χ² p = 0\.[3-6]\d*, 41 samples\): could be sampling noise/,
  );
  // The same shape on ten times the traffic is no longer noise.
  const real = driftCheck(canary({ featureBins: { contrast: fortyOne.map((c) => 10 * c) } }), tenBins, {
    ...drift,
    max: 0.3,
    minRequests: 20,
  });
  assert.is(real.verdict, 'Fail');
  assert.match(
    real.message!,
    /contrast PSI [\d.]+ > max 0.3 beyond its sampling noise [\d.]+, significant at 95% \(χ² p = [\d.e-]+, 410 samples\)/,
  );
});

test('drift: each feature is held to the confidence shared by the features scored (Bonferroni)', () => {
  // p ≈ 0.03 on one of two features: significant alone at 95 %, not at the 97.5 % each gets.
  const two: ReferenceProfile = { features: { a: [0.5, 0.5], b: [0.5, 0.5] } };
  const bins = { a: [61, 39], b: [50, 50] };
  const c = driftCheck(canary({ featureBins: bins }), two, { max: 0.01, minRequests: 20, confidence: 0.95 });
  assert.is(c.verdict, 'Inconclusive', c.message);
  assert.match(c.message!, /not significant at 97.5%/);
  const alone = driftCheck(
    canary({ featureBins: { a: bins.a } }),
    { features: { a: [0.5, 0.5] } },
    { max: 0.01, minRequests: 20, confidence: 0.95 },
  );
  assert.is(alone.verdict, 'Fail', alone.message);
});

test('prediction drift: canary vs stable classes per head, else vs the reference', () => {
  const balanced = { smile: { yes: 500, no: 500 } };
  const pass = predictionDriftCheck(
    canary({ predictions: { smile: { yes: 60, no: 60 } } }),
    stable({ predictions: balanced }),
    reference,
    drift,
  );
  assert.is(pass.verdict, 'Pass');
  assert.is(pass.value, 0);
  assert.equal(pass.breakdown, { smile: 0 });
  // smoothed shares (20.5, 180.5)/201 vs (500.5, 500.5)/1001 (labels sorted: no, yes) = 0.8657934
  const fail = predictionDriftCheck(
    canary({ predictions: { smile: { yes: 180, no: 20 } } }),
    stable({ predictions: balanced }),
    reference,
    drift,
  );
  assert.is(fail.verdict, 'Fail');
  close(fail.value, 0.8657934, 1e-6);
  const vsRef = predictionDriftCheck(
    canary({ predictions: { smile: { yes: 180, no: 20 } } }),
    undefined,
    reference,
    drift,
  );
  assert.is(vsRef.verdict, 'Fail');
  assert.match(vsRef.message!, /reference profile/);
  const fewStable = predictionDriftCheck(
    canary({ predictions: { smile: { yes: 60, no: 60 } } }),
    stable({ predictions: { smile: { yes: 5, no: 5 } } }),
    reference,
    drift,
  );
  assert.is(fewStable.verdict, 'Inconclusive', 'the smaller side bounds the sample count');
  assert.is(fewStable.samples, 10);
  // Few canary predictions, far off stable's distribution: inconclusive, not a rollback.
  const fewCanary = predictionDriftCheck(
    canary({ predictions: { smile: { yes: 9, no: 1 } } }),
    stable({ predictions: balanced }),
    reference,
    drift,
  );
  assert.is(fewCanary.verdict, 'Inconclusive');
  assert.ok(fewCanary.value! > drift.max, 'the score is still reported');
  assert.is(fewCanary.samples, 10);
  const noStable = predictionDriftCheck(
    canary({ predictions: balanced }),
    stable({ problems: { predictions: unreachable } }),
    reference,
    drift,
  );
  assert.is(noStable.verdict, 'Inconclusive');
  assert.match(noStable.message!, /ProviderUnreachable/);
});

test('latency p95 and error rate (table)', () => {
  const lat: Array<[string, Partial<RoleMeasurements>, string]> = [
    ['fast', { latencyP95Ms: 120, requests: 200 }, 'Pass'],
    ['at the limit', { latencyP95Ms: 500, requests: 200 }, 'Pass'],
    ['slow', { latencyP95Ms: 800, requests: 200 }, 'Fail'],
    ['few requests', { latencyP95Ms: 800, requests: 20 }, 'Inconclusive'],
    ['no histogram data', { requests: 200 }, 'Inconclusive'],
    ['Prometheus down', { problems: { latencyP95Ms: unreachable, requests: unreachable } }, 'Inconclusive'],
  ];
  for (const [name, fields, verdict] of lat) {
    const c = latencyCheck(canary(fields), { max: 500, minRequests: 100 });
    assert.is(c.verdict, verdict, `latency: ${name}`);
    assert.is(c.check, 'latencyP95Ms');
    assert.is(c.threshold, 500);
  }
  const err: Array<[string, Partial<RoleMeasurements>, string, number?]> = [
    ['healthy', { requests: 1000, errors: 2 }, 'Pass', 0.002],
    ['at the limit', { requests: 1000, errors: 10 }, 'Pass', 0.01],
    ['failing', { requests: 1000, errors: 30 }, 'Fail', 0.03],
    ['no traffic', { requests: 0, errors: 0 }, 'Inconclusive'],
    ['few requests, plausible rate', { requests: 20, errors: 1 }, 'Inconclusive', 0.05],
    ['few requests, all failing (crashing canary)', { requests: 20, errors: 20 }, 'Fail', 1],
    ['Prometheus down', { problems: { requests: unreachable, errors: unreachable } }, 'Inconclusive'],
  ];
  for (const [name, fields, verdict, value] of err) {
    const c = errorRateCheck(canary(fields), { max: 0.01, minRequests: 100, confidence: 0.95 });
    assert.is(c.verdict, verdict, `errors: ${name}`);
    if (value !== undefined) close(c.value, value, 1e-12, name);
    else assert.is(c.value, undefined, name);
  }
});

const policy: AnalysisPolicy = {
  minRequests: 100,
  minFeedback: 50,
  checks: {
    accuracy: { min: 0.8, maxDropVsStable: 0.05, confidence: 0.95, failOnEstimate: false },
    drift: { max: 0.25 },
    latencyP95Ms: { max: 500 },
    errorRate: { max: 0.01 },
  },
};

function healthy(role: 'canary' | 'stable'): RoleMeasurements {
  return (role === 'canary' ? canary : stable)({
    requests: 1000,
    errors: 1,
    latencyP95Ms: 80,
    feedback: { smile: { correct: 900, total: 1000 } },
    featureBins: { brightness: [250, 250, 250, 250], contrast: [500, 500] },
    predictions: { smile: { yes: 500, no: 500 } },
  });
}

test('analyse: all checks in order; a healthy canary passes', () => {
  const checks = analyse({ subject: healthy('canary'), baseline: healthy('stable'), reference, policy });
  assert.equal(
    checks.map((c) => c.check),
    ['accuracy', 'accuracyVsStable', 'drift', 'predictionDrift', 'latencyP95Ms', 'errorRate'],
  );
  assert.ok(checks.every((c: CheckResult) => c.role === 'canary'));
  assert.equal(
    checks.map((c) => c.verdict),
    ['Pass', 'Pass', 'Pass', 'Pass', 'Pass', 'Pass'],
  );
  assert.is(aggregateVerdict(checks), 'Pass');
});

test('analyse: Prometheus unreachable makes every check inconclusive, nothing passes', () => {
  const problems = Object.fromEntries(
    ['requests', 'errors', 'latencyP95Ms', 'feedback', 'featureBins', 'predictions'].map((k) => [k, unreachable]),
  );
  const checks = analyse({ subject: canary({ problems }), baseline: stable({ problems }), reference, policy });
  assert.ok(checks.length >= 6);
  for (const c of checks) {
    assert.is(c.verdict, 'Inconclusive', c.check);
    assert.match(c.message!, /ProviderUnreachable/, c.check);
  }
  assert.is(aggregateVerdict(checks), 'Inconclusive');
});

test('analyse: prediction drift compares the canary with its own reference, never with stable (a better model predicts differently)', () => {
  const differentStable = { ...healthy('stable'), predictions: { smile: { yes: 900, no: 100 } } };
  const checks = analyse({ subject: healthy('canary'), baseline: differentStable, reference, policy });
  const prediction = checks.find((c) => c.check === 'predictionDrift')!;
  assert.is(prediction.verdict, 'Pass');
  assert.match(prediction.message!, /reference profile/);
  assert.ok(
    checks.some((c) => c.check === 'accuracyVsStable'),
    'accuracy is still compared with stable',
  );
});

test('analyse: guard mode (no baseline) runs the absolute checks only', () => {
  const checks = analyse({
    subject: { ...healthy('stable'), feedback: { smile: { correct: 600, total: 1000 } } },
    reference,
    policy,
  });
  assert.equal(
    checks.map((c) => c.check),
    ['accuracy', 'drift', 'predictionDrift', 'latencyP95Ms', 'errorRate'],
  );
  assert.is(checks[0].verdict, 'Fail');
  assert.is(checks[0].role, 'stable');
});

test.run();
