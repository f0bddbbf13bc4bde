// Test support for the object-storage steps: a real s3rver in-process on 127.0.0.1 (data in a
// temp folder) behind a small front that can inject faults, a plain HTTP server for the
// https fetcher (reached with --allow-http), and a capture of a step's output.
import crypto, { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { StepDeps } from '../../../serving/lib/cli/storage-steps.js';

/** s3rver's built-in account. */
export const S3RVER_KEYS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

/** Returns true when it answered the request itself (a fault), false to pass it to s3rver. */
export type Fault = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface TestStore {
  endpoint: string;
  /** The environment a fetch/upload step needs to reach this store. */
  env: NodeJS.ProcessEnv;
  /** Every request's method and URL, in order. */
  requests: string[];
  faults: Fault[];
  close: () => Promise<void>;
}

async function listen(handler: RequestListener): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * s3rver 3.7 makes ListObjectsV2 continuation tokens with single DES, which OpenSSL 3 no longer
 * offers, so every truncated listing answers 500. Three-key DES with the key repeated three
 * times is single DES, bit for bit: s3rver gets its cipher back, for this process only.
 */
function restoreSingleDes(): void {
  const c = crypto as unknown as Record<string, (...a: unknown[]) => unknown>;
  if ((c.createCipheriv as { desShim?: boolean }).desShim) return;
  for (const name of ['createCipheriv', 'createDecipheriv']) {
    const original = c[name];
    const shim = (alg: string, key: Buffer, ...rest: unknown[]) =>
      alg === 'des' ? original('des-ede3-cbc', Buffer.concat([key, key, key]), ...rest) : original(alg, key, ...rest);
    c[name] = Object.assign(shim, { desShim: true }) as never;
  }
}

/** s3rver with `buckets` created, on a free port; faults run first, in order, each until it declines. */
export async function startS3rver(buckets: string[]): Promise<TestStore> {
  restoreSingleDes();
  const directory = mkdtempSync(join(tmpdir(), 's3rver-test-'));
  // s3rver ships no types; a non-literal specifier keeps this file independent of any declaration
  const specifier = 's3rver';
  const { default: S3rver } = (await import(specifier)) as { default: new (opts: object) => any };
  const s3rver = new S3rver({
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  await s3rver.configureBuckets();
  const next: RequestListener = s3rver.callback();
  const requests: string[] = [];
  const faults: Fault[] = [];
  const { server, port } = await listen((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (faults.some((f) => f(req, res))) return;
    next(req, res);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: { ...S3RVER_KEYS, AWS_ENDPOINT_URL: endpoint, AWS_S3_FORCE_PATH_STYLE: 'true', AWS_REGION: 'us-east-1' },
    requests,
    faults,
    close: async () => {
      await closeServer(server);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

export async function startHttp(handler: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const { server, port } = await listen(handler);
  return { url: `http://127.0.0.1:${port}`, close: () => closeServer(server) };
}

/** A free port with nothing listening (connections are refused). */
export async function closedPort(): Promise<number> {
  const { server, port } = await listen(() => undefined);
  await closeServer(server);
  return port;
}

export interface Captured {
  deps: StepDeps;
  out: () => string;
  err: () => string;
}

/** A step's stdout and stderr captured; back-off shortened so retries cost milliseconds. */
export function capture(env: NodeJS.ProcessEnv, extra: Partial<StepDeps> = {}): Captured {
  let out = '';
  let err = '';
  return {
    deps: {
      env,
      out: (l) => (out += l),
      err: (l) => (err += l),
      retry: { baseDelayMs: 5, maxDelayMs: 20 },
      ...extra,
    },
    out: () => out,
    err: () => err,
  };
}

/** relative path → sha256 of every file under `dir`, sorted by path. */
export function treeDigest(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

export function tempDir(prefix: string, cleanups: Array<() => void>): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
