// Secrets the feedback path uses, each a set of named keys so that one can be rotated without
// refusing what the old one signed or admitted:
// - the token-signing keys: every key verifies the tokens carrying its id; the one named in
//   `primary` signs new tokens. Rotate by adding a key, then (once every replica has it) naming
//   it primary, then removing the old one after a token lifetime.
// - the feedback credentials: every one is accepted as a bearer token. Rotate by adding the new
//   one, moving the applications to it, then removing the old one.
// A directory (a mounted Secret: one file per key, re-read every few seconds, so a rotation
// reaches running pods without a restart) or a single key.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { timingSafeEqual, createHash } from 'node:crypto';

export const KEY_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;
const PRIMARY_FILE = 'primary';
const MIN_KEY_BYTES = 16;
const RELOAD_MS = 10_000;

export interface KeyRing {
  /** the signing key */
  primary(): { id: string; key: Buffer };
  byId(id: string): Buffer | undefined;
}

export class KeyRingError extends Error {
  override name = 'KeyRingError';
}

export function singleKeyRing(key: Buffer, id = 'default'): KeyRing {
  if (key.length < MIN_KEY_BYTES) throw new KeyRingError(`a feedback key must be at least ${MIN_KEY_BYTES} bytes`);
  return { primary: () => ({ id, key }), byId: (kid) => (kid === id ? key : undefined) };
}

interface Loaded {
  keys: Map<string, Buffer>;
  primary?: string;
}

/**
 * Files named like key ids; Kubernetes' own `..data` links and dotfiles are not keys. A signing
 * set must say which key signs; a credential set accepts them all.
 */
function readKeys(dir: string, signing: boolean): Loaded {
  const keys = new Map<string, Buffer>();
  let primary: string | undefined;
  for (const name of readdirSync(dir)) {
    if (name === PRIMARY_FILE) primary = readFileSync(join(dir, name), 'utf8').trim();
    else if (KEY_ID.test(name)) {
      const key = Buffer.from(readFileSync(join(dir, name), 'utf8').trim(), 'utf8');
      if (key.length < MIN_KEY_BYTES)
        throw new KeyRingError(`${join(dir, name)}: a key must be at least ${MIN_KEY_BYTES} bytes`);
      keys.set(name, key);
    }
  }
  if (keys.size === 0) throw new KeyRingError(`${dir}: no key files (names like "k1")`);
  if (!signing) return { keys };
  if (primary === undefined && keys.size > 1)
    throw new KeyRingError(`${dir}: ${keys.size} keys and no "primary" file naming the one that signs`);
  if (primary !== undefined && !keys.has(primary))
    throw new KeyRingError(
      `${dir}/primary names "${primary}", which is not one of the keys (${[...keys.keys()].join(', ')})`,
    );
  return { keys, primary: primary ?? [...keys.keys()][0] };
}

/**
 * The keys in `dir`, re-read at most every RELOAD_MS. A directory that stops making sense
 * (half-written rotation) keeps the last good set and reports through onError.
 */
export interface KeyDirectoryOptions {
  /** a signing set (needs a primary) rather than accepted credentials */
  signing?: boolean;
  onError?: (err: Error) => void;
  now?: () => number;
}

export class DirectoryKeyRing implements KeyRing {
  private loaded: Loaded;
  private loadedAt: number;
  private readonly now: () => number;

  constructor(
    private readonly dir: string,
    private readonly opts: KeyDirectoryOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.loaded = readKeys(dir, !!opts.signing);
    this.loadedAt = this.now();
  }

  primary(): { id: string; key: Buffer } {
    const { keys, primary } = this.fresh();
    if (primary === undefined) throw new KeyRingError(`${this.dir} holds credentials, not signing keys`);
    return { id: primary, key: keys.get(primary)! };
  }

  byId(id: string): Buffer | undefined {
    return this.fresh().keys.get(id);
  }

  /** Every key, for credentials: any of them is accepted. */
  all(): Buffer[] {
    return [...this.fresh().keys.values()];
  }

  private fresh(): Loaded {
    if (this.now() - this.loadedAt < RELOAD_MS) return this.loaded;
    this.loadedAt = this.now();
    try {
      this.loaded = readKeys(this.dir, !!this.opts.signing);
    } catch (err) {
      this.opts.onError?.(err as Error);
    }
    return this.loaded;
  }
}

/**
 * Whether `presented` is one of `accepted`, in time independent of where they differ: both
 * sides are hashed first so that lengths do not leak either.
 */
export function isOneOf(presented: string, accepted: readonly Buffer[]): boolean {
  const digest = (b: Buffer | string) => createHash('sha256').update(b).digest();
  const given = digest(presented);
  let found = false;
  for (const key of accepted) found = timingSafeEqual(given, digest(key)) || found;
  return found;
}
