// Table-driven unit tests of the ModelVersion controller's pure parts: the validation Job,
// the serving report, error classification, skew, verdicts, phase transitions, status, Events.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type ModelVersion, type ModelVersionPhase } from '../../operator/api/index.js';
import type { ContainerSpec, Job } from '../../operator/controllers/common/k8s.js';
import type { JobObservation } from '../../operator/controllers/common/observe.js';
import { StorageUriError } from '../../operator/controllers/common/storage.js';
import { buildValidationJob, validationJobName } from '../../operator/controllers/modelversion/job.js';
import { classifyValidationError, parseValidationReport } from '../../operator/controllers/modelversion/report.js';
import {
  computeModelVersionStatus,
  modelVersionEvents,
  nextModelVersionPhase,
  skewCheck,
  specHashOf,
  verdictOf,
} from '../../operator/controllers/modelversion/status.js';

const DIGEST = `sha256:${'cd'.repeat(32)}`;
const NOW = new Date('2026-11-22T12:00:00Z');

function mv(spec: Partial<ModelVersion['spec']> = {}, status?: ModelVersion['status']): ModelVersion {
  return {
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: 'faces-v3', namespace: 'ml', uid: 'uid-mv', generation: 1 },
    spec: {
      model: 'faces',
      version: 3,
      format: 'onnx',
      artifact: { uri: 'pvc://models/faces/r1', digest: DIGEST },
      metrics: { accuracy: 0.9 },
      validation: { skewTolerance: 0.05, activeDeadlineSeconds: 300 },
      ...spec,
    },
    ...(status ? { status } : {}),
  };
}

const report = (o: Record<string, unknown>) =>
  JSON.stringify({
    ok: true,
    model: 'faces',
    digest: DIGEST,
    samples: 80,
    accuracy: 0.88,
    trainingAccuracy: 0.9,
    heads: { beard: 0.9, hair: 0.86 },
    latencyMs: { p50: 1.2, p95: 3.4 },
    profile: '/p/profile.json',
    ...o,
  });
const done = (message: string | undefined, state: 'Succeeded' | 'Failed' = 'Succeeded'): JobObservation => ({
  state,
  reason: state === 'Succeeded' ? 'Completed' : 'BackoffLimitExceeded',
  message: state === 'Succeeded' ? 'the Job completed' : 'Job has reached the specified backoff limit',
  terminationMessage: message,
});
const container = (job: Job): ContainerSpec => job.spec!.template!.spec!.containers[0];

test('validation Job: serving image in validate mode, artifact read-only, profile through its own mount', () => {
  const job = buildValidationJob(mv(), { servingImage: 'modelship/serving:9' });
  const c = container(job);
  assert.is(job.metadata?.name, 'faces-v3-validate');
  assert.is(c.image, 'modelship/serving:9');
  assert.equal(c.args, [
    'validate',
    '--model-dir',
    '/var/run/modelship/model',
    '--profile-out',
    '/var/run/modelship/profile/profile.json',
    // The validator refuses a model file that is not the registered one, whatever the location.
    '--expect-digest',
    `sha256:${'cd'.repeat(32)}`,
  ]);
  assert.equal(c.volumeMounts, [
    { name: 'pvc-models', mountPath: '/var/run/modelship/model', readOnly: true, subPath: 'faces/r1' },
    { name: 'pvc-models', mountPath: '/var/run/modelship/profile', subPath: 'faces/r1' },
  ]);
  assert.is(job.spec?.backoffLimit, 0);
  assert.is(job.spec?.activeDeadlineSeconds, 300);
  assert.is(c.terminationMessagePath, '/dev/termination-log');
  assert.equal(job.metadata?.ownerReferences?.[0], {
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    name: 'faces-v3',
    uid: 'uid-mv',
    controller: true,
    blockOwnerDeletion: true,
  });
  assert.is(job.spec?.template?.metadata?.annotations?.['modelship.dev/model-version'], 'faces-v3');
  assert.is((c.securityContext as { runAsNonRoot?: boolean }).runAsNonRoot, true);
});

interface ContainerSpecLike {
  args?: string[];
  envFrom?: unknown;
}

test('validation Job: table of artifact locations', () => {
  const cases: Array<[string, string | typeof StorageUriError]> = [
    ['pvc://models', '/var/run/modelship/model'],
    ['file:///srv/models/a%20b', '/var/run/modelship/model'],
    ['s3://bucket/model', '/var/run/modelship/model'],
    ['https://models.example.com/faces/v1/', '/var/run/modelship/model'],
    ['pvc://BAD/x', StorageUriError],
  ];
  for (const [uri, want] of cases) {
    const v = mv({ artifact: { uri } });
    if (typeof want === 'string') assert.is(container(buildValidationJob(v)).args?.[2], want, uri);
    else
      assert.throws(
        () => buildValidationJob(v),
        (e: unknown) => e instanceof want,
        uri,
      );
  }
  const node = buildValidationJob(mv({ artifact: { uri: 'file:///srv/models/a%20b' } }));
  assert.equal(
    node.spec?.template?.spec?.volumes,
    [{ name: 'node-artifact', hostPath: { path: '/srv/models/a b', type: 'Directory' } }],
    'a node path is a hostPath volume',
  );
  // s3://: fetched by an init container (with the digest), validated from the copy, and the profile
  // uploaded next to model.onnx with the location's credentials; https:// keeps it in the pod.
  const digest = `sha256:${'b'.repeat(64)}`;
  const s3 = buildValidationJob(
    mv({ artifact: { uri: 's3://models/faces/v3', digest, secretRef: { name: 'models-s3' } } }),
  );
  const [fetch] = (s3.spec?.template?.spec as unknown as { initContainers: ContainerSpecLike[] }).initContainers;
  assert.equal(fetch.args, [
    'fetch',
    '--from',
    's3://models/faces/v3',
    '--to',
    '/var/run/modelship/model',
    '--expect-digest',
    digest,
  ]);
  const validate = container(s3);
  assert.equal(validate.args?.slice(3), [
    '--profile-out',
    's3://models/faces/v3/profile.json',
    '--expect-digest',
    digest,
  ]);
  assert.equal((validate as ContainerSpecLike).envFrom, [{ secretRef: { name: 'models-s3' } }]);
  const https = container(buildValidationJob(mv({ artifact: { uri: 'https://models.example.com/faces/v3/' } })));
  assert.equal(https.args?.slice(3), ['--profile-out', '/var/run/modelship/profile/profile.json']);
  const long = mv();
  long.metadata.name = 'm'.repeat(70);
  assert.is(validationJobName(long).length, 63);
});

test('parseValidationReport: table of termination messages', () => {
  const cases: Array<[string | undefined, boolean, string?]> = [
    [report({}), true],
    ['{"ok":false,"error":"model.onnx: invalid protobuf"}', true],
    [undefined, false, 'no report'],
    ['Error: Cannot find module', false, 'not JSON'],
    ['{"accuracy": 1}', false, 'no boolean'],
  ];
  for (const [text, ok, why] of cases) {
    const r = parseValidationReport(text);
    assert.is(r.ok, ok, String(text));
    if (!r.ok && why) assert.match(r.message, why);
  }
  const r = parseValidationReport(report({ heads: { a: 0.5, b: 'x' }, latencyMs: { p50: 2 } }));
  assert.ok(r.ok);
  if (r.ok) {
    assert.equal(r.report.heads, { a: 0.5 }, 'non-numbers dropped');
    assert.equal(r.report.latencyMs, { p50: 2, p95: undefined });
  }
});

test('parseValidationReport: signature and reference distributions, keeping only the fields the CRD declares', () => {
  const r = parseValidationReport(
    report({
      signature: {
        input: { kind: 'image', tensor: 'image', width: 64, height: 64, channels: 3, layout: 'NCHW', resize: 'fill' },
        heads: [{ name: 'beard', type: 'binary', labels: ['no', 'yes'], extra: 1 }, { type: 'binary' }],
      },
      distributions: {
        bins: 4,
        features: [
          { name: 'brightness', edges: [0.2, 0.5, 0.8], proportions: [0.25, 0.25, 0.25, 0.25] },
          { edges: [] },
        ],
        predictions: [{ head: 'beard', labels: ['no', 'yes'], proportions: [0.7, 0.3] }],
      },
    }),
  );
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.report.signature, {
    input: { kind: 'image', tensor: 'image', width: 64, height: 64, channels: 3, layout: 'NCHW' },
    heads: [{ name: 'beard', type: 'binary', labels: ['no', 'yes'] }],
  });
  assert.equal(r.report.distributions, {
    bins: 4,
    features: [{ name: 'brightness', edges: [0.2, 0.5, 0.8], proportions: [0.25, 0.25, 0.25, 0.25] }],
    predictions: [{ head: 'beard', labels: ['no', 'yes'], proportions: [0.7, 0.3] }],
  });
  const garbage = parseValidationReport(report({ signature: 'x', distributions: { features: 'y' } }));
  assert.ok(garbage.ok && garbage.report.signature === undefined && garbage.report.distributions === undefined);
});

test('classifyValidationError: table of serving errors', () => {
  const cases: Array<[string, string]> = [
    [
      'modelship.json does not match model.onnx: heads.4.tensor "hair_color_missing" is not a graph output',
      'SignatureMismatch',
    ],
    ['training/serving skew: serving-path accuracy 0.5 is 0.4 below', 'TrainingServingSkew'],
    ['reference/labels.jsonl: missing in /m', 'InvalidArtifact'],
    ['failed to load model.onnx: protobuf parsing failed', 'LoadFailed'],
  ];
  for (const [error, want] of cases) assert.is(classifyValidationError(error), want, error);
});

test('skewCheck: one-sided gap against spec.metrics (report value as fallback), tolerance inclusive', () => {
  const cases: Array<
    [Partial<ModelVersion['spec']>, Record<string, unknown>, { gap: number; passed: boolean } | undefined]
  > = [
    [{}, { accuracy: 0.88 }, { gap: 0.02, passed: true }],
    [{}, { accuracy: 0.85 }, { gap: 0.05, passed: true }],
    [{}, { accuracy: 0.8 }, { gap: 0.1, passed: false }],
    [{}, { accuracy: 0.97 }, { gap: -0.07, passed: true }],
    [{ metrics: {} }, { accuracy: 0.6, trainingAccuracy: 0.7 }, { gap: 0.1, passed: false }],
    [{ metrics: {} }, { accuracy: 0.6, trainingAccuracy: null }, undefined],
    [{ validation: { skewTolerance: 0.2, activeDeadlineSeconds: 60 } }, { accuracy: 0.8 }, { gap: 0.1, passed: true }],
  ];
  for (const [spec, rep, want] of cases) {
    const parsed = parseValidationReport(report(rep));
    assert.ok(parsed.ok);
    const s = parsed.ok ? skewCheck(mv(spec), parsed.report) : undefined;
    assert.equal(s ? { gap: s.gap, passed: s.passed } : undefined, want, JSON.stringify([spec, rep]));
  }
});

test('verdictOf: table of observations and verdicts', () => {
  const cases: Array<{
    name: string;
    v?: ModelVersion;
    obs: Parameters<typeof verdictOf>[1];
    phase: ModelVersionPhase;
    reason: string;
  }> = [
    { name: 'no job yet', obs: {}, phase: 'Pending', reason: 'ValidationPending' },
    {
      name: 'running',
      obs: { job: { state: 'Running', reason: 'JobRunning', message: 'the pod is running' } },
      phase: 'Validating',
      reason: 'Validating',
    },
    {
      name: 'image pull',
      obs: { job: { state: 'Pending', reason: 'ErrImagePull', message: 'pod p: cannot pull' } },
      phase: 'Validating',
      reason: 'ErrImagePull',
    },
    { name: 'good report', obs: { job: done(report({})) }, phase: 'Ready', reason: 'Validated' },
    { name: 'skew', obs: { job: done(report({ accuracy: 0.7 })) }, phase: 'Rejected', reason: 'TrainingServingSkew' },
    {
      name: 'signature',
      obs: { job: done('{"ok":false,"error":"modelship.json does not match model.onnx: tensor x"}', 'Failed') },
      phase: 'Rejected',
      reason: 'SignatureMismatch',
    },
    {
      name: 'load failure',
      obs: { job: done('{"ok":false,"error":"cannot parse model.onnx"}', 'Failed') },
      phase: 'Rejected',
      reason: 'LoadFailed',
    },
    {
      name: 'digest',
      obs: { job: done(report({ digest: `sha256:${'00'.repeat(32)}` })) },
      phase: 'Rejected',
      reason: 'DigestMismatch',
    },
    {
      name: 'no digest declared',
      v: mv({ artifact: { uri: 'pvc://models/x' } }),
      obs: { job: done(report({ digest: `sha256:${'00'.repeat(32)}` })) },
      phase: 'Ready',
      reason: 'Validated',
    },
    {
      name: 'crash without report',
      obs: { job: done('Segmentation fault', 'Failed') },
      phase: 'Rejected',
      reason: 'ValidationJobFailed',
    },
    {
      name: 'deadline',
      obs: { job: { state: 'Failed', reason: 'DeadlineExceeded', message: 'too long' } },
      phase: 'Rejected',
      reason: 'ValidationJobFailed',
    },
    {
      name: 'success without report',
      obs: { job: done(undefined) },
      phase: 'Rejected',
      reason: 'InvalidValidationReport',
    },
    {
      name: 'unmountable artifact',
      obs: { invalidSpec: 'cannot mount' },
      phase: 'Rejected',
      reason: 'UnsupportedArtifactLocation',
    },
    { name: 'spec changed', obs: { specChanged: true }, phase: 'Rejected', reason: 'SpecChangedAfterValidation' },
  ];
  for (const c of cases) {
    const v = verdictOf(c.v ?? mv(), c.obs);
    assert.equal([v.phase, v.reason], [c.phase, c.reason], c.name);
    assert.ok(v.message.length > 5, `${c.name}: a message`);
  }
  assert.match(
    verdictOf(mv(), { job: done(report({ accuracy: 0.7 })) }).message,
    /0\.7 is 0\.2 below the offline 0\.9 \(tolerance 0\.05\)/,
  );
});

test('nextModelVersionPhase: table of transitions', () => {
  const cases: Array<[ModelVersionPhase | undefined, ModelVersionPhase, boolean, ModelVersionPhase]> = [
    [undefined, 'Pending', false, 'Pending'],
    [undefined, 'Validating', false, 'Validating'],
    ['Pending', 'Validating', false, 'Validating'],
    ['Validating', 'Pending', false, 'Validating'],
    ['Validating', 'Ready', false, 'Ready'],
    ['Validating', 'Rejected', false, 'Rejected'],
    ['Ready', 'Rejected', false, 'Ready'],
    ['Rejected', 'Ready', false, 'Rejected'],
    ['Ready', 'Ready', true, 'Rejected'],
    ['Validating', 'Validating', true, 'Rejected'],
  ];
  for (const [from, observed, changed, want] of cases)
    assert.is(nextModelVersionPhase(from, observed, changed), want, `${from} + ${observed} changed=${changed}`);
});

test('computeModelVersionStatus: Ready fills the measured fields, keeps servedBy, is stable when recomputed', () => {
  const served = [{ inferenceService: 'faces', role: 'stable' as const }];
  const v = mv({}, { phase: 'Validating', jobName: 'faces-v3-validate', servedBy: served });
  const s = computeModelVersionStatus(v, { job: done(report({})) }, NOW, {
    jobName: 'faces-v3-validate',
    specHash: specHashOf(v),
  });
  assert.is(s.phase, 'Ready');
  assert.equal(s.servedBy, served);
  assert.is(s.servingAccuracy, 0.88);
  assert.equal(s.servingMetrics, { accuracy: 0.88, 'beard.accuracy': 0.9, 'hair.accuracy': 0.86 });
  assert.equal(s.servingLatencyMs, { p50: 1.2, p95: 3.4 });
  assert.equal(s.signature, { heads: [{ name: 'beard' }, { name: 'hair' }] });
  assert.equal(s.profile, { samples: 80, uri: 'pvc://models/faces/r1/profile.json' });
  assert.equal(s.skew, { metric: 'accuracy', offline: 0.9, serving: 0.88, gap: 0.02, tolerance: 0.05, passed: true });
  assert.is(s.validatedAt, '2026-11-22T12:00:00Z');
  assert.equal(
    s.conditions?.map((c) => [c.type, c.status]),
    [
      ['Validated', 'True'],
      ['Ready', 'True'],
    ],
  );
  const later = computeModelVersionStatus({ ...v, status: s }, {}, new Date(NOW.getTime() + 60_000));
  assert.equal(later, s, 'a final status does not change on later reconciles');
  const tampered = computeModelVersionStatus(
    { ...v, spec: { ...v.spec, metrics: { accuracy: 0.99 } }, status: s },
    { specChanged: true },
    NOW,
  );
  assert.is(tampered.phase, 'Rejected');
  assert.equal(
    tampered.conditions?.map((c) => [c.type, c.status, c.reason]),
    [
      ['Validated', 'False', 'SpecChangedAfterValidation'],
      ['Ready', 'False', 'SpecChangedAfterValidation'],
    ],
  );
  assert.equal(
    modelVersionEvents(s, tampered).map((e) => [e.type, e.reason]),
    [['Warning', 'SpecChangedAfterValidation']],
  );
  assert.equal(
    modelVersionEvents(v.status, s).map((e) => [e.type, e.reason]),
    [['Normal', 'Validated']],
  );
  assert.equal(modelVersionEvents(s, s), []);
});

test.run();
