// Prediction tokens and the replay memory, with a controlled clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServingError } from '../../serving/lib/errors.js';
import { judgeFeedback } from '../../serving/lib/protocol/feedback.js';
import { parseSignature } from '../../serving/lib/model/schema.js';
import { SeenSet, TokenSigner } from '../../serving/lib/protocol/token.js';

const key = Buffer.alloc(32, 1);
const signer = new TokenSigner(key, 3600);
const T0 = Date.UTC(2026, 0, 1);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as ServingError).code;
  }
  return 'accepted';
}

test('a token round-trips its claims and is unique per prediction', () => {
  const a = signer.issue('m', 'v2', { beard: 'yes' }, T0);
  const b = signer.issue('m', 'v2', { beard: 'yes' }, T0);
  assert.is.not(a, b);
  assert.equal(signer.verify(a, T0 + 1000), {
    model: 'm',
    version: 'v2',
    classes: { beard: 'yes' },
    issuedAt: T0 / 1000,
  });
});

test('forged, expired, future and malformed tokens are refused with distinct codes', () => {
  const token = signer.issue('m', 'v2', { beard: 'no' }, T0);
  const [p, payload, mac] = token.split('.');
  const flipped = mac.slice(0, -2) + (mac.endsWith('AA') ? 'BB' : 'AA');
  const forgedPayload = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), c: { beard: 'yes' } }),
  ).toString('base64url');
  const cases: Array<[string, unknown, number, string]> = [
    ['valid until its lifetime ends', token, T0 + 3600_000, 'accepted'],
    ['expired one second later', token, T0 + 3601_000, 'TOKEN_EXPIRED'],
    ['signature changed', `${p}.${payload}.${flipped}`, T0, 'TOKEN_FORGED'],
    ['payload changed', `${p}.${forgedPayload}.${mac}`, T0, 'TOKEN_FORGED'],
    ['other key', new TokenSigner(Buffer.alloc(32, 2), 3600).issue('m', 'v2', {}, T0), T0, 'TOKEN_FORGED'],
    ['issued in the future', signer.issue('m', 'v2', {}, T0 + 3600_000), T0, 'TOKEN_INVALID'],
    ['not a string', 42, T0, 'TOKEN_INVALID'],
    ['wrong prefix', 'v2.abc.def', T0, 'TOKEN_INVALID'],
    ['huge', 'v1.' + 'a'.repeat(10_000), T0, 'TOKEN_INVALID'],
  ];
  for (const [name, t, now, expected] of cases)
    assert.is(
      code(() => signer.verify(t, now)),
      expected,
      name,
    );
});

test('seen-set: remembers until expiry, evicts the oldest when full', () => {
  const seen = new SeenSet(2);
  seen.add('a', T0 + 10, T0);
  assert.ok(seen.has('a', T0 + 5));
  assert.not.ok(seen.has('a', T0 + 10));
  seen.add('b', T0 + 100, T0);
  seen.add('c', T0 + 100, T0);
  assert.is(seen.size, 2);
  assert.not.ok(seen.has('a', T0), 'evicted');
  seen.add('d', T0 + 100, T0 + 50);
  assert.ok(seen.has('c', T0 + 50) && seen.has('d', T0 + 50));
  assert.not.ok(seen.has('b', T0 + 50));
});

const sig = parseSignature({
  schemaVersion: 1,
  name: 'm',
  input: { kind: 'tensor', tensor: 'x', dtype: 'float32', features: ['a'] },
  heads: [
    { name: 'beard', tensor: 'beard', type: 'binary', labels: ['no', 'yes'], activation: 'sigmoid' },
    { name: 'hair', tensor: 'hair', type: 'multiclass', labels: ['black', 'red', 'gray'], activation: 'softmax' },
  ],
});

test('feedback judgement: outcomes, per-head replay, unknown labels do not consume the token', () => {
  const seen = new SeenSet(100);
  const token = signer.issue('m', 'v1', { beard: 'yes', hair: 'red' }, T0);
  assert.is(
    code(() =>
      judgeFeedback(
        { predictionId: token, labels: { hair: 'blue' } },
        { signature: sig, modelName: 'm', signer, seen },
        T0,
      ),
    ),
    'UNKNOWN_LABEL',
  );
  assert.equal(
    judgeFeedback(
      { predictionId: token, labels: { beard: 'yes', hair: 'gray' } },
      { signature: sig, modelName: 'm', signer, seen },
      T0,
    ),
    { version: 'v1', accepted: { beard: 'correct', hair: 'incorrect' } },
  );
  assert.is(
    code(() =>
      judgeFeedback(
        { predictionId: token, labels: { beard: 'no' } },
        { signature: sig, modelName: 'm', signer, seen },
        T0 + 1000,
      ),
    ),
    'ALREADY_COUNTED',
  );
  assert.is(
    code(() =>
      judgeFeedback(
        { predictionId: token, labels: { beard: 'no' } },
        { signature: sig, modelName: 'other', signer, seen },
        T0,
      ),
    ),
    'TOKEN_FORGED',
  );
  const partial = signer.issue('m', 'v1', { beard: 'no' }, T0);
  assert.is(
    code(() =>
      judgeFeedback(
        { predictionId: partial, labels: { hair: 'red' } },
        { signature: sig, modelName: 'm', signer, seen },
        T0,
      ),
    ),
    'UNKNOWN_LABEL',
  );
});

test.run();
