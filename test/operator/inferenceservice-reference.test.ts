// Where the operator gets a version's reference profile: the status distributions first, else
// profile.json from a model server serving the version, over HTTP (never from a volume),
// accepted only with the version's digest and cached once accepted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { profileUrl, referenceResolver } from '../../operator/controllers/inferenceservice/reference.js';
import type { ModelVersion } from '../../operator/api/index.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const mv = (extra: Partial<ModelVersion['status']> = {}): ModelVersion =>
  ({
    apiVersion: 'modelship.dev/v1alpha1',
    kind: 'ModelVersion',
    metadata: { name: 'faces-v2', namespace: 'ml', uid: 'u-2' },
    spec: { model: 'faces', version: 2, artifact: { uri: 'pvc://models/faces/v2', format: 'onnx', digest: DIGEST } },
    status: { ...extra },
  }) as unknown as ModelVersion;
const profileJson = (digest: string) => ({
  digest,
  features: { brightness: { counts: [2, 6, 2] } },
  heads: { smile: { classes: { yes: 4, no: 6 } } },
});

function fetcher(answers: Array<unknown>) {
  const urls: string[] = [];
  return {
    urls,
    fetch: async (url: string) => {
      urls.push(url);
      const next = answers.shift();
      if (next instanceof Error) throw next;
      return next;
    },
  };
}

test("profile URL: the model's profile route on the role Service", () => {
  assert.is(profileUrl('http://10.0.0.7:80/', mv()), 'http://10.0.0.7:80/v2/models/faces/profile');
});

test('status distributions win; nothing is fetched', async () => {
  const f = fetcher([]);
  const resolve = referenceResolver({ fetchProfile: f.fetch });
  const status = {
    profile: {
      bins: 3,
      features: [{ name: 'brightness', edges: [0.3, 0.6], proportions: [0.2, 0.6, 0.2] }],
      predictions: [],
    },
  };
  const ref = await resolve(mv(status as never), 'http://10.0.0.7:80');
  assert.ok(ref?.features.brightness);
  assert.equal(f.urls, []);
});

const cases: Array<{ name: string; source?: string; answers: unknown[]; want: boolean; fetches: number }> = [
  { name: 'no server serving the version yet', answers: [], want: false, fetches: 0 },
  { name: 'server unreachable', source: 'http://s', answers: [new Error('ECONNREFUSED')], want: false, fetches: 1 },
  {
    name: 'another version answered (promotion in progress)',
    source: 'http://s',
    answers: [profileJson(`sha256:${'b'.repeat(64)}`)],
    want: false,
    fetches: 1,
  },
  { name: "the version's own profile", source: 'http://s', answers: [profileJson(DIGEST)], want: true, fetches: 1 },
];

for (const c of cases) {
  test(`fetched profile: ${c.name}`, async () => {
    const f = fetcher([...c.answers]);
    const ref = await referenceResolver({ fetchProfile: f.fetch })(mv(), c.source);
    assert.is(ref !== undefined, c.want);
    assert.is(f.urls.length, c.fetches);
    if (c.want) assert.equal(ref?.features.brightness, [2, 6, 2]);
  });
}

test('an accepted profile is cached per version; a refused one is asked again', async () => {
  const f = fetcher([profileJson(`sha256:${'b'.repeat(64)}`), profileJson(DIGEST)]);
  const resolve = referenceResolver({ fetchProfile: f.fetch });
  assert.is(await resolve(mv(), 'http://s'), undefined);
  assert.ok(await resolve(mv(), 'http://s'));
  assert.ok(await resolve(mv(), 'http://s'));
  assert.is(f.urls.length, 2);
});

test.run();
