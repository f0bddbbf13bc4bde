// Pure parts of the InferenceService controller: the rollout state machine (table), version
// selection, builders of the serving topology, the traffic providers, retraining decisions.
import { suite } from 'uvu';
import { podFailure } from '../../operator/controllers/inferenceservice/observe.js';
import * as assert from 'uvu/assert';
import {
  API_VERSION,
  Annotations,
  Labels,
  withInferenceServiceDefaults,
  type AnalysisCheck,
  type InferenceService,
  type InferenceServiceStatus,
  type ModelVersion,
} from '../../operator/api/index.js';
import {
  blockedVersions,
  buildAutoscaler,
  buildFeedbackCredentialSecret,
  buildFeedbackSecret,
  buildRetrainRun,
  buildRoleService,
  buildServingDeployment,
  contains,
  decideRetrain,
  nextAnalysisAt,
  parseCron,
  readyVersions,
  rolloutPolicy,
  scheduleFiredBetween,
  transition,
  transitionEvents,
  withConditions,
  type RolloutEvent,
  type RolloutPolicy,
} from '../../operator/controllers/inferenceservice/index.js';
import {
  buildHttpRoute,
  createTrafficProvider,
  GatewayApiTrafficProvider,
  RouterTrafficProvider,
  UnknownTrafficProviderError,
} from '../../operator/traffic/index.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const at = (s: number) => new Date(NOW.getTime() + s * 1000);
const POLICY: RolloutPolicy = {
  steps: [10, 50],
  intervalMs: 10_000,
  failureLimit: 2,
  progressDeadline: '5m',
  progressDeadlineMs: 300_000,
  guardWindowMs: 60_000,
  generation: 3,
  replicas: 1,
};
const check = (verdict: AnalysisCheck['verdict']): AnalysisCheck => ({
  check: 'errorRate',
  role: 'canary',
  verdict,
  value: 0,
  threshold: 0.01,
});
const analysis = (verdict: AnalysisCheck['verdict']): RolloutEvent => ({
  type: 'Analysis',
  verdict,
  checks: [check(verdict)],
  details: [`errorRate: ${verdict}`],
});

function isvc(spec: Partial<InferenceService['spec']> = {}, status?: InferenceServiceStatus): InferenceService {
  return {
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: 'faces', namespace: 'ml', uid: 'u1', generation: 3, creationTimestamp: NOW.toISOString() },
    spec: { model: 'faces', ...spec },
    status,
  } as InferenceService;
}

function mv(version: number, phase = 'Ready', uri = 'pvc://models/faces/run-' + version): ModelVersion {
  return {
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: `faces-v${version}`, namespace: 'ml' },
    spec: { model: 'faces', version, artifact: { uri }, format: 'onnx', validation: {} },
    status: { phase },
  } as ModelVersion;
}

const serving: InferenceServiceStatus = {
  phase: 'Serving',
  stable: { version: 1, modelVersion: 'faces-v1', weight: 100, readyReplicas: 1 },
};
const progressing = (over: Partial<NonNullable<InferenceServiceStatus['canary']>> = {}): InferenceServiceStatus => ({
  phase: 'Progressing',
  stable: { version: 1, modelVersion: 'faces-v1', weight: 90 },
  canary: {
    version: 2,
    modelVersion: 'faces-v2',
    weight: 10,
    step: 0,
    startedAt: NOW.toISOString(),
    stepStartedAt: NOW.toISOString(),
    failedChecks: 0,
    steps: [],
    ...over,
  },
});

const machine = suite('state machine');

interface Row {
  name: string;
  from: InferenceServiceStatus;
  events: RolloutEvent[];
  when?: number;
  expect: (s: InferenceServiceStatus) => void;
}
/** Stable v1 serving, the canary v2's one pod not ready for `failure`. */
const canaryPodsFailing = (failure: ReturnType<typeof podFailure>): RolloutEvent => ({
  type: 'Pods',
  pods: { stable: { '1': { pods: 1, ready: 1 } }, canary: { '2': { pods: 1, ready: 0, failure } } },
});

const rows: Row[] = [
  {
    name: 'first Ready version → Initializing with it as stable',
    from: {},
    events: [{ type: 'Target', target: { version: 1, modelVersion: 'faces-v1' } }],
    expect: (s) => {
      assert.is(s.phase, 'Initializing');
      assert.is(s.stable?.version, 1);
      assert.is(s.stable?.weight, 100);
    },
  },
  {
    name: 'Initializing → Serving when stable pods are ready',
    from: { phase: 'Initializing', stable: { version: 1, weight: 100 } },
    events: [{ type: 'StableReady', readyReplicas: 1 }],
    expect: (s) => {
      assert.is(s.phase, 'Serving');
      assert.is(s.stable?.readyReplicas, 1);
    },
  },
  {
    name: 'Initializing stays without ready pods',
    from: { phase: 'Initializing', stable: { version: 1, weight: 100 } },
    events: [{ type: 'StableReady', readyReplicas: 0 }],
    expect: (s) => assert.is(s.phase, 'Initializing'),
  },
  {
    name: 'a new version starts a canary at weight 0 until its pods are ready',
    from: serving,
    events: [{ type: 'Target', target: { version: 2, modelVersion: 'faces-v2' } }],
    expect: (s) => {
      assert.is(s.phase, 'Progressing');
      assert.is(s.canary?.version, 2);
      assert.is(s.canary?.weight, 0);
      assert.is(s.canary?.stepStartedAt, undefined);
    },
  },
  {
    name: 'canary ready → first step weight, stable gets the rest',
    from: { ...progressing({ weight: 0, stepStartedAt: undefined }), stable: { version: 1, weight: 100 } },
    events: [{ type: 'CanaryReady', readyReplicas: 1 }],
    expect: (s) => {
      assert.is(s.canary?.weight, 10);
      assert.is(s.stable?.weight, 90);
      assert.is(s.canary?.stepStartedAt, NOW.toISOString());
    },
  },
  {
    name: 'same target again changes nothing',
    from: progressing(),
    events: [{ type: 'Target', target: { version: 2, modelVersion: 'faces-v2' } }],
    expect: (s) => assert.equal(s, progressing()),
  },
  {
    name: 'Pass → next step, failures reset, step recorded',
    from: progressing({ failedChecks: 1 }),
    events: [analysis('Pass')],
    when: 10,
    expect: (s) => {
      assert.is(s.canary?.step, 1);
      assert.is(s.canary?.weight, 50);
      assert.is(s.stable?.weight, 50);
      assert.is(s.canary?.failedChecks, 0);
      assert.is(s.canary?.steps?.length, 1);
      assert.is(s.analysis?.verdict, 'Pass');
    },
  },
  {
    name: 'Pass at the last step → Promoting with all traffic on the canary',
    from: progressing({ step: 1, weight: 50 }),
    events: [analysis('Pass')],
    when: 10,
    expect: (s) => {
      assert.is(s.phase, 'Promoting');
      assert.is(s.canary?.weight, 100);
      assert.is(s.stable?.weight, 0);
    },
  },
  {
    name: 'Inconclusive never advances and keeps the failure count',
    from: progressing({ failedChecks: 1 }),
    events: [analysis('Inconclusive')],
    when: 10,
    expect: (s) => {
      assert.is(s.phase, 'Progressing');
      assert.is(s.canary?.step, 0);
      assert.is(s.canary?.failedChecks, 1);
    },
  },
  {
    name: 'one Fail below failureLimit holds the step',
    from: progressing(),
    events: [analysis('Fail')],
    when: 10,
    expect: (s) => {
      assert.is(s.phase, 'Progressing');
      assert.is(s.canary?.failedChecks, 1);
      assert.is(s.canary?.weight, 10);
    },
  },
  {
    name: 'failureLimit consecutive Fails → RolledBack, canary gone, version blocked, history has the steps',
    from: progressing({ failedChecks: 1 }),
    events: [analysis('Fail')],
    when: 20,
    expect: (s) => {
      assert.is(s.phase, 'RolledBack');
      assert.is(s.canary, undefined);
      assert.is(s.stable?.weight, 100);
      assert.is(s.history?.[0].outcome, 'RolledBack');
      assert.is(s.history?.[0].reason, 'FailureLimitReached');
      assert.is(s.history?.[0].steps?.length, 1);
      assert.equal([...blockedVersions(s, 3)], [2]);
      assert.equal([...blockedVersions(s, 4)], []);
    },
  },
  // The deadline is checked (Clock) before any analysis is made; an analysis after it changes nothing.
  {
    name: 'past the progress deadline rolls back whatever the verdict',
    from: progressing(),
    events: [{ type: 'Clock' }, analysis('Pass')],
    when: 301,
    expect: (s) => {
      assert.is(s.phase, 'RolledBack');
      assert.is(s.history?.[0].reason, 'ProgressDeadlineExceeded');
      assert.is(s.history?.[0].steps?.length, 0);
    },
  },
  {
    name: 'inconclusive analyses past the deadline roll back, saying so',
    from: { ...progressing(), analysis: { time: at(290).toISOString(), step: 0, verdict: 'Inconclusive' } },
    events: [{ type: 'Clock' }],
    when: 301,
    expect: (s) => {
      assert.is(s.phase, 'RolledBack');
      assert.match(s.history?.[0].message ?? '', /progressDeadline 5m \(last analysis Inconclusive\)/);
    },
  },
  {
    name: 'exactly at the deadline is not past it',
    from: progressing(),
    events: [{ type: 'Clock' }],
    when: 300,
    expect: (s) => assert.is(s.phase, 'Progressing'),
  },
  {
    name: 'an unreadable start time fails safe',
    from: progressing({ startedAt: 'not a time' }),
    events: [{ type: 'Clock' }],
    when: 0,
    expect: (s) => {
      assert.is(s.phase, 'RolledBack');
      assert.is(s.history?.[0].reason, 'ProgressDeadlineExceeded');
    },
  },
  {
    name: 'PromotionComplete → Serving on the new version with a guard window and a Promoted entry',
    from: { ...progressing({ step: 1, weight: 100 }), phase: 'Promoting', stable: { version: 1, weight: 0 } },
    events: [{ type: 'PromotionComplete' }],
    when: 30,
    expect: (s) => {
      assert.is(s.phase, 'Serving');
      assert.is(s.stable?.version, 2);
      assert.is(s.stable?.weight, 100);
      assert.is(s.canary, undefined);
      assert.is(s.history?.[0].outcome, 'Promoted');
      assert.is(s.monitoring?.guard?.previousVersion, 1);
      assert.is(s.monitoring?.guard?.until, at(90).toISOString());
    },
  },
  {
    name: 'PromotionComplete twice promotes once',
    from: { ...progressing({ step: 1, weight: 100 }), phase: 'Promoting' },
    events: [{ type: 'PromotionComplete' }, { type: 'PromotionComplete' }],
    expect: (s) => assert.is(s.history?.filter((h) => h.outcome === 'Promoted').length, 1),
  },
  {
    name: 'a newer version while progressing supersedes the canary (Aborted, not blocked)',
    from: progressing(),
    events: [{ type: 'Target', target: { version: 3, modelVersion: 'faces-v3' } }],
    expect: (s) => {
      assert.is(s.canary?.version, 3);
      assert.is(s.history?.[0].outcome, 'Aborted');
      assert.is(s.history?.[0].reason, 'Superseded');
      assert.equal(s.failedVersions ?? [], []);
    },
  },
  {
    name: 'manual promote during a canary → Promoting, value recorded',
    from: progressing(),
    events: [{ type: 'Manual', action: 'promote', value: 'now' }],
    expect: (s) => {
      assert.is(s.phase, 'Promoting');
      assert.is(s.manual?.promote, 'now');
    },
  },
  {
    name: 'manual rollback → RolledBack with ManualRollback',
    from: progressing(),
    events: [{ type: 'Manual', action: 'rollback', value: '1' }],
    expect: (s) => {
      assert.is(s.phase, 'RolledBack');
      assert.is(s.history?.[0].reason, 'ManualRollback');
      assert.is(s.manual?.rollback, '1');
    },
  },
  {
    name: 'manual abort → Aborted entry',
    from: progressing(),
    events: [{ type: 'Manual', action: 'abort', value: 'x' }],
    expect: (s) => {
      assert.is(s.history?.[0].outcome, 'Aborted');
      assert.is(s.canary, undefined);
    },
  },
  {
    name: 'manual promote after a rollback forgives failed versions',
    from: { ...serving, phase: 'RolledBack', failedVersions: [{ version: 2, generation: 3 }] },
    events: [{ type: 'Manual', action: 'promote', value: 'again' }],
    expect: (s) => assert.equal(s.failedVersions, []),
  },
  {
    name: 'guard regression → previous version back as stable, promoted version blocked',
    from: {
      ...serving,
      stable: { version: 2, modelVersion: 'faces-v2', weight: 100 },
      monitoring: { guard: { until: at(60).toISOString(), previousVersion: 1 } },
    },
    events: [{ type: 'GuardRegression', message: 'errors' }],
    expect: (s) => {
      assert.is(s.phase, 'RolledBack');
      assert.is(s.stable?.version, 1);
      assert.is(s.stable?.modelVersion, 'faces-v1');
      assert.is(s.history?.[0].reason, 'GuardRegression');
      assert.is(s.monitoring?.guard, undefined);
      assert.equal([...blockedVersions(s, 3)], [2]);
    },
  },
  {
    name: 'Serving without ready stable pods → Degraded, and back',
    from: serving,
    events: [{ type: 'StableReady', readyReplicas: 0 }],
    expect: (s) => {
      assert.is(s.phase, 'Degraded');
      assert.is(transition(s, { type: 'StableReady', readyReplicas: 2 }, POLICY, NOW).phase, 'Serving');
    },
  },
  {
    name: 'a canary whose pods cannot fetch a matching artifact is rolled back at once',
    from: progressing({ weight: 0, stepStartedAt: undefined }),
    events: [
      canaryPodsFailing({
        reason: 'DigestMismatch',
        message: 'pod c-0: fetch-model: expected sha256:a, got sha256:b',
      }),
    ],
    expect: (s) => {
      assert.is(s.phase, 'RolledBack');
      assert.is(s.history?.[0].reason, 'DigestMismatch');
      assert.match(s.history?.[0].message ?? '', /expected sha256:a, got sha256:b/);
      assert.equal([...blockedVersions(s, 3)], [2]);
    },
  },
  {
    name: 'a failure a restart may mend (storage unreachable) waits, for the deadline to judge',
    from: progressing({ weight: 0, stepStartedAt: undefined }),
    events: [canaryPodsFailing({ reason: 'StorageUnreachable', message: 'connection refused' })],
    expect: (s) => assert.is(s.phase, 'Progressing'),
  },
  {
    name: 'a canary no node can take waits too: a node may be added before the deadline',
    from: progressing({ weight: 0, stepStartedAt: undefined }),
    events: [
      canaryPodsFailing(
        podFailure({
          metadata: { name: 'c-0' },
          status: {
            phase: 'Pending',
            conditions: [
              { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' },
            ],
          },
        }),
      ),
    ],
    expect: (s) => assert.is(s.phase, 'Progressing'),
  },
  {
    name: 'invalid spec → Failed',
    from: serving,
    events: [{ type: 'Invalid', reason: 'UnknownTrafficProvider', message: 'x' }],
    expect: (s) => assert.is(s.phase, 'Failed'),
  },
];
for (const row of rows) {
  machine(row.name, () => {
    let s = structuredClone(row.from);
    for (const e of row.events) s = transition(s, e, POLICY, at(row.when ?? 0));
    row.expect(s);
  });
}

machine('replaying a status after a restart gives the same decision (no double step, no double promotion)', () => {
  const after = transition(progressing(), analysis('Pass'), POLICY, at(10));
  // A restarted operator reads `after`; the next analysis is not due before another interval.
  assert.equal(nextAnalysisAt(after, POLICY), at(20));
  const promoting = transition(after, analysis('Pass'), POLICY, at(20));
  const done = transition(promoting, { type: 'PromotionComplete' }, POLICY, at(21));
  assert.equal(transition(done, { type: 'PromotionComplete' }, POLICY, at(22)), done);
  assert.is(done.history?.length, 1);
  assert.equal(
    done.history?.[0].steps?.map((st) => [st.step, st.weight, st.verdict]),
    [
      [0, 10, 'Pass'],
      [1, 50, 'Pass'],
    ],
  );
});

machine('Clock: a canary that never got analysed fails safe past the deadline', () => {
  assert.is(transition(progressing(), { type: 'Clock' }, POLICY, at(299)).phase, 'Progressing');
  const s = transition(progressing(), { type: 'Clock' }, POLICY, at(301));
  assert.is(s.phase, 'RolledBack');
  assert.match(s.history?.[0].message ?? '', /no analysis could run/);
});

machine('nextAnalysisAt: one interval after the step started or after the last analysis of this step', () => {
  assert.equal(nextAnalysisAt(progressing(), POLICY), at(10));
  assert.equal(nextAnalysisAt({ ...progressing(), analysis: { time: at(15).toISOString(), step: 0 } }, POLICY), at(25));
  assert.is(nextAnalysisAt(progressing({ stepStartedAt: undefined }), POLICY), undefined);
  assert.is(nextAnalysisAt(serving, POLICY), undefined);
});

machine("why a pod does not serve: the scheduler's reason first, then a failed step's message", () => {
  const unschedulable = {
    type: 'PodScheduled',
    status: 'False',
    reason: 'Unschedulable',
    message: '0/2 nodes are available: 2 Insufficient cpu.',
  };
  const fetchFailed = {
    name: 'fetch-model',
    state: { terminated: { exitCode: 1, message: '{"reason":"NoSuchBucket","message":"bucket models"}' } },
  };
  const cases: Array<[string, object, ReturnType<typeof podFailure>]> = [
    [
      'unschedulable',
      { phase: 'Pending', conditions: [unschedulable] },
      { reason: 'Unschedulable', message: 'pod p-0 cannot be scheduled: 0/2 nodes are available: 2 Insufficient cpu.' },
    ],
    [
      'scheduled, its fetch step failed',
      {
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'True' }],
        initContainerStatuses: [fetchFailed],
      },
      { reason: 'NoSuchBucket', message: 'pod p-0: fetch-model: bucket models' },
    ],
    ['scheduled and starting', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] }, undefined],
  ];
  for (const [name, status, expected] of cases)
    assert.equal(podFailure({ metadata: { name: 'p-0' }, status } as Parameters<typeof podFailure>[0]), expected, name);
});

machine('stable pods that cannot start say why in Ready, with a Warning', () => {
  const down: InferenceServiceStatus = { phase: 'Degraded', stable: { version: 1, weight: 100, readyReplicas: 0 } };
  const failure = { reason: 'StorageAccessDenied', message: 'pod s-0: fetch-model: InvalidAccessKeyId' };
  const before = withConditions(down, { generation: 3, now: NOW });
  const after = withConditions(down, { generation: 3, now: NOW, stableFailure: failure });
  const ready = after.conditions?.find((c) => c.type === 'Ready');
  assert.equal([ready?.status, ready?.reason, ready?.message], ['False', 'StorageAccessDenied', failure.message]);
  assert.ok(transitionEvents(before, after).some((e) => e.type === 'Warning' && e.reason === 'StorageAccessDenied'));
  assert.equal(transitionEvents(after, after), [], 'said once');
});

machine('conditions and events say what happened', () => {
  const rolled = transition(progressing({ failedChecks: 1 }), analysis('Fail'), POLICY, at(20));
  const s = withConditions(rolled, { generation: 3, now: at(20) });
  assert.is(s.conditions?.find((c) => c.type === 'Degraded')?.status, 'True');
  assert.is(s.conditions?.find((c) => c.type === 'Progressing')?.status, 'False');
  const events = transitionEvents(progressing({ failedChecks: 1 }), rolled);
  assert.ok(
    events.some((e) => e.reason === 'RolledBack' && e.type === 'Warning' && /FailureLimitReached/.test(e.message)),
    JSON.stringify(events),
  );
});

machine.run();

const select = suite('version selection and policy');
select('newest Ready version, skipping blocked and not-Ready ones; pinned version when Ready', () => {
  const versions = [mv(1), mv(2), mv(3, 'Validating'), { ...mv(4), spec: { ...mv(4).spec, model: 'other' } }];
  const v = (n: number) => ({ version: n, modelVersion: `faces-v${n}` });
  assert.equal(readyVersions(isvc(), versions), [v(2), v(1)]);
  assert.equal(readyVersions(isvc({ version: 1 }), versions), [v(1)]);
  assert.equal(readyVersions(isvc({ version: 3 }), versions), []);
  // The state machine picks the first that is not blocked at this generation.
  const target = (blocked: InferenceServiceStatus['failedVersions'], pinned?: number) =>
    transition(
      { ...serving, stable: { version: 9, weight: 100 }, failedVersions: blocked },
      { type: 'Versions', ready: readyVersions(isvc(pinned === undefined ? {} : { version: pinned }), versions) },
      POLICY,
      NOW,
    ).canary?.version;
  assert.is(target([]), 2);
  assert.is(target([{ version: 2, generation: 3 }]), 1);
  assert.is(target([{ version: 2, generation: 2 }]), 2, 'a version blocked at an older generation is tried again');
  assert.is(target([], 1), 1);
  assert.is(target([], 3), undefined);
});
select('rolloutPolicy applies the CRD defaults', () => {
  const p = rolloutPolicy(isvc());
  assert.equal(
    [p.steps, p.intervalMs, p.failureLimit, p.progressDeadlineMs, p.guardWindowMs],
    [[20, 50], 60_000, 2, 3_600_000, 600_000],
  );
});
select.run();

const builders = suite('builders');
builders(
  'scrape annotations: on serving and router pods by default, off with scrapeAnnotations false (PodMonitors)',
  () => {
    const cases: Array<[boolean | undefined, string | undefined]> = [
      [undefined, 'true'],
      [true, 'true'],
      [false, undefined],
    ];
    for (const [scrapeAnnotations, want] of cases) {
      const serving = buildServingDeployment(isvc(), 'stable', mv(1), { servingImage: 'i', scrapeAnnotations }) as any;
      const router = new RouterTrafficProvider({ servingImage: 'i', scrapeAnnotations })
        .desired(isvc())
        .find((o) => o.kind === 'Deployment') as any;
      assert.is(
        serving.spec.template.metadata.annotations['prometheus.io/scrape'],
        want,
        `serving, ${scrapeAnnotations}`,
      );
      assert.is(
        router.spec.template.metadata.annotations['prometheus.io/scrape'],
        want,
        `router, ${scrapeAnnotations}`,
      );
      assert.ok(serving.spec.template.metadata.annotations[Annotations.modelVersion], 'the version annotation stays');
    }
  },
);

builders(
  'serving Deployment: image, version args, probes, scrape annotations, restricted security, read-only artifact, feedback key from the Secret',
  () => {
    const d = buildServingDeployment(isvc({ replicas: 2 }), 'canary', mv(2, 'Ready', 'pvc://models/faces/run-2'), {
      servingImage: 'modelship/serving:1',
    }) as any;
    assert.is(d.metadata.name, 'faces-canary');
    assert.is(d.metadata.ownerReferences[0].uid, 'u1');
    assert.is(d.spec.replicas, 2);
    const pod = d.spec.template;
    assert.is(pod.metadata.labels[Labels.version], '2');
    assert.is(pod.metadata.labels[Labels.role], 'canary');
    assert.is(pod.metadata.annotations['prometheus.io/scrape'], 'true');
    const c = pod.spec.containers[0];
    assert.equal(c.args, [
      'serve',
      '--model-dir',
      '/var/run/modelship/model',
      '--name',
      'faces',
      '--model-version',
      '2',
      '--port',
      '8080',
      '--feedback-keys-dir',
      '/var/run/modelship/feedback-keys',
      '--feedback-credentials-dir',
      '/var/run/modelship/feedback-credentials',
      '--replay-journal',
      '/var/run/modelship/replay/journal',
    ]);
    // The replay journal outlives a container restart: an emptyDir of the pod.
    assert.equal(
      pod.spec.volumes.find((v: any) => v.name === 'replay'),
      { name: 'replay', emptyDir: { sizeLimit: '64Mi' } },
    );
    assert.is(c.readinessProbe.httpGet.path, '/v2/health/ready');
    assert.is(c.livenessProbe.httpGet.path, '/v2/health/live');
    assert.equal(c.securityContext.capabilities, { drop: ['ALL'] });
    assert.is(c.securityContext.allowPrivilegeEscalation, false);
    assert.is(c.volumeMounts[0].readOnly, true);
    assert.is(c.volumeMounts[0].subPath, 'faces/run-2');
    assert.is(pod.spec.volumes[0].persistentVolumeClaim.claimName, 'models');
    // The feedback secrets are mounted (a rotation reaches running pods), never in the environment.
    assert.equal(
      pod.spec.volumes.filter((v: any) => v.secret).map((v: any) => v.secret.secretName),
      ['faces-feedback-u1', 'faces-feedback-credential-u1'],
    );
    assert.equal(
      c.volumeMounts.filter((m: any) => m.name.startsWith('feedback-')).map((m: any) => m.readOnly),
      [true, true],
    );
    assert.not.ok(c.env.some((e: any) => e.valueFrom?.secretKeyRef));
    const open = buildServingDeployment(isvc({ feedback: { credential: 'None' } }), 'stable', mv(1), {
      servingImage: 'i',
    }) as any;
    assert.not.ok(open.spec.template.spec.containers[0].args.includes('--feedback-credentials-dir'));
    assert.ok(c.resources.requests.cpu);
    assert.is(
      c.env.find((e: any) => e.name === 'UV_THREADPOOL_SIZE').value,
      '2',
      'default resources: one pool thread per core, at least 2',
    );
    const big = buildServingDeployment(isvc({ resources: { limits: { cpu: '4' } } }), 'stable', mv(1), {
      servingImage: 'i',
    }) as any;
    assert.is(big.spec.template.spec.containers[0].env.find((e: any) => e.name === 'UV_THREADPOOL_SIZE').value, '4');
  },
);
builders('autoscaling: replicas left to the HPA; no HPA without spec.autoscaling', () => {
  const spec = { autoscaling: { minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 } };
  const d = buildServingDeployment(isvc(spec), 'stable', mv(1), { servingImage: 'i' }) as any;
  assert.is(d.spec.replicas, undefined);
  const hpa = buildAutoscaler(isvc(spec), 'stable') as any;
  assert.equal(
    [
      hpa.spec.scaleTargetRef.name,
      hpa.spec.minReplicas,
      hpa.spec.maxReplicas,
      hpa.spec.metrics[0].resource.target.averageUtilization,
    ],
    ['faces-stable', 2, 5, 70],
  );
  assert.is(buildAutoscaler(isvc(), 'stable'), undefined);
});
builders('role Service selects the role; feedback Secret; unmountable artifact is an error', () => {
  const s = buildRoleService(isvc(), 'stable') as any;
  assert.equal(s.spec.selector, { [Labels.inferenceService]: 'faces', [Labels.role]: 'stable' });
  assert.equal(s.spec.ports[0], { name: 'http', port: 80, targetPort: 8080 });
  assert.equal((buildFeedbackSecret(isvc(), 'k'.repeat(32)) as any).stringData, { primary: 'k1', k1: 'k'.repeat(32) });
  const credential = buildFeedbackCredentialSecret(isvc(), 'c'.repeat(32)) as any;
  assert.equal(
    [credential.metadata.name, credential.stringData],
    ['faces-feedback-credential-u1', { c1: 'c'.repeat(32) }],
  );
  assert.throws(
    () => buildServingDeployment(isvc(), 'stable', mv(1, 'Ready', 'pvc://Bad_Claim/x'), { servingImage: 'i' }),
    /not a PersistentVolumeClaim name/,
  );
  // Object storage: an init container of the serving image fetches the artifact into an emptyDir
  // (digest checked), with the location's credentials and only there; the server checks again.
  const digest = `sha256:${'a'.repeat(64)}`;
  const remote = mv(1, 'Ready', 's3://models/faces/run-1');
  remote.spec.artifact = { ...remote.spec.artifact, digest, secretRef: { name: 'models-s3' } };
  const o = buildServingDeployment(isvc(), 'stable', remote, { servingImage: 'i' }) as any;
  const [fetch] = o.spec.template.spec.initContainers;
  assert.equal(fetch.args, [
    'fetch',
    '--from',
    's3://models/faces/run-1',
    '--to',
    '/var/run/modelship/model',
    '--expect-digest',
    digest,
  ]);
  assert.equal(fetch.envFrom, [{ secretRef: { name: 'models-s3' } }]);
  assert.is(fetch.image, 'i');
  const notFeedback = (v: any) => !v.name.startsWith('feedback-') && v.name !== 'replay';
  assert.equal(o.spec.template.spec.volumes.filter(notFeedback), [{ name: 'model', emptyDir: {} }]);
  const server = o.spec.template.spec.containers[0];
  assert.equal(server.volumeMounts.filter(notFeedback), [
    { name: 'model', mountPath: '/var/run/modelship/model', readOnly: true },
  ]);
  assert.equal(server.args.slice(-2), ['--expect-digest', digest]);
  assert.is(server.envFrom, undefined, 'credentials stay with the fetch step');
  // A node path is mounted from the node (hostPath), read-only, where a claim would be.
  const f = buildServingDeployment(isvc(), 'stable', mv(1, 'Ready', 'file:///data/m1'), { servingImage: 'i' }) as any;
  assert.is(f.spec.template.spec.containers[0].args[2], '/var/run/modelship/model');
  assert.equal(f.spec.template.spec.volumes.filter(notFeedback), [
    { name: 'node-artifact', hostPath: { path: '/data/m1', type: 'Directory' } },
  ]);
  assert.equal(f.spec.template.spec.containers[0].volumeMounts.filter(notFeedback), [
    { name: 'node-artifact', mountPath: '/var/run/modelship/model', readOnly: true },
  ]);
});
builders('contains(): subset comparison used to skip no-op applies', () => {
  assert.ok(contains({ a: 1, b: { c: [1, { d: 2, e: 3 }] }, x: 9 }, { a: 1, b: { c: [1, { d: 2 }] } }));
  assert.not.ok(contains({ a: 1, b: { c: [1] } }, { b: { c: [1, 2] } }));
  assert.not.ok(contains({ a: '1' }, { a: 1 }));
});
builders.run();

const traffic = suite('traffic providers');
traffic('factory: router by default, gateway-api by name, unknown names refused', () => {
  assert.instance(
    createTrafficProvider(withInferenceServiceDefaults(isvc().spec).traffic.provider, { servingImage: 'i' }),
    RouterTrafficProvider,
    'the CRD default',
  );
  assert.instance(createTrafficProvider('gateway-api', { servingImage: 'i' }), GatewayApiTrafficProvider);
  assert.throws(
    () => createTrafficProvider('istio', { servingImage: 'i' }),
    (e: unknown) =>
      e instanceof UnknownTrafficProviderError && /known providers: router, gateway-api/.test((e as Error).message),
  );
});
traffic('router: RBAC on this one object, router Deployment watching its status, user Service <name>', () => {
  const objs = new RouterTrafficProvider({ servingImage: 'modelship/serving:1' }).desired(
    isvc({ traffic: { provider: 'router', router: { replicas: 2 } } } as any),
  ) as any[];
  const role = objs.find((o) => o.kind === 'Role');
  assert.equal(role.rules[0], {
    apiGroups: ['modelship.dev'],
    resources: ['inferenceservices'],
    resourceNames: ['faces'],
    verbs: ['get', 'list', 'watch'],
  });
  assert.equal(role.rules[1], { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'] });
  const dep = objs.find((o) => o.kind === 'Deployment');
  assert.is(dep.spec.replicas, 2);
  assert.is(dep.spec.template.spec.serviceAccountName, 'faces-router');
  assert.equal(dep.spec.template.spec.containers[0].args.slice(0, 7), [
    'router',
    '--source',
    'isvc-status',
    '--namespace',
    'ml',
    '--name',
    'faces',
  ]);
  assert.is(dep.spec.template.spec.containers[0].readinessProbe.httpGet.path, '/-/router/readyz');
  const svc = objs.find((o) => o.kind === 'Service');
  assert.is(svc.metadata.name, 'faces');
  assert.is(objs.find((o) => o.kind === 'RoleBinding').subjects[0].name, 'faces-router');
});
traffic('gateway-api: HTTPRoute with weighted backendRefs to the role Services; weights read back', () => {
  const svc = isvc({
    traffic: { provider: 'gateway-api', gateway: { parentRefs: [{ name: 'gw' }], hostnames: ['faces.example.com'] } },
  } as any);
  const route = buildHttpRoute(
    svc,
    { stableService: 'faces-stable', canaryService: 'faces-canary', port: 80 },
    { stable: 75, canary: 25 },
  ) as any;
  assert.equal(route.spec.parentRefs, [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }]);
  assert.equal(route.spec.hostnames, ['faces.example.com']);
  assert.equal(route.spec.rules[0].backendRefs, [
    { name: 'faces-stable', port: 80, weight: 75 },
    { name: 'faces-canary', port: 80, weight: 25 },
  ]);
  const noCanary = buildHttpRoute(svc, { stableService: 'faces-stable', port: 80 }, { stable: 100, canary: 0 }) as any;
  assert.is(noCanary.spec.rules[0].backendRefs.length, 1);
});
traffic.run();

const retrain = suite('retraining');
const template = {
  model: 'faces',
  image: 'modelship/trainer-image-classifier:1',
  dataset: { uri: 'pvc://data/x' },
  output: { uri: 'pvc://models/runs' },
};
const withMon = (
  mon: InferenceServiceStatus['monitoring'],
  extra: Partial<InferenceServiceStatus> = {},
  r: object = {},
) =>
  isvc(
    {
      canary: { minFeedback: 10 },
      retrain: { onDrift: true, onAccuracyBelow: 0.8, cooldown: '1h', template, ...r },
    } as any,
    { ...serving, monitoring: mon, ...extra },
  );
retrain('critical drift, accuracy below, in flight, cooldown', () => {
  const critical = { drift: { level: 'Critical' as const, score: 0.6, feature: 'brightness' } };
  assert.is(decideRetrain({ isvc: withMon(critical), inFlight: false, now: NOW })?.reason, 'Drift');
  assert.is(decideRetrain({ isvc: withMon({ drift: { level: 'Warn' } }), inFlight: false, now: NOW }), undefined);
  assert.is(decideRetrain({ isvc: withMon(critical), inFlight: true, now: NOW }), undefined, 'one in flight at most');
  assert.is(
    decideRetrain({
      isvc: withMon(critical, { retrain: { lastTriggeredAt: at(-1800).toISOString(), count: 1 } }),
      inFlight: false,
      now: NOW,
    }),
    undefined,
    'cooldown',
  );
  assert.is(
    decideRetrain({
      isvc: withMon(critical, { retrain: { lastTriggeredAt: at(-3601).toISOString(), count: 1 } }),
      inFlight: false,
      now: NOW,
    })?.reason,
    'Drift',
  );
  const accuracy = (value: number, upper: number | undefined, samples: number) =>
    decideRetrain({ isvc: withMon({ accuracy: { value, upper, samples } }), inFlight: false, now: NOW });
  assert.is(accuracy(0.7, 0.78, 50)?.reason, 'AccuracyBelow', 'confidently below onAccuracyBelow 0.8');
  assert.match(accuracy(0.7, 0.78, 50)!.message, /confidently below 0\.8 \(upper bound 0\.780\)/);
  assert.is(accuracy(0.7, 0.85, 50), undefined, 'a low estimate whose upper bound reaches 0.8 is noise, not a trigger');
  assert.is(accuracy(0.7, undefined, 50), undefined, 'no bound, no decision');
  assert.is(accuracy(0.7, 0.78, 9), undefined, 'too few samples (minFeedback 10)');
  assert.is(accuracy(0.7, 0.78, 10)?.reason, 'AccuracyBelow', 'minFeedback samples are enough');
});
retrain('cron schedule', () => {
  const daily = parseCron('@daily');
  assert.ok(daily(new Date('2026-01-02T00:00:00Z')));
  assert.not.ok(daily(new Date('2026-01-02T00:01:00Z')));
  const m = parseCron('*/15 9-17 * * 1-5');
  assert.ok(m(new Date('2026-01-05T09:45:00Z')));
  assert.not.ok(m(new Date('2026-01-04T09:45:00Z')), 'Sunday');
  assert.throws(() => parseCron('61 * * * *'), /out of range/);
  assert.throws(() => parseCron('* * *'), /five fields/);
  assert.ok(scheduleFiredBetween('0 12 * * *', at(-60), NOW));
  assert.not.ok(scheduleFiredBetween('0 12 * * *', NOW, at(60)));
  const s = withMon(
    {},
    { retrain: { lastTriggeredAt: at(-7200).toISOString() } },
    { onDrift: false, onAccuracyBelow: undefined, schedule: '0 * * * *' },
  );
  assert.is(decideRetrain({ isvc: s, inFlight: false, now: NOW })?.reason, 'Schedule');
});
retrain('the TrainingRun is the template, labelled with the service', () => {
  const run = buildRetrainRun(withMon({}), 'faces-retrain-1', { reason: 'Drift', message: 'x' });
  assert.equal(run.spec, template);
  assert.is(run.metadata.labels?.[Labels.inferenceService], 'faces');
  assert.is(run.metadata.ownerReferences, undefined, 'runs and their versions outlive the service');
});
retrain.run();
