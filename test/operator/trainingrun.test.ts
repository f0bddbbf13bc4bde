// Table-driven unit tests of the TrainingRun controller's pure parts: storage locations, names,
// the Job builder, the trainer's termination message, Job observation, phase transitions,
// status, gates, registration and Events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type TrainingRun, type TrainingRunPhase } from '../../operator/api/index.js';
import type { ContainerSpec, Job, Pod } from '../../operator/controllers/common/k8s.js';
import { shortName, stableHash } from '../../operator/controllers/common/names.js';
import { needsLivePods, observeJob } from '../../operator/controllers/common/observe.js';
import type { ContainerStatus } from '../../operator/controllers/common/k8s.js';
import { parseStorageUri, StorageUriError } from '../../operator/controllers/common/storage.js';
import { describeFailedGates, evaluateGates } from '../../operator/controllers/trainingrun/gates.js';
import {
  buildTrainingJob,
  lineageFromJob,
  NVIDIA_TOLERATION,
  trainingJobName,
} from '../../operator/controllers/trainingrun/job.js';
import { buildModelVersion, registeredBy, VersionAllocator } from '../../operator/controllers/trainingrun/register.js';
import {
  computeTrainingStatus,
  nextPhase,
  transitionEvents,
  withRegistration,
} from '../../operator/controllers/trainingrun/status.js';
import { parseTrainerMessage } from '../../operator/controllers/trainingrun/termination.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const NOW = new Date('2026-11-22T12:00:00Z');

function run(spec: Partial<TrainingRun['spec']> = {}, status?: TrainingRun['status'], generation = 1): TrainingRun {
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: { name: 'r1', namespace: 'ml', uid: 'uid-r1', generation },
    spec: {
      model: 'faces',
      image: 'modelship/trainer-image-classifier:1',
      dataset: { uri: 'pvc://data/faces', version: 'v7' },
      output: { uri: 'pvc://models/faces' },
      resources: { gpus: 0 },
      backoffLimit: 0,
      registration: { enabled: true, validation: { skewTolerance: 0.05, activeDeadlineSeconds: 600 } },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

/** The trainer: the Job's container, or its last init container when an upload step follows it. */
const containerOf = (job: Job): ContainerSpec => {
  const spec = job.spec!.template!.spec! as { containers: ContainerSpec[]; initContainers?: ContainerSpec[] };
  return [...spec.containers, ...(spec.initContainers ?? [])].find((c) => c.name === 'trainer')!;
};
const envOf = (job: Job) => Object.fromEntries((containerOf(job).env ?? []).map((e) => [e.name, e.value]));
const podSpec = (job: Job) => job.spec!.template!.spec! as Record<string, unknown>;

test('parseStorageUri: pvc claims and paths, s3 buckets and prefixes, bad input refused', () => {
  const cases: Array<[string, unknown]> = [
    ['pvc://models/faces/run-1', { scheme: 'pvc', claim: 'models', path: 'faces/run-1' }],
    ['pvc://models', { scheme: 'pvc', claim: 'models', path: '' }],
    ['pvc://models//a/./b/', { scheme: 'pvc', claim: 'models', path: 'a/b' }],
    ['s3://bucket/key', { scheme: 's3', bucket: 'bucket', prefix: 'key', uri: 's3://bucket/key' }],
    ['file:///data/x', { scheme: 'file', uri: 'file:///data/x' }],
  ];
  for (const [uri, want] of cases) assert.equal(parseStorageUri(uri), want, uri);
  for (const bad of ['pvc://Bad_Claim/x', 'pvc:///x', 'pvc://c/../etc', 'no-scheme']) {
    assert.throws(
      () => parseStorageUri(bad),
      (e: unknown) => e instanceof StorageUriError,
      bad,
    );
  }
});

test('shortName keeps short names and cuts long ones with a stable hash; stableHash ignores key order', () => {
  assert.is(shortName('abc'), 'abc');
  const long = 'x'.repeat(80);
  assert.is(shortName(long).length, 63);
  assert.is(shortName(long), shortName(long));
  assert.is.not(shortName(long), shortName(`${long}y`));
  assert.is(stableHash({ a: 1, b: [1, { c: 2, d: 3 }] }), stableHash({ b: [1, { d: 3, c: 2 }], a: 1 }));
  assert.is.not(stableHash({ a: 1 }), stableHash({ a: 2 }));
});

test('Job builder: table of specs and what the Job must carry', () => {
  const cases: Array<{ name: string; spec: Partial<TrainingRun['spec']>; check: (job: Job) => void }> = [
    {
      name: 'hyperparameters become sorted --name=value args after spec.args and HP_ env',
      spec: { args: ['--verbose'], hyperparameters: { lr: '0.01', batch_size: '32' } },
      check: (job) => {
        assert.equal(containerOf(job).args, ['--verbose', '--batch_size=32', '--lr=0.01']);
        assert.is(envOf(job).HP_LR, '0.01');
        assert.is(envOf(job).HP_BATCH_SIZE, '32');
      },
    },
    {
      name: 'pvc data read-only, output read-write, per-run output directory, artifact URI',
      spec: {},
      check: (job) => {
        const env = envOf(job);
        assert.is(env.DATASET_URI, '/var/run/modelship/dataset/faces');
        assert.is(env.OUTPUT_URI, '/var/run/modelship/output/faces/r1');
        assert.is(env.ARTIFACT_URI, 'pvc://models/faces/r1');
        assert.is(env.MODELSHIP_MODEL, 'faces');
        assert.is(env.DATASET_VERSION, 'v7');
        assert.equal(podSpec(job).volumes, [
          { name: 'pvc-models', persistentVolumeClaim: { claimName: 'models' } },
          { name: 'pvc-data', persistentVolumeClaim: { claimName: 'data', readOnly: true } },
        ]);
        assert.equal(containerOf(job).volumeMounts, [
          { name: 'pvc-models', mountPath: '/var/run/modelship/output' },
          { name: 'pvc-data', mountPath: '/var/run/modelship/dataset', readOnly: true },
        ]);
      },
    },
    {
      name: 'one claim for data and output is one volume mounted twice',
      spec: { dataset: { uri: 'pvc://store/data' }, output: { uri: 'pvc://store/models' } },
      check: (job) => {
        assert.equal(podSpec(job).volumes, [{ name: 'pvc-store', persistentVolumeClaim: { claimName: 'store' } }]);
        assert.is((containerOf(job).volumeMounts as unknown[]).length, 2);
      },
    },
    {
      name: 'a node path data set is passed through unchanged, nothing mounted',
      spec: { dataset: { uri: 'file:///data/faces' } },
      check: (job) => {
        assert.is(envOf(job).DATASET_URI, 'file:///data/faces');
        assert.equal(podSpec(job).volumes, [{ name: 'pvc-models', persistentVolumeClaim: { claimName: 'models' } }]);
      },
    },
    {
      name: 's3: the data set fetched first, the trainer writes an emptyDir, an upload step sends it to <output>/<run>',
      spec: {
        dataset: { uri: 's3://bucket/faces', secretRef: { name: 'data-s3' } },
        output: { uri: 's3://bucket/models/', secretRef: { name: 'models-s3' } },
        resources: { gpus: 1 },
      },
      check: (job) => {
        const spec = podSpec(job) as { initContainers: ContainerSpec[]; containers: ContainerSpec[] };
        assert.equal(
          spec.initContainers.map((c) => c.name),
          ['fetch-dataset', 'trainer'],
        );
        assert.equal(
          spec.containers.map((c) => c.name),
          ['upload'],
        );
        const [fetch] = spec.initContainers;
        const [upload] = spec.containers;
        assert.equal(fetch.args, ['fetch', '--from', 's3://bucket/faces', '--to', '/var/run/modelship/dataset']);
        assert.equal((fetch as { envFrom?: unknown }).envFrom, [{ secretRef: { name: 'data-s3' } }]);
        assert.equal(upload.args, [
          'upload',
          '--from',
          '/var/run/modelship/output/r1',
          '--to',
          's3://bucket/models/r1',
        ]);
        assert.equal((upload as { envFrom?: unknown }).envFrom, [{ secretRef: { name: 'models-s3' } }]);
        assert.is(envOf(job).DATASET_URI, '/var/run/modelship/dataset');
        assert.is(envOf(job).OUTPUT_URI, '/var/run/modelship/output/r1');
        assert.is(envOf(job).ARTIFACT_URI, 's3://bucket/models/r1');
        assert.is((containerOf(job) as { envFrom?: unknown }).envFrom, undefined, 'the trainer gets no credentials');
        assert.equal((containerOf(job).resources as { limits: Record<string, string> }).limits['nvidia.com/gpu'], '1');
        assert.equal(podSpec(job).volumes, [
          { name: 'dataset', emptyDir: {} },
          { name: 'output', emptyDir: {} },
        ]);
      },
    },
    {
      name: 'GPUs: nvidia.com/gpu limit and the NVIDIA toleration, with the user tolerations',
      spec: {
        resources: { gpus: 2, cpu: '4', memory: '8Gi' },
        tolerations: [{ key: 'team', operator: 'Equal', value: 'ml', effect: 'NoSchedule' }],
      },
      check: (job) => {
        assert.equal(containerOf(job).resources, {
          requests: { cpu: '4', memory: '8Gi' },
          limits: { cpu: '4', memory: '8Gi', 'nvidia.com/gpu': '2' },
        });
        assert.equal(podSpec(job).tolerations, [
          { key: 'team', operator: 'Equal', value: 'ml', effect: 'NoSchedule' },
          NVIDIA_TOLERATION,
        ]);
      },
    },
    {
      name: 'a user NVIDIA toleration is not duplicated',
      spec: { resources: { gpus: 1 }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists' }] },
      check: (job) => assert.equal(podSpec(job).tolerations, [{ key: 'nvidia.com/gpu', operator: 'Exists' }]),
    },
    {
      name: 'no GPUs: no toleration, no resources',
      spec: {},
      check: (job) => {
        assert.is(podSpec(job).tolerations, undefined);
        assert.is(containerOf(job).resources, undefined);
      },
    },
    {
      name: 'scheduling, identity and Job limits',
      spec: {
        nodeSelector: { pool: 'gpu' },
        priorityClassName: 'batch-low',
        serviceAccountName: 'trainer',
        backoffLimit: 2,
        activeDeadlineSeconds: 3600,
        ttlSecondsAfterFinished: 60,
        command: ['python'],
        imagePullPolicy: 'IfNotPresent',
      },
      check: (job) => {
        const ps = podSpec(job);
        assert.equal(ps.nodeSelector, { pool: 'gpu' });
        assert.is(ps.priorityClassName, 'batch-low');
        assert.is(ps.serviceAccountName, 'trainer');
        assert.is(job.spec?.backoffLimit, 2);
        assert.is(job.spec?.activeDeadlineSeconds, 3600);
        assert.is(job.spec?.ttlSecondsAfterFinished, 60);
        assert.equal(containerOf(job).command, ['python']);
        assert.is(containerOf(job).imagePullPolicy, 'IfNotPresent');
      },
    },
    {
      name: 'restricted security context, termination message, never restarted in place, owned by the run',
      spec: {},
      check: (job) => {
        const c = containerOf(job);
        assert.is(c.terminationMessagePath, '/dev/termination-log');
        assert.is(c.terminationMessagePolicy, 'FallbackToLogsOnError');
        assert.equal(c.securityContext, {
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
        assert.is(podSpec(job).restartPolicy, 'Never');
        assert.equal(job.metadata?.ownerReferences, [
          {
            apiVersion: API_VERSION,
            kind: 'TrainingRun',
            name: 'r1',
            uid: 'uid-r1',
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
        assert.is(job.metadata?.labels?.['modelship.dev/training-run'], 'r1');
        assert.is(job.spec?.template?.metadata?.annotations?.['modelship.dev/training-run'], 'r1');
      },
    },
    {
      name: 'a CPU limit sets OMP_NUM_THREADS in whole cores; none without one or when the run sets it',
      spec: { resources: { gpus: 0, cpu: '1500m' } },
      check: (job) => {
        const env = (spec: Partial<TrainingRun['spec']>) => containerOf(buildTrainingJob(run(spec))).env ?? [];
        const threads = (resources: TrainingRun['spec']['resources']) =>
          env({ resources }).find((e) => e.name === 'OMP_NUM_THREADS')?.value;
        assert.is(threads({ gpus: 0, cpu: '1500m' }), '2');
        assert.is(threads({ gpus: 0, cpu: 4 }), '4');
        assert.is(threads({ gpus: 0, cpu: '250m' }), '1');
        assert.is(threads({ gpus: 0, memory: '4Gi' }), undefined);
        const own = { resources: { gpus: 0, cpu: 4 }, env: [{ name: 'OMP_NUM_THREADS', value: '8' }] };
        assert.equal(
          env(own).filter((e) => e.name === 'OMP_NUM_THREADS'),
          [{ name: 'OMP_NUM_THREADS', value: '8' }],
        );
        assert.is(containerOf(job).env?.[0]?.name, 'OMP_NUM_THREADS');
      },
    },
    {
      name: 'user env comes after the operator variables',
      spec: { env: [{ name: 'GENERATE_DATA', value: '1' }] },
      check: (job) => assert.is(containerOf(job).env?.at(-1)?.name, 'GENERATE_DATA'),
    },
  ];
  for (const c of cases) {
    try {
      c.check(buildTrainingJob(run(c.spec)));
    } catch (e) {
      throw new Error(`case "${c.name}": ${(e as Error).message}`, { cause: e });
    }
  }
});

test('Job builder: lineage annotation round-trips; long names are shortened; bad claims throw', () => {
  const job = buildTrainingJob(run({ hyperparameters: { lr: '1' } }));
  assert.equal(lineageFromJob(job), {
    image: 'modelship/trainer-image-classifier:1',
    hyperparameters: { lr: '1' },
    dataset: { uri: 'pvc://data/faces', version: 'v7' },
  });
  assert.is(lineageFromJob(undefined), undefined);
  const long = run();
  long.metadata.name = 'n'.repeat(100);
  assert.is(trainingJobName(long).length, 63);
  assert.is(buildTrainingJob(long).metadata?.annotations?.['modelship.dev/training-run'], 'n'.repeat(100));
  assert.throws(
    () => buildTrainingJob(run({ output: { uri: 'pvc://Not_A_Claim/x' } })),
    (e: unknown) => e instanceof StorageUriError,
  );
});

test('trainer termination message: table of inputs and verdicts', () => {
  const cases: Array<[string | undefined, string]> = [
    [JSON.stringify({ artifact: { uri: 'pvc://m/r1', digest: DIGEST }, metrics: { accuracy: 0.9 }, epochs: 3 }), 'ok'],
    [JSON.stringify({ artifact: { uri: 'pvc://m/r1' } }), 'ok'],
    [undefined, 'MissingTerminationMessage'],
    ['   ', 'MissingTerminationMessage'],
    ['Traceback (most recent call last):\n  boom', 'InvalidTerminationMessage'],
    ['[1,2]', 'InvalidTerminationMessage'],
    [JSON.stringify({ error: 'DataError: no data' }), 'TrainerError'],
    [JSON.stringify({ metrics: { accuracy: 1 } }), 'InvalidTerminationMessage'],
    [JSON.stringify({ artifact: { uri: 'x', digest: 'md5:1' } }), 'InvalidTerminationMessage'],
    [JSON.stringify({ artifact: { uri: 'x' }, metrics: { accuracy: 'high' } }), 'InvalidTerminationMessage'],
    [JSON.stringify({ artifact: { uri: 'x' }, metrics: [1] }), 'InvalidTerminationMessage'],
  ];
  for (const [text, want] of cases) {
    const r = parseTrainerMessage(text);
    assert.is(r.ok ? 'ok' : r.reason, want, String(text));
    if (!r.ok) assert.ok(r.message.length > 10, 'a message a user can act on');
  }
  const ok = parseTrainerMessage(
    JSON.stringify({
      artifact: { uri: 'pvc://m/r1', digest: DIGEST },
      metrics: { accuracy: 0.9, 'beard.accuracy': 1 },
    }),
  );
  assert.equal(ok, {
    ok: true,
    artifact: { uri: 'pvc://m/r1', digest: DIGEST },
    metrics: { accuracy: 0.9, 'beard.accuracy': 1 },
  });
});

const job = (status: Job['status']): Job => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'r1', uid: 'j' },
  status,
});
const pod = (name: string, created: string, status: Pod['status']): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, creationTimestamp: created },
  status,
});
const terminated = (exitCode: number, message?: string) => ({
  phase: (exitCode === 0 ? 'Succeeded' : 'Failed') as 'Succeeded' | 'Failed',
  containerStatuses: [{ name: 'trainer', state: { terminated: { exitCode, message } } }],
});

const GPU_SHORT =
  '0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.';

test('observeJob: table of Job/Pod states', () => {
  const cases: Array<{ name: string; job: Job; pods: Pod[]; want: Partial<ReturnType<typeof observeJob>> }> = [
    { name: 'fresh', job: job({}), pods: [], want: { state: 'Pending', reason: 'JobPending' } },
    {
      name: 'running',
      job: job({ active: 1, startTime: 't0' }),
      pods: [pod('p', '1', { phase: 'Running' })],
      want: { state: 'Running', reason: 'JobRunning', startTime: 't0' },
    },
    {
      name: 'image pull problem',
      job: job({ active: 1 }),
      pods: [
        pod('p', '1', {
          phase: 'Pending',
          containerStatuses: [
            {
              name: 'trainer',
              state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } },
            },
          ],
        }),
      ],
      want: { state: 'Pending', reason: 'ImagePullBackOff' },
    },
    {
      name: 'no node can take the pod: the scheduler says why',
      job: job({ active: 1 }),
      pods: [
        pod('p', '1', {
          phase: 'Pending',
          conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: GPU_SHORT }],
        }),
      ],
      want: { state: 'Pending', reason: 'Unschedulable', message: `pod p cannot be scheduled: ${GPU_SHORT}` },
    },
    {
      name: 'scheduled, still starting: waiting as before',
      job: job({ active: 1 }),
      pods: [pod('p', '1', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] })],
      want: { state: 'Pending', reason: 'JobPending' },
    },
    {
      name: "complete: the succeeded pod's message",
      job: job({ succeeded: 1, completionTime: 't9', conditions: [{ type: 'Complete', status: 'True' }] }),
      pods: [pod('old', '1', terminated(1, 'old')), pod('new', '2', terminated(0, 'summary'))],
      want: {
        state: 'Succeeded',
        reason: 'Completed',
        terminationMessage: 'summary',
        exitCode: 0,
        completionTime: 't9',
      },
    },
    {
      name: 'backoff limit: the newest failed pod',
      job: job({
        failed: 2,
        conditions: [
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
            lastTransitionTime: 't5',
          },
        ],
      }),
      pods: [pod('a', '1', terminated(1, 'first')), pod('b', '2', terminated(1, 'second'))],
      want: {
        state: 'Failed',
        reason: 'BackoffLimitExceeded',
        terminationMessage: 'second',
        exitCode: 1,
        completionTime: 't5',
      },
    },
    {
      name: 'deadline with no pod left',
      job: job({
        conditions: [
          {
            type: 'Failed',
            status: 'True',
            reason: 'DeadlineExceeded',
            message: 'Job was active longer than specified deadline',
          },
        ],
      }),
      pods: [],
      want: { state: 'Failed', reason: 'DeadlineExceeded', terminationMessage: undefined },
    },
  ];
  for (const c of cases) {
    const got = observeJob(c.job, c.pods, 'trainer');
    for (const [k, v] of Object.entries(c.want)) assert.equal(got[k as keyof typeof got], v, `${c.name}: ${k}`);
  }
});

test('observeJob: a container killed at its memory limit is reported as OOMKilled, with the limit', () => {
  const failedJob = job({
    failed: 1,
    conditions: [
      {
        type: 'Failed',
        status: 'True',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      },
    ],
  });
  const oomPod = (container: string, others: object[] = []): Pod => ({
    ...pod('p', '1', {
      phase: 'Failed',
      containerStatuses: [
        ...(others as ContainerStatus[]),
        { name: container, state: { terminated: { exitCode: 137, reason: 'OOMKilled', message: 'loading data' } } },
      ],
    }),
    spec: {
      containers: [
        { name: 'trainer', resources: { limits: { memory: '4Gi' } } },
        { name: 'upload', resources: { limits: { memory: '512Mi' } } },
      ],
    },
  });
  const trainer = observeJob(failedJob, [oomPod('trainer')], 'trainer');
  assert.is(trainer.reason, 'OOMKilled');
  assert.match(
    trainer.message,
    'container trainer went past its memory limit of 4Gi and was killed (OOMKilled, exit code 137)',
  );
  assert.match(trainer.message, 'backoff limit');
  const trainerDone = { name: 'trainer', state: { terminated: { exitCode: 0 } } };
  const upload = observeJob(failedJob, [oomPod('upload', [trainerDone])], 'trainer');
  assert.equal(
    [upload.reason, upload.stepFailure?.step, upload.stepFailure?.reason],
    ['OOMKilled', 'upload', 'OOMKilled'],
  );
  assert.match(upload.message, 'upload: container upload went past its memory limit of 512Mi');
});

test('needsLivePods: a finished Job whose deciding pod is not in the cache is confirmed with a live read', () => {
  const cases: Array<[Parameters<typeof needsLivePods>[0], boolean]> = [
    [{ state: 'Succeeded', reason: 'Completed', message: 'm' }, true],
    [{ state: 'Succeeded', reason: 'Completed', message: 'm', exitCode: 0 }, false],
    [{ state: 'Failed', reason: 'BackoffLimitExceeded', message: 'm' }, true],
    [{ state: 'Failed', reason: 'BackoffLimitExceeded', message: 'm', exitCode: 1 }, false],
    [{ state: 'Running', reason: 'JobRunning', message: 'm' }, false],
    [{ state: 'Pending', reason: 'JobPending', message: 'm' }, false],
  ];
  for (const [obs, want] of cases) assert.is(needsLivePods(obs), want, JSON.stringify(obs));
});

test('nextPhase: table of transitions (terminal phases are final, Running never goes back to Pending)', () => {
  const cases: Array<[TrainingRunPhase | undefined, TrainingRunPhase, TrainingRunPhase]> = [
    [undefined, 'Pending', 'Pending'],
    [undefined, 'Running', 'Running'],
    [undefined, 'Failed', 'Failed'],
    ['Pending', 'Running', 'Running'],
    ['Pending', 'Succeeded', 'Succeeded'],
    ['Pending', 'Failed', 'Failed'],
    ['Running', 'Pending', 'Running'],
    ['Running', 'Succeeded', 'Succeeded'],
    ['Running', 'Failed', 'Failed'],
    ['Succeeded', 'Failed', 'Succeeded'],
    ['Succeeded', 'Pending', 'Succeeded'],
    ['Failed', 'Succeeded', 'Failed'],
    ['Failed', 'Running', 'Failed'],
  ];
  for (const [from, observed, want] of cases) assert.is(nextPhase(from, observed), want, `${from} + ${observed}`);
});

const succeededObs = (message: string | undefined) => ({
  job: {
    state: 'Succeeded' as const,
    reason: 'Completed',
    message: 'done',
    startTime: '2026-11-22T11:00:00Z',
    completionTime: '2026-11-22T11:30:00Z',
    terminationMessage: message,
  },
});

test('computeTrainingStatus: outcomes from the Job and the termination message', () => {
  const ok = computeTrainingStatus(
    run(),
    succeededObs(
      JSON.stringify({ artifact: { uri: 'pvc://models/faces/r1', digest: DIGEST }, metrics: { accuracy: 0.91 } }),
    ),
    NOW,
  );
  assert.is(ok.phase, 'Succeeded');
  assert.equal(ok.metrics, { accuracy: 0.91 });
  assert.equal(ok.artifact, { uri: 'pvc://models/faces/r1', digest: DIGEST });
  assert.is(ok.completionTime, '2026-11-22T11:30:00Z');
  assert.is(ok.conditions?.[0].status, 'True');
  assert.is(ok.observedGeneration, 1);

  const missing = computeTrainingStatus(run(), succeededObs(undefined), NOW);
  assert.is(missing.phase, 'Failed');
  assert.is(missing.conditions?.[0].reason, 'MissingTerminationMessage');
  const garbage = computeTrainingStatus(run(), succeededObs('oops'), NOW);
  assert.is(garbage.conditions?.[0].reason, 'InvalidTerminationMessage');

  const failed = computeTrainingStatus(
    run(),
    {
      job: {
        state: 'Failed',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
        terminationMessage: '{"error": "DataError: no data"}',
      },
    },
    NOW,
  );
  assert.is(failed.phase, 'Failed');
  assert.is(failed.conditions?.[0].reason, 'BackoffLimitExceeded');
  assert.match(failed.conditions?.[0].message ?? '', /backoff limit; the trainer failed: DataError: no data/);
  const crashed = computeTrainingStatus(
    run(),
    { job: { state: 'Failed', reason: 'DeadlineExceeded', message: 'too long', terminationMessage: 'line1\nKilled' } },
    NOW,
  );
  assert.match(crashed.conditions?.[0].message ?? '', /too long; last output: line1 \| Killed/);

  const pull = computeTrainingStatus(
    run(),
    { job: { state: 'Pending', reason: 'ImagePullBackOff', message: 'pod p: Back-off pulling image' } },
    NOW,
  );
  assert.equal(
    [pull.phase, pull.conditions?.[0].status, pull.conditions?.[0].reason],
    ['Pending', 'Unknown', 'ImagePullBackOff'],
  );

  assert.is(computeTrainingStatus(run(), { invalidSpec: 'bad uri' }, NOW).conditions?.[0].reason, 'InvalidSpec');
  assert.is(computeTrainingStatus(run(), { jobMissing: true }, NOW).conditions?.[0].reason, 'JobDeleted');
});

test('computeTrainingStatus: terminal status is kept, recomputation is identical (no writes at steady state)', () => {
  const first = computeTrainingStatus(
    run(),
    succeededObs(JSON.stringify({ artifact: { uri: 'u' }, metrics: { accuracy: 0.5 } })),
    NOW,
  );
  const later = new Date(NOW.getTime() + 60_000);
  const again = computeTrainingStatus(run({}, first), { jobMissing: true }, later);
  assert.equal(again, first);
});

test("SpecChangedAfterStart: set when the generation moved past the Job's, cleared otherwise", () => {
  const started = { phase: 'Running' as const, jobName: 'r1', jobGeneration: 1 };
  const running = { job: { state: 'Running' as const, reason: 'JobRunning', message: 'running' } };
  const same = computeTrainingStatus(run({}, started, 1), running, NOW);
  assert.is(
    same.conditions?.find((c) => c.type === 'SpecChangedAfterStart'),
    undefined,
  );
  const edited = computeTrainingStatus(run({}, started, 3), running, NOW);
  const c = edited.conditions?.find((x) => x.type === 'SpecChangedAfterStart');
  assert.is(c?.status, 'True');
  assert.is(c?.observedGeneration, 3);
  assert.match(c?.message ?? '', /generation 3.*generation 1/);
  assert.is(edited.jobGeneration, 1, 'the Job generation is not moved');
});

test('gates: table of bounds, missing metrics fail, messages carry the numbers', () => {
  const metrics = { accuracy: 0.62, loss: 0.4 };
  const gates = evaluateGates({ minMetrics: { accuracy: 0.8, f1: 0.5 }, maxMetrics: { loss: 0.5 } }, metrics);
  assert.equal(gates, [
    { metric: 'accuracy', bound: 'min', threshold: 0.8, value: 0.62, passed: false },
    { metric: 'f1', bound: 'min', threshold: 0.5, passed: false },
    { metric: 'loss', bound: 'max', threshold: 0.5, value: 0.4, passed: true },
  ]);
  assert.is(describeFailedGates(gates), 'accuracy 0.62 is below the minimum 0.8; f1 was not reported (minimum 0.5)');
  assert.equal(evaluateGates(undefined, metrics), []);
  assert.is(evaluateGates({ minMetrics: { accuracy: 0.62 } }, metrics)[0].passed, true, 'bounds are inclusive');
  assert.is(evaluateGates({ maxMetrics: { loss: 0.3 } }, metrics)[0].passed, false);
});

test('withRegistration: Registered condition per state; transitionEvents only on change', () => {
  const base = computeTrainingStatus(
    run(),
    succeededObs(JSON.stringify({ artifact: { uri: 'u' }, metrics: { accuracy: 0.5 } })),
    NOW,
  );
  const table: Array<[Parameters<typeof withRegistration>[1], string, string]> = [
    [{ kind: 'disabled' }, 'False', 'RegistrationDisabled'],
    [{ kind: 'gatesFailed', gates: [], message: 'accuracy 0.5 is below the minimum 0.8' }, 'False', 'GatesFailed'],
    [{ kind: 'registering', gates: [], name: 'faces-v3' }, 'Unknown', 'Registering'],
    [{ kind: 'registered', gates: [], name: 'faces-v3' }, 'True', 'Registered'],
  ];
  for (const [state, status, reason] of table) {
    const s = withRegistration(base, state, 1, NOW);
    const c = s.conditions?.find((x) => x.type === 'Registered');
    assert.equal([c?.status, c?.reason], [status, reason], state.kind);
    if (state.kind === 'registered' || state.kind === 'registering') assert.is(s.modelVersion, 'faces-v3');
  }
  const registered = withRegistration(base, { kind: 'registered', gates: [], name: 'faces-v3' }, 1, NOW);
  assert.equal(
    transitionEvents(base, registered).map((e) => e.reason),
    ['Registered'],
  );
  assert.equal(transitionEvents(registered, registered), []);
  assert.equal(
    transitionEvents(undefined, base).map((e) => [e.type, e.reason]),
    [['Normal', 'Succeeded']],
  );
  const failed = computeTrainingStatus(
    run(),
    { job: { state: 'Failed', reason: 'DeadlineExceeded', message: 'late' } },
    NOW,
  );
  assert.equal(
    transitionEvents(undefined, failed).map((e) => [e.type, e.reason]),
    [['Warning', 'DeadlineExceeded']],
  );
});

test('registration: next free version, allocator never hands out a number twice, ModelVersion shape', () => {
  assert.is(
    new VersionAllocator().next('ml', 'faces', ['faces-v1', 'faces-v10', 'faces-v2', 'other-v99', 'faces-x']),
    11,
    'numeric, not lexical; other models and odd names ignored',
  );
  assert.is(new VersionAllocator().next('ml', 'faces', []), 1);
  const alloc = new VersionAllocator();
  assert.is(alloc.next('ml', 'faces', ['faces-v1']), 2);
  assert.is(alloc.next('ml', 'faces', ['faces-v1']), 3, 'the cache has not caught up: still a new number');
  assert.is(alloc.next('other', 'faces', []), 1, 'per namespace');
  alloc.taken('ml', 'faces', 9);
  assert.is(alloc.next('ml', 'faces', []), 10);

  const r = run({ hyperparameters: { lr: '0.1' } });
  const mv = buildModelVersion({
    run: r,
    version: 4,
    lineage: { image: 'img:1', hyperparameters: { lr: '0.1' }, dataset: { uri: 'pvc://data/faces', version: 'v7' } },
    artifact: { uri: 'pvc://models/faces/r1', digest: DIGEST },
    metrics: { accuracy: 0.9 },
  });
  assert.is(mv.metadata.name, 'faces-v4');
  assert.is(mv.metadata.ownerReferences, undefined);
  assert.is(mv.metadata.labels?.['modelship.dev/model'], 'faces');
  assert.equal(mv.spec.source, {
    trainingRun: 'r1',
    image: 'img:1',
    hyperparameters: { lr: '0.1' },
    dataset: { uri: 'pvc://data/faces', version: 'v7' },
  });
  assert.equal(mv.spec.validation, { skewTolerance: 0.05, activeDeadlineSeconds: 600 });
  assert.ok(registeredBy(mv, r));
  assert.not.ok(registeredBy(mv, { ...r, metadata: { ...r.metadata, uid: 'someone-else' } }));
});

test.run();
