// Feedback decides promotions, so with credentials configured only a holder of one can send it;
// and the signing keys are read from a mounted Secret directory that can be rotated.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DirectoryKeyRing } from '../../serving/lib/protocol/keys.js';
import { fixtureModels, parseMetrics, startApp, type RunningApp } from './support/fixtures.js';

const test = suite('serve: feedback credential and key rotation');
const CREDENTIAL = 'app-credential-0123456789abcdef';
let dir: string;
let srv: RunningApp;

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'feedback-credentials-'));
  writeFileSync(join(dir, 'c1'), `${CREDENTIAL}\n`);
  writeFileSync(join(dir, '..data'), 'not a key: the Secret volume link');
  srv = await startApp(fixtureModels().iris, { version: 'v3', feedbackCredentials: new DirectoryKeyRing(dir) });
});
test.after(async () => {
  await srv.close();
  rmSync(dir, { recursive: true, force: true });
});

async function predictionId(): Promise<string> {
  const res = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { features: [5.1, 3.5, 1.4, 0.2] } }),
  });
  return ((await res.json()) as { predictions: { predictionId: string }[] }).predictions[0].predictionId;
}

const feedback = (id: string, authorization?: string) =>
  fetch(`${srv.url}/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ predictionId: id, labels: { species: 'setosa' } }),
  });

const counted = async () =>
  parseMetrics(await (await fetch(`${srv.url}/metrics`)).text())('modelship_feedback_total', {
    version: 'v3',
    head: 'species',
    outcome: 'correct',
  }) ?? 0;

test('without the credential feedback is refused 401, counts nothing and does not use the token', async () => {
  const id = await predictionId();
  for (const authorization of [undefined, 'Bearer wrong-credential-0123456789', `Basic ${CREDENTIAL}`, 'Bearer']) {
    const res = await feedback(id, authorization);
    assert.is(res.status, 401, String(authorization));
    assert.is(res.headers.get('www-authenticate'), 'Bearer realm="modelship-feedback"');
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.is(body.error.code, 'UNAUTHENTICATED');
  }
  assert.is(await counted(), 0);
  const res = await feedback(id, `Bearer ${CREDENTIAL}`);
  assert.is(res.status, 200);
  assert.is(await counted(), 1);
});

test('a credential added to the directory is accepted after a reload, the old one until removed', () => {
  let now = 0;
  const ring = new DirectoryKeyRing(dir, { now: () => now });
  writeFileSync(join(dir, 'c2'), 'second-credential-0123456789abcdef');
  assert.is(ring.all().length, 1, 'read again only after the reload interval');
  now = 10_000;
  assert.is(ring.all().length, 2);
  rmSync(join(dir, 'c2'));
});

test('a half-written rotation keeps the last good keys', () => {
  let now = 0;
  const errors: string[] = [];
  const ring = new DirectoryKeyRing(dir, { signing: true, onError: (err) => errors.push(err.message), now: () => now });
  writeFileSync(join(dir, 'primary'), 'k7');
  now = 10_000;
  assert.is(ring.primary().id, 'c1');
  assert.match(errors[0], /primary names "k7", which is not one of the keys/);
  rmSync(join(dir, 'primary'));
});

test.run();
