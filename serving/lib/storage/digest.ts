// The expected-digest check shared by `fetch` (after the download) and by `serve`/`validate`
// (before loading): the operator passes the digest it registered for every artifact URI, so a
// model replaced in the store, or a PVC holding another model, is refused instead of served.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { StorageError } from './errors.js';

/** "sha256:<hex>" of a file, streamed (a model may be larger than we want in memory). */
export async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return 'sha256:' + hash.digest('hex');
}

/** Throws DigestMismatch naming both digests when `actual` is not `expected`. */
export function checkDigest(expected: string | undefined, actual: string, what: string): void {
  if (expected === undefined || expected === actual) return;
  throw new StorageError(
    'DigestMismatch',
    `${what}: digest mismatch: expected ${expected}, actual ${actual}; the artifact is not the registered model (replaced in the store, or another model's files)`,
  );
}
