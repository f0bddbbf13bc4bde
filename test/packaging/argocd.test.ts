// Argo CD: the Lua health checks run under the real lua5.1 against sample objects in every
// phase (and the conditions that refine a phase) and return the expected status; the argocd-cm
// snippet carries exactly these scripts; the Application examples point at real paths.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { REPO } from '../support/packaging.js';

type Obj = Record<string, any>;
const HEALTH_DIR = join(REPO, 'hack', 'argocd', 'health');
const KINDS = ['TrainingRun', 'ModelVersion', 'InferenceService'] as const;
type Kind = (typeof KINDS)[number];

/** A JSON value as a Lua table constructor (what Argo CD hands the script as `obj`). */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return JSON.stringify(value); // JSON string escapes are valid Lua escapes for these samples
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  return `{${Object.entries(value as Obj)
    .map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`)
    .join(', ')}}`;
}

interface Health {
  status: string;
  message: string;
}

/** Runs one kind's script on each object in one lua5.1 process. */
function health(kind: Kind, objects: Obj[]): Health[] {
  const script = join(HEALTH_DIR, `${kind.toLowerCase()}.lua`);
  const program = [
    `local chunk = assert(loadfile(${JSON.stringify(script)}))`,
    ...objects.map(
      (o) => `obj = ${toLua(o)}\nlocal hs = chunk()\nio.write(tostring(hs.status), "\\t", tostring(hs.message), "\\n")`,
    ),
  ].join('\n');
  const r = spawnSync('lua5.1', ['-'], { input: program, encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return r.stdout
    .trimEnd()
    .split('\n')
    .map((l) => {
      const [status, message] = l.split('\t');
      return { status, message };
    });
}

const meta = (generation = 1) => ({ name: 'x', namespace: 'ml', generation });
const cond = (type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

const CASES: Record<Kind, Array<[string, Obj, string, RegExp]>> = {
  TrainingRun: [
    ['no status yet', { metadata: meta() }, 'Progressing', /Waiting for the operator/],
    [
      'status of an older generation',
      { metadata: meta(2), status: { phase: 'Succeeded', observedGeneration: 1 } },
      'Progressing',
      /generation 2/,
    ],
    [
      'Pending',
      {
        metadata: meta(),
        status: {
          phase: 'Pending',
          observedGeneration: 1,
          conditions: [cond('Succeeded', 'Unknown', 'JobPending', 'waiting for the pod to be scheduled and started')],
        },
      },
      'Progressing',
      /Pending: waiting for the pod/,
    ],
    [
      'Running',
      {
        metadata: meta(),
        status: {
          phase: 'Running',
          observedGeneration: 1,
          conditions: [cond('Succeeded', 'Unknown', 'JobRunning', 'the pod is running')],
        },
      },
      'Progressing',
      /Running/,
    ],
    [
      'Succeeded, registering',
      {
        metadata: meta(),
        status: {
          phase: 'Succeeded',
          observedGeneration: 1,
          conditions: [
            cond('Succeeded', 'True', 'Completed', 'done'),
            cond('Registered', 'Unknown', 'Registering', 'registering ModelVersion faces-v3'),
          ],
        },
      },
      'Progressing',
      /registering ModelVersion faces-v3/,
    ],
    [
      'Succeeded, registered',
      {
        metadata: meta(),
        status: {
          phase: 'Succeeded',
          observedGeneration: 1,
          conditions: [
            cond('Succeeded', 'True', 'Completed', 'done'),
            cond('Registered', 'True', 'Registered', 'registered ModelVersion faces-v3'),
          ],
        },
      },
      'Healthy',
      /registered ModelVersion faces-v3/,
    ],
    [
      'Succeeded, registration disabled',
      {
        metadata: meta(),
        status: {
          phase: 'Succeeded',
          observedGeneration: 1,
          conditions: [cond('Registered', 'False', 'RegistrationDisabled', 'spec.registration.enabled is false')],
        },
      },
      'Healthy',
      /registration\.enabled is false/,
    ],
    [
      'Succeeded, gates failed',
      {
        metadata: meta(),
        status: {
          phase: 'Succeeded',
          observedGeneration: 1,
          conditions: [cond('Registered', 'False', 'GatesFailed', 'not registered: accuracy 0.71 < 0.8')],
        },
      },
      'Degraded',
      /accuracy 0\.71 < 0\.8/,
    ],
    [
      'Failed',
      {
        metadata: meta(),
        status: {
          phase: 'Failed',
          observedGeneration: 1,
          conditions: [cond('Succeeded', 'False', 'BackoffLimitExceeded', 'the trainer failed: DataError')],
        },
      },
      'Degraded',
      /Training failed: the trainer failed: DataError/,
    ],
  ],
  ModelVersion: [
    ['no status yet', { metadata: meta() }, 'Progressing', /Waiting for the operator to validate/],
    ['Pending', { metadata: meta(), status: { phase: 'Pending', observedGeneration: 1 } }, 'Progressing', /^Pending$/],
    [
      'Validating',
      {
        metadata: meta(),
        status: {
          phase: 'Validating',
          observedGeneration: 1,
          conditions: [cond('Validated', 'Unknown', 'Validating', 'validation Job faces-v3-validate is running')],
        },
      },
      'Progressing',
      /Validating: validation Job/,
    ],
    [
      'Ready',
      {
        metadata: meta(),
        status: {
          phase: 'Ready',
          observedGeneration: 1,
          conditions: [
            cond('Validated', 'True', 'Validated', 'validated on 200 reference samples'),
            cond('Ready', 'True', 'Validated', 'the version may take traffic'),
          ],
        },
      },
      'Healthy',
      /Validated: validated on 200/,
    ],
    [
      'Rejected',
      {
        metadata: meta(),
        status: {
          phase: 'Rejected',
          observedGeneration: 1,
          conditions: [cond('Validated', 'False', 'TrainingServingSkew', 'serving accuracy 0.62 vs training 0.91')],
        },
      },
      'Degraded',
      /Rejected: serving accuracy 0\.62/,
    ],
  ],
  InferenceService: [
    ['no status yet', { metadata: meta() }, 'Progressing', /Waiting for the operator to deploy/],
    [
      'status of an older generation',
      { metadata: meta(3), status: { phase: 'Serving', observedGeneration: 2 } },
      'Progressing',
      /generation 3/,
    ],
    [
      'Initializing',
      {
        metadata: meta(),
        status: {
          phase: 'Initializing',
          observedGeneration: 1,
          conditions: [cond('Ready', 'False', 'NoReadyVersion', 'waiting for a Ready ModelVersion of faces')],
        },
      },
      'Progressing',
      /Initializing: waiting for a Ready ModelVersion/,
    ],
    [
      'Serving',
      {
        metadata: meta(),
        status: {
          phase: 'Serving',
          observedGeneration: 1,
          stable: { version: 3, weight: 100, readyReplicas: 2 },
          conditions: [cond('Ready', 'True', 'Serving', 'v3 serves')],
        },
      },
      'Healthy',
      /Serving v3/,
    ],
    [
      'Serving, stable pods not ready yet',
      {
        metadata: meta(),
        status: {
          phase: 'Serving',
          observedGeneration: 1,
          conditions: [cond('Ready', 'False', 'PodsNotReady', '0/2 stable pods ready')],
        },
      },
      'Progressing',
      /0\/2 stable pods ready/,
    ],
    [
      'Serving with the Degraded condition (critical drift)',
      {
        metadata: meta(),
        status: {
          phase: 'Serving',
          observedGeneration: 1,
          conditions: [
            cond('Ready', 'True', 'Serving', 'ok'),
            cond('Degraded', 'True', 'DriftCritical', 'drift 0.31 above 0.25'),
          ],
        },
      },
      'Degraded',
      /drift 0\.31/,
    ],
    [
      'Progressing (canary)',
      {
        metadata: meta(),
        status: {
          phase: 'Progressing',
          observedGeneration: 1,
          canary: { version: 4, weight: 25, step: 1 },
          conditions: [
            cond('Ready', 'True', 'Serving', 'ok'),
            cond('Progressing', 'True', 'CanaryStep', 'step 2 of 3'),
          ],
        },
      },
      'Progressing',
      /canary v4 at 25%\): step 2 of 3/,
    ],
    [
      'Promoting',
      {
        metadata: meta(),
        status: {
          phase: 'Promoting',
          observedGeneration: 1,
          conditions: [
            cond('Ready', 'True', 'Serving', 'ok'),
            cond('Progressing', 'True', 'Promoting', 'moving stable to v4'),
          ],
        },
      },
      'Progressing',
      /Promoting.*moving stable to v4/,
    ],
    [
      'RolledBack, stable serving',
      {
        metadata: meta(),
        status: {
          phase: 'RolledBack',
          observedGeneration: 1,
          conditions: [
            cond('Ready', 'True', 'Serving', 'ok'),
            cond('Degraded', 'True', 'RolledBack', 'v4 rolled back: accuracy 0.78 < 0.8'),
          ],
        },
      },
      'Suspended',
      /v4 rolled back: accuracy/,
    ],
    [
      'RolledBack, stable not ready',
      {
        metadata: meta(),
        status: {
          phase: 'RolledBack',
          observedGeneration: 1,
          conditions: [cond('Ready', 'False', 'PodsNotReady', '0/2 ready')],
        },
      },
      'Degraded',
      /Rolled back and the stable version is not ready/,
    ],
    [
      'Degraded',
      {
        metadata: meta(),
        status: {
          phase: 'Degraded',
          observedGeneration: 1,
          conditions: [cond('Ready', 'False', 'PodsNotReady', 'no stable pod is ready: CrashLoopBackOff')],
        },
      },
      'Degraded',
      /CrashLoopBackOff/,
    ],
    [
      'Failed',
      {
        metadata: meta(),
        status: {
          phase: 'Failed',
          observedGeneration: 1,
          conditions: [cond('Degraded', 'True', 'ArtifactNotMountable', 'artifact s3://x cannot be mounted')],
        },
      },
      'Degraded',
      /Failed: artifact s3:\/\/x cannot be mounted/,
    ],
  ],
};

for (const kind of KINDS) {
  test(`${kind} health under lua5.1: ${CASES[kind].length} samples`, () => {
    const results = health(
      kind,
      CASES[kind].map(([, o]) => ({ apiVersion: 'modelship.dev/v1alpha1', kind, ...o })),
    );
    assert.is(results.length, CASES[kind].length);
    CASES[kind].forEach(([name, , status, message], i) => {
      assert.is(results[i].status, status, `${kind} ${name}: ${results[i].message}`);
      assert.match(results[i].message, message, `${kind} ${name}`);
    });
  });
}

test('every phase of every CRD is covered by a sample', () => {
  for (const kind of KINDS) {
    const crd = yaml.load(readFileSync(join(REPO, 'crds', `${kind.toLowerCase()}s.yaml`), 'utf8')) as Obj;
    const phases = crd.spec.versions[0].schema.openAPIV3Schema.properties.status.properties.phase.enum as string[];
    const covered = new Set(CASES[kind].map(([, o]) => o.status?.phase));
    for (const p of phases) assert.ok(covered.has(p), `${kind} phase ${p} has no sample`);
  }
});

test('the argocd-cm snippet carries exactly the tested scripts', () => {
  const cm = yaml.load(readFileSync(join(REPO, 'examples', 'argocd', 'argocd-cm.yaml'), 'utf8')) as Obj;
  assert.is(cm.kind, 'ConfigMap');
  assert.is(cm.metadata.name, 'argocd-cm');
  for (const kind of KINDS) {
    const key = `resource.customizations.health.modelship.dev_${kind}`;
    assert.is(cm.data[key], readFileSync(join(HEALTH_DIR, `${kind.toLowerCase()}.lua`), 'utf8'), key);
  }
});

test('the Application examples point at paths that exist in this repository', () => {
  for (const file of ['application-chart.yaml', 'application-model.yaml']) {
    const app = yaml.load(readFileSync(join(REPO, 'examples', 'argocd', file), 'utf8')) as Obj;
    assert.is(app.apiVersion, 'argoproj.io/v1alpha1');
    assert.is(app.kind, 'Application');
    assert.ok(existsSync(join(REPO, app.spec.source.path)), `${file}: ${app.spec.source.path}`);
    assert.ok(app.spec.destination.namespace, `${file}: destination namespace`);
  }
  const model = readFileSync(join(REPO, 'examples', 'argocd', 'face-attributes', 'inferenceservice.yaml'), 'utf8');
  assert.match(model, /kind: InferenceService/);
});

test.run();
