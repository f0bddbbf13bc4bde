// predictionId tokens: self-contained and HMAC-signed, so feedback can be counted by any
// replica without shared state, and cannot be forged. Format (all base64url):
//   v1.<payload JSON>.<HMAC-SHA256(key, "v1." + payload)>
// payload: {m: model, v: version, c: {head: predicted label}, t: issued-at (unix s), n: nonce}
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ServingError } from '../errors.js';

export interface TokenClaims {
  model: string;
  version: string;
  classes: Record<string, string>;
  issuedAt: number;
}

interface Payload {
  m: string;
  v: string;
  c: Record<string, string>;
  t: number;
  n: string;
}

const PREFIX = 'v1.';
const MAX_TOKEN_LENGTH = 8192;
/** Clock skew between replicas that a token's issued-at may be ahead by. */
const ALLOWED_SKEW_S = 60;

export class TokenSigner {
  constructor(
    private readonly key: Buffer,
    readonly ttlSeconds: number,
  ) {
    if (key.length < 16) throw new Error('feedback key must be at least 16 bytes');
  }

  private mac(signed: string): Buffer {
    return createHmac('sha256', this.key).update(signed).digest();
  }

  issue(model: string, version: string, classes: Record<string, string>, nowMs = Date.now()): string {
    const payload: Payload = {
      m: model,
      v: version,
      c: classes,
      t: Math.floor(nowMs / 1000),
      n: randomBytes(6).toString('base64url'),
    };
    const signed = PREFIX + Buffer.from(JSON.stringify(payload)).toString('base64url');
    return `${signed}.${this.mac(signed).toString('base64url')}`;
  }

  /** Verifies signature and lifetime; throws TOKEN_INVALID, TOKEN_FORGED or TOKEN_EXPIRED. */
  verify(token: unknown, nowMs = Date.now()): TokenClaims {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || !token.startsWith(PREFIX)) {
      throw new ServingError('TOKEN_INVALID', 'predictionId is not a prediction token');
    }
    const dot = token.lastIndexOf('.');
    const signed = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(signed);
    if (dot <= PREFIX.length - 1 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ServingError('TOKEN_FORGED', 'predictionId signature does not verify');
    }
    const payload = decodePayload(signed.slice(PREFIX.length));
    const now = Math.floor(nowMs / 1000);
    if (payload.t > now + ALLOWED_SKEW_S)
      throw new ServingError('TOKEN_INVALID', 'predictionId was issued in the future');
    if (now - payload.t > this.ttlSeconds) {
      throw new ServingError(
        'TOKEN_EXPIRED',
        `predictionId expired (issued ${now - payload.t}s ago, lifetime ${this.ttlSeconds}s)`,
      );
    }
    return { model: payload.m, version: payload.v, classes: payload.c, issuedAt: payload.t };
  }
}

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

/**
 * Bounded memory of (token, head) pairs already counted, so a replayed feedback does not
 * count twice within the token lifetime. Entries expire with their token; when full, the
 * oldest entries are evicted first (insertion order), which bounds memory at the cost of
 * forgetting the oldest tokens early under extreme feedback volume.
 */
export class SeenSet {
  private readonly expiries = new Map<string, number>();
  constructor(private readonly capacity: number) {}

  has(key: string, nowMs = Date.now()): boolean {
    const exp = this.expiries.get(key);
    return exp !== undefined && exp > nowMs;
  }

  add(key: string, expiresAtMs: number, nowMs = Date.now()): void {
    this.prune(nowMs);
    while (this.expiries.size >= this.capacity) {
      const oldest = this.expiries.keys().next().value as string;
      this.expiries.delete(oldest);
    }
    this.expiries.set(key, expiresAtMs);
  }

  get size(): number {
    return this.expiries.size;
  }

  /** Drops expired entries from the front; tokens are added roughly in issue order. */
  private prune(nowMs: number): void {
    for (const [key, exp] of this.expiries) {
      if (exp > nowMs) break;
      this.expiries.delete(key);
    }
  }
}
