// The first registration step folded into the status write that records success: the outcome
// for registration off / a failed gate, the version name (drawn once) for Registering, a name
// recorded earlier kept, and nothing added before success or without an artifact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type TrainingRun, type TrainingRunStatus } from '../../operator/api/index.js';
import { withFirstRegistrationStep } from '../../operator/controllers/trainingrun/register.js';

const NOW = new Date('2026-11-22T12:00:00Z');

type Registration = Omit<NonNullable<TrainingRun['spec']['registration']>, 'validation'>;

function run(registration: Registration): TrainingRun {
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: { name: 'r1', namespace: 'ml', uid: 'u1', generation: 2 },
    spec: {
      model: 'faces',
      image: 'img',
      dataset: { uri: 'pvc://d/x' },
      output: { uri: 'pvc://m/x' },
      resources: { gpus: 0 },
      backoffLimit: 0,
      registration: { ...registration, validation: { skewTolerance: 0.05, activeDeadlineSeconds: 60 } },
    },
  };
}

const succeeded = (extra: Partial<TrainingRunStatus> = {}): TrainingRunStatus => ({
  phase: 'Succeeded',
  metrics: { accuracy: 0.7 },
  artifact: { uri: 'pvc://m/x/r1' },
  conditions: [
    {
      type: 'Succeeded',
      status: 'True',
      reason: 'Completed',
      message: 'done',
      lastTransitionTime: '2026-11-22T11:00:00Z',
    },
  ],
  ...extra,
});

const registered = (status: TrainingRunStatus) => status.conditions?.find((c) => c.type === 'Registered');

const cases: Array<{
  name: string;
  reg: Registration;
  status: TrainingRunStatus;
  want?: [string, string];
  modelVersion?: string;
  draws: number;
}> = [
  {
    name: 'registration off: outcome recorded',
    reg: { enabled: false },
    status: succeeded(),
    want: ['False', 'RegistrationDisabled'],
    draws: 0,
  },
  {
    name: 'gate fails: GatesFailed with the numbers',
    reg: { enabled: true, gates: { minMetrics: { accuracy: 0.8 } } },
    status: succeeded(),
    want: ['False', 'GatesFailed'],
    draws: 0,
  },
  {
    name: 'gates pass: Registering a freshly drawn name',
    reg: { enabled: true, gates: { minMetrics: { accuracy: 0.5 } } },
    status: succeeded(),
    want: ['Unknown', 'Registering'],
    modelVersion: 'faces-v7',
    draws: 1,
  },
  {
    name: 'a name recorded earlier is kept',
    reg: { enabled: true },
    status: succeeded({ modelVersion: 'faces-v3' }),
    want: ['Unknown', 'Registering'],
    modelVersion: 'faces-v3',
    draws: 0,
  },
  { name: 'not succeeded yet: unchanged', reg: { enabled: true }, status: { phase: 'Running' }, draws: 0 },
  { name: 'failed: unchanged', reg: { enabled: true }, status: { phase: 'Failed' }, draws: 0 },
  {
    name: 'no artifact: unchanged (register() reports it)',
    reg: { enabled: true },
    status: succeeded({ artifact: undefined }),
    draws: 0,
  },
  {
    name: 'already registered: unchanged',
    reg: { enabled: true },
    draws: 0,
    status: succeeded({
      modelVersion: 'faces-v2',
      conditions: [
        {
          type: 'Registered',
          status: 'True',
          reason: 'Registered',
          message: 'm',
          lastTransitionTime: '2026-11-22T11:00:00Z',
        },
      ],
    }),
  },
];

for (const c of cases) {
  test(c.name, () => {
    let draws = 0;
    const next = withFirstRegistrationStep(
      run(c.reg),
      c.status,
      () => {
        draws++;
        return 'faces-v7';
      },
      NOW,
    );
    assert.is(draws, c.draws, 'names drawn');
    if (!c.want) return assert.equal(next, c.status);
    const cond = registered(next);
    assert.equal([cond?.status, cond?.reason], c.want);
    assert.is(cond?.observedGeneration, 2);
    assert.is(next.phase, 'Succeeded');
    assert.is(next.modelVersion, c.modelVersion);
    if (c.want[1] === 'GatesFailed') assert.match(cond?.message ?? '', /0\.7/);
  });
}

test.run();
