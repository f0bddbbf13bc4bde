// Prediction tokens and the replay memory, with a controlled clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ServingError } from '../../serving/lib/errors.js';
import { judgeFeedback } from '../../serving/lib/protocol/feedback.js';
import { parseSignature } from '../../serving/lib/model/schema.js';
import { ReplayMemory } from '../../serving/lib/protocol/replay.js';
import { TokenSigner } from '../../serving/lib/protocol/token.js';
import type { KeyRing } from '../../serving/lib/protocol/keys.js';

const key = Buffer.alloc(32, 1);
const signer = new TokenSigner(key, 3600);
const T0 = Date.UTC(2026, 0, 1);

const sig = parseSignature({
  schemaVersion: 1,
  name: 'm',
  input: { kind: 'tensor', tensor: 'x', dtype: 'float32', features: ['a'] },
  heads: [
    { name: 'beard', tensor: 'beard', type: 'binary', labels: ['no', 'yes'], activation: 'sigmoid' },
    { name: 'hair', tensor: 'hair', type: 'multiclass', labels: ['black', 'red', 'gray'], activation: 'softmax' },
  ],
});

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
  const { mac, ...claims } = signer.verify(a, T0 + 1000);
  assert.equal(claims, { model: 'm', version: 'v2', classes: { beard: 'yes' }, issuedAt: T0 / 1000 });
  assert.is(mac.toString('base64url'), a.slice(a.lastIndexOf('.') + 1));
});

test('forged, expired, future and malformed tokens are refused with distinct codes', () => {
  const token = signer.issue('m', 'v2', { beard: 'no' }, T0);
  const [p, kid, payload, mac] = token.split('.');
  const flipped = mac.slice(0, -2) + (mac.endsWith('AA') ? 'BB' : 'AA');
  const forgedPayload = Buffer.from(
    JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), c: { beard: 'yes' } }),
  ).toString('base64url');
  const cases: Array<[string, unknown, number, string]> = [
    ['valid until its lifetime ends', token, T0 + 3600_000, 'accepted'],
    ['expired one second later', token, T0 + 3601_000, 'TOKEN_EXPIRED'],
    ['signature changed', `${p}.${kid}.${payload}.${flipped}`, T0, 'TOKEN_FORGED'],
    ['payload changed', `${p}.${kid}.${forgedPayload}.${mac}`, T0, 'TOKEN_FORGED'],
    ['unknown key id', `${p}.k9.${payload}.${mac}`, T0, 'TOKEN_FORGED'],
    ['the old format', `v1.${payload}.${mac}`, T0, 'TOKEN_INVALID'],
    ['other key', new TokenSigner(Buffer.alloc(32, 2), 3600).issue('m', 'v2', {}, T0), T0, 'TOKEN_FORGED'],
    ['issued in the future', signer.issue('m', 'v2', {}, T0 + 3600_000), T0, 'TOKEN_INVALID'],
    ['not a string', 42, T0, 'TOKEN_INVALID'],
    ['wrong prefix', 'v3.default.abc.def', T0, 'TOKEN_INVALID'],
    ['huge', `v2.default.${'a'.repeat(10_000)}.${mac}`, T0, 'TOKEN_INVALID'],
  ];
  for (const [name, t, now, expected] of cases)
    assert.is(
      code(() => signer.verify(t, now)),
      expected,
      name,
    );
});

/** Texts that Node's base64url decoder maps to the same MAC as the genuine token. */
function variantsOf(token: string): Record<string, string> {
  const mac = token.slice(token.lastIndexOf('.') + 1);
  const body = token.slice(0, token.lastIndexOf('.') + 1);
  const std = Buffer.from(mac, 'base64url').toString('base64');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  // 32 bytes take 43 characters, the last carrying 4 bits and 2 spare ones that decoders drop.
  const last = alphabet.indexOf(mac.at(-1)!);
  return {
    'padding appended': `${token}=`,
    'bang appended': `${token}!`,
    'space appended': `${token} `,
    'standard alphabet': body + std.replace(/=+$/, ''),
    'standard alphabet, padded': body + std,
    'spare low bits set': body + mac.slice(0, -1) + alphabet[last | 1],
    'a line break inside': body + mac.slice(0, 20) + '\n' + mac.slice(20),
  };
}

test('every re-encoding of a genuine token is refused, so feedback counts once', () => {
  const memory = new ReplayMemory(100);
  // One whose MAC has a "-" or "_", so that the standard alphabet spells it differently.
  let token = signer.issue('m', 'v1', { beard: 'yes' }, T0);
  while (!/[-_]/.test(token.slice(token.lastIndexOf('.')))) token = signer.issue('m', 'v1', { beard: 'yes' }, T0);
  const ctx = { signature: sig, modelName: 'm', signer, seen: memory };
  assert.is(
    code(() => judgeFeedback({ predictionId: token, labels: { beard: 'yes' } }, ctx, T0)),
    'accepted',
  );
  const variants = variantsOf(token);
  for (const [name, variant] of Object.entries(variants)) {
    assert.is.not(variant, token, name);
    assert.ok(
      Buffer.from(variant.slice(variant.lastIndexOf('.') + 1), 'base64url').equals(
        Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url'),
      ) ||
        name === 'bang appended' ||
        name === 'space appended',
      `${name} decodes to the genuine MAC`,
    );
    const outcome = code(() => judgeFeedback({ predictionId: variant, labels: { beard: 'yes' } }, ctx, T0));
    assert.ok(outcome === 'TOKEN_INVALID' || outcome === 'ALREADY_COUNTED', `${name}: ${outcome}`);
  }
  assert.is(memory.size, 1, 'one entry: the genuine token, counted once');
});

test('replay memory: keyed on the MAC and head, refuses rather than forgets when full', () => {
  const memory = new ReplayMemory(2);
  const mac = Buffer.alloc(32, 7);
  const [a, b, c] = [0, 1, 2].map((head) => ReplayMemory.key(mac, head));
  assert.is(a.length, 17, 'a fixed size whatever the token text');
  assert.is.not(a, b);
  memory.add(a, T0 + 10);
  assert.ok(memory.has(a, T0 + 5));
  assert.not.ok(memory.has(a, T0 + 10), 'expired with its token');
  memory.reserve(1, T0 + 10);
  memory.add(b, T0 + 100);
  memory.add(c, T0 + 100);
  let refused: ServingError | undefined;
  try {
    memory.reserve(1, T0 + 50);
  } catch (err) {
    refused = err as ServingError;
  }
  assert.is(refused?.code, 'OVERLOADED');
  assert.is(refused?.retryAfterSeconds, 1);
  assert.ok(memory.has(b, T0 + 50) && memory.has(c, T0 + 50), 'nothing forgotten before it expires');
  memory.reserve(2, T0 + 100);
  assert.is(memory.size, 0);
});

test('key rotation: a token signed by the old key verifies while that key is kept', () => {
  const keys = new Map([['k1', Buffer.alloc(32, 1)]]);
  let primary = 'k1';
  const ring: KeyRing = { primary: () => ({ id: primary, key: keys.get(primary)! }), byId: (id) => keys.get(id) };
  const rotating = new TokenSigner(ring, 3600);
  const old = rotating.issue('m', 'v1', {}, T0);
  keys.set('k2', Buffer.alloc(32, 2));
  primary = 'k2';
  const fresh = rotating.issue('m', 'v1', {}, T0);
  assert.match(old, /^v2\.k1\./);
  assert.match(fresh, /^v2\.k2\./);
  assert.is(
    code(() => rotating.verify(old, T0)),
    'accepted',
  );
  assert.is(
    code(() => rotating.verify(fresh, T0)),
    'accepted',
  );
  keys.delete('k1');
  assert.is(
    code(() => rotating.verify(old, T0)),
    'TOKEN_FORGED',
  );
});

test('feedback judgement: outcomes, per-head replay, unknown labels do not consume the token', () => {
  const seen = new ReplayMemory(100);
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
