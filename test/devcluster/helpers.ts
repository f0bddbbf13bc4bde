// Shared by the node agent tests: kubectl that throws with its stderr, polling a condition
// instead of sleeping, and a one-shot HTTP GET that never reuses a socket (pods come and go).
import * as http from 'node:http';
import type { TestCluster } from '../support/devcluster.js';

/** Runs the real kubectl against the cluster; a non-zero exit throws with kubectl's stderr. */
export async function kubectlOk(
  cluster: TestCluster,
  args: string[],
  input?: string,
  timeoutMs = 60_000,
): Promise<string> {
  const r = await cluster.kubectl(args, { input, timeoutMs });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/**
 * Polls `fn` until it returns something other than undefined; errors count as "not yet" and the
 * last one is named in the timeout, so a failing wait says what it last saw.
 */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** GET without keep-alive, so a stale pooled socket to a stopped pod cannot answer. */
export function httpGet(url: string, timeoutMs = 2_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
