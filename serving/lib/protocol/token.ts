// predictionId tokens: self-contained and HMAC-signed, so feedback can be counted by any
// replica without shared state, and cannot be forged. Format:
//   v2.<key id>.<base64url payload JSON>.<base64url HMAC-SHA256(key, "v2.<key id>.<payload>")>
// payload: {m: model, v: version, c: {head: predicted label}, t: issued-at (unix s), n: nonce}
// Exactly one text is accepted per token: base64url without padding, the MAC's last character
// canonical. Node's decoder would otherwise take "=", "+", "/", trailing junk or spare low bits
// and hand back the same MAC, and each variant would be a "new" token to a memory keyed on text.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ServingError } from '../errors.js';
import { singleKeyRing, type KeyRing } from './keys.js';

export interface TokenClaims {
  model: string;
  version: string;
  classes: Record<string, string>;
  issuedAt: number;
  /** the decoded MAC: the token's identity for replay detection */
  mac: Buffer;
}

interface Payload {
  m: string;
  v: string;
  c: Record<string, string>;
  t: number;
  n: string;
}

const MAX_TOKEN_LENGTH = 8192;
/** v2.<kid>.<payload>.<43 base64url characters = 32 bytes> */
const TOKEN_SHAPE = /^v2\.([a-z0-9][a-z0-9-]{0,31})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/;
/** Clock skew between replicas that a token's issued-at may be ahead by. */
const ALLOWED_SKEW_S = 60;

export class TokenSigner {
  private readonly keys: KeyRing;

  constructor(
    keys: KeyRing | Buffer,
    readonly ttlSeconds: number,
  ) {
    this.keys = Buffer.isBuffer(keys) ? singleKeyRing(keys) : keys;
  }

  issue(model: string, version: string, classes: Record<string, string>, nowMs = Date.now()): string {
    const payload: Payload = {
      m: model,
      v: version,
      c: classes,
      t: Math.floor(nowMs / 1000),
      n: randomBytes(6).toString('base64url'),
    };
    const { id, key } = this.keys.primary();
    const signed = `v2.${id}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${signed}.${mac(key, signed).toString('base64url')}`;
  }

  /** Verifies shape, signature and lifetime; throws TOKEN_INVALID, TOKEN_FORGED or TOKEN_EXPIRED. */
  verify(token: unknown, nowMs = Date.now()): TokenClaims {
    const shape = typeof token === 'string' && token.length <= MAX_TOKEN_LENGTH ? TOKEN_SHAPE.exec(token) : null;
    if (!shape) throw new ServingError('TOKEN_INVALID', 'predictionId is not a prediction token');
    const [, kid, encoded, givenText] = shape;
    const given = Buffer.from(givenText, 'base64url');
    if (given.toString('base64url') !== givenText)
      throw new ServingError('TOKEN_INVALID', 'predictionId is not in its canonical encoding');
    const key = this.keys.byId(kid);
    if (!key) throw new ServingError('TOKEN_FORGED', `predictionId was signed with an unknown key "${kid}"`);
    const signed = (token as string).slice(0, -givenText.length - 1);
    if (!timingSafeEqual(given, mac(key, signed)))
      throw new ServingError('TOKEN_FORGED', 'predictionId signature does not verify');
    const payload = decodePayload(encoded);
    const now = Math.floor(nowMs / 1000);
    if (payload.t > now + ALLOWED_SKEW_S)
      throw new ServingError('TOKEN_INVALID', 'predictionId was issued in the future');
    if (now - payload.t > this.ttlSeconds) {
      throw new ServingError(
        'TOKEN_EXPIRED',
        `predictionId expired (issued ${now - payload.t}s ago, lifetime ${this.ttlSeconds}s)`,
      );
    }
    return { model: payload.m, version: payload.v, classes: payload.c, issuedAt: payload.t, mac: given };
  }
}

const mac = (key: Buffer, signed: string): Buffer => createHmac('sha256', key).update(signed).digest();

function decodePayload(encoded: string): Payload {
  let p: Payload;
  try {
    p = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch (err) {
    throw new ServingError('TOKEN_INVALID', 'predictionId payload is not JSON', { cause: err });
  }
  // A correctly signed token was written by us; this guards against a leaked key's typos only.
  if (
    !p ||
    typeof p.m !== 'string' ||
    typeof p.v !== 'string' ||
    typeof p.t !== 'number' ||
    typeof p.c !== 'object' ||
    p.c === null
  ) {
    throw new ServingError('TOKEN_INVALID', 'predictionId payload is malformed');
  }
  return p;
}
