// What a TrainingRun may name beyond itself: nothing unless the operator's allowlist lists it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TrainingRunSpec } from '../../operator/api/index.js';
import { referencedSecrets, refusedReferences } from '../../operator/controllers/trainingrun/allowlist.js';

const spec = (extra: Partial<TrainingRunSpec> = {}): TrainingRunSpec =>
  ({
    model: 'faces',
    image: 'trainer:1',
    dataset: { uri: 'pvc://data/faces' },
    output: { uri: 'pvc://models/faces' },
    ...extra,
  }) as TrainingRunSpec;

const S3 = {
  dataset: { uri: 's3://data/faces', secretRef: { name: 'data-s3' } },
  output: { uri: 's3://models/', secretRef: { name: 'models-s3' } },
};
const TOKEN_ENV = {
  env: [
    { name: 'HF', valueFrom: { secretKeyRef: { name: 'hf-token', key: 'token' } } },
    { name: 'A', value: 'b' },
  ],
};

test('referencedSecrets: env secretKeyRef, dataset and output secretRef, each once', () => {
  assert.equal(referencedSecrets(spec()), []);
  assert.equal(referencedSecrets(spec({ ...S3, ...TOKEN_ENV } as Partial<TrainingRunSpec>)), [
    'hf-token',
    'data-s3',
    'models-s3',
  ]);
  const same = {
    dataset: { ...S3.dataset, secretRef: { name: 'one' } },
    output: { ...S3.output, secretRef: { name: 'one' } },
  };
  assert.equal(referencedSecrets(spec(same as Partial<TrainingRunSpec>)), ['one']);
});

test('refusedReferences: table of specs against allowlists', () => {
  const cases: Array<[string, Partial<TrainingRunSpec>, Parameters<typeof refusedReferences>[1], RegExp | undefined]> =
    [
      ['naming nothing needs nothing', {}, {}, undefined],
      [
        'a service account, by default',
        { serviceAccountName: 'admin-sa' },
        {},
        /service account "admin-sa" \(trainingRunAllowlist\.serviceAccounts\)/,
      ],
      ['a listed service account', { serviceAccountName: 'trainer' }, { serviceAccounts: ['trainer'] }, undefined],
      [
        'a priority class, by default',
        { priorityClassName: 'system-cluster-critical' },
        {},
        /priority class "system-cluster-critical"/,
      ],
      ['a listed priority class', { priorityClassName: 'batch-low' }, { priorityClasses: ['batch-low'] }, undefined],
      [
        'S3 credentials not listed',
        S3 as Partial<TrainingRunSpec>,
        { secrets: ['data-s3'] },
        /Secret "models-s3" \(trainingRunAllowlist\.secrets\)/,
      ],
      ['S3 credentials listed', S3 as Partial<TrainingRunSpec>, { secrets: ['data-s3', 'models-s3'] }, undefined],
      [
        'an env Secret not listed',
        TOKEN_ENV as Partial<TrainingRunSpec>,
        { secrets: ['models-s3'] },
        /Secret "hf-token"/,
      ],
      [
        'a name allowed for another kind',
        { serviceAccountName: 'hf-token' },
        { secrets: ['hf-token'] },
        /service account "hf-token"/,
      ],
    ];
  for (const [name, extra, allow, want] of cases) {
    const got = refusedReferences(spec(extra), allow);
    if (want) assert.match(got ?? '', want, name);
    else assert.is(got, undefined, name);
  }
  const all = refusedReferences(
    spec({ serviceAccountName: 'a', priorityClassName: 'b', ...TOKEN_ENV } as Partial<TrainingRunSpec>),
    {},
  );
  assert.match(all ?? '', /service account "a".*priority class "b".*Secret "hf-token"/);
  assert.match(all ?? '', /Helm chart value/, 'says how to fix it');
});

test.run();
