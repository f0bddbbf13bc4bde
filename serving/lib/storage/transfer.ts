// What the fetch and upload steps share: the byte budget (--max-bytes), the progress line, a
// small worker pool, safe local paths, and writing one file from a stream without ever
// holding it in memory (a `.part` file renamed when complete, so a broken download never
// looks like a finished one).
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError } from './errors.js';

export const DEFAULT_MAX_BYTES = 2 * 1024 ** 3;
/** Files transferred at once: enough to hide per-request latency on many small files. */
export const TRANSFER_CONCURRENCY = 4;

export class ByteBudget {
  private used = 0;
  constructor(
    readonly limit: number,
    readonly source: string,
  ) {}

  private tooLarge(total: number, what: string): StorageError {
    return new StorageError(
      'ArtifactTooLarge',
      `${this.source}: ${what} ${total} bytes, over the limit of ${this.limit} bytes (--max-bytes)`,
    );
  }

  /** Fails before a download when the sizes announced by the store would take the total over. */
  precheck(announced: number): void {
    if (this.used + announced > this.limit) throw this.tooLarge(this.used + announced, 'the files total');
  }

  /** Counts bytes as they pass and fails the stream as soon as the total is over the limit. */
  meter(counted: { bytes: number }): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        counted.bytes += chunk.length;
        this.used += chunk.length;
        if (this.used > this.limit) done(this.tooLarge(this.used, 'at least'));
        else done(null, chunk);
      },
    });
  }

  /** Gives back what a failed attempt counted (its retry counts again). */
  release(bytes: number): void {
    this.used -= bytes;
  }
}

/** `<dir>/<rel>`, refusing names that would land outside `dir` (absolute, `..`). */
export function safeJoin(dir: string, rel: string, source: string): string {
  const root = resolve(dir);
  const path = resolve(root, rel);
  const inside = relative(root, path);
  if (!rel || isAbsolute(rel) || !inside || inside.startsWith('..' + sep) || inside === '..' || isAbsolute(inside))
    throw new StorageError('UnsafeObjectKey', `${source}: "${rel}" would be written outside ${dir}; refused`);
  return path;
}

/** Streams `source` into `path` through the budget; returns the bytes written. */
export async function streamToFile(source: Readable, path: string, budget: ByteBudget): Promise<number> {
  await mkdir(dirname(path), { recursive: true });
  const part = `${path}.part`;
  const counted = { bytes: 0 };
  try {
    await pipeline(source, budget.meter(counted), createWriteStream(part));
    await rename(part, path);
    return counted.bytes;
  } catch (err) {
    budget.release(counted.bytes);
    await rm(part, { force: true });
    throw err;
  }
}

export function progressLine(verb: string, name: string, bytes: number, startedMs: number): string {
  return `${verb} ${name} ${bytes} bytes in ${((performance.now() - startedMs) / 1000).toFixed(3)} s\n`;
}

/** Runs `fn` over `items`, at most `limit` at once; the first failure rejects (others finish). */
export async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i]);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

export const joinKey = (prefix: string, rel: string): string => (prefix ? `${prefix}/${rel}` : rel);
