// The demo's view of the cluster: a client (the operator's own KubeClient), the real kubectl
// for applying manifests and for diagnostics, and waiting with a timeout that says what it
// was waiting for and what it saw last.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeClient } from '../../operator/runtime/client.js';
import type { KindRef } from '../../operator/runtime/kinds.js';
import { loadKubeConfig } from '../../operator/runtime/kubeconfig.js';
import { KubeTransport } from '../../operator/runtime/transport.js';

export const Endpoints: KindRef = { group: '', version: 'v1', plural: 'endpoints', kind: 'Endpoints' };

export class DemoWaitError extends Error {
  override name = 'DemoWaitError';
  constructor(readonly what: string, readonly timeoutMs: number, readonly lastSeen: string) {
    super(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${lastSeen ? ` (last seen: ${lastSeen})` : ''}`);
  }
}

export class KubectlError extends Error {
  override name = 'KubectlError';
}

export interface Kube {
  client: KubeClient;
  kubeconfig: string;
  binDir: string;
  kubectl(args: string[]): Promise<string>;
}

export function connect(kubeconfig: string, binDir: string): Kube {
  const env = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${binDir}:${process.env.PATH ?? ''}` };
  return {
    client: new KubeClient(new KubeTransport(loadKubeConfig(kubeconfig))),
    kubeconfig, binDir,
    kubectl: (args) => new Promise((resolve, reject) => {
      execFile(join(binDir, 'kubectl'), args, { env, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err) reject(new KubectlError(`kubectl ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err }));
        else resolve(stdout);
      });
    }),
  };
}

export interface WaitOptions {
  intervalMs?: number;
  /** Called with each probe's description of what it saw (progress lines, last seen). */
  onObservation?(seen: string): void;
}

/**
 * Polls `probe` until it returns a value. The probe returns `{ value }` when done, or a
 * string describing what it sees now; errors count as observations, never as success.
 */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<{ value: T } | string>, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastSeen = '';
  for (;;) {
    let seen: string;
    try {
      const r = await probe();
      if (typeof r !== 'string') return r.value;
      seen = r;
    } catch (err) {
      seen = `${(err as Error).name}: ${(err as Error).message}`;
    }
    if (seen !== lastSeen) opts.onObservation?.(seen);
    lastSeen = seen;
    if (Date.now() >= deadline) throw new DemoWaitError(what, timeoutMs, lastSeen);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1_000));
  }
}

/** Last `lines` lines of a text file ('' when it cannot be read). */
export async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** What a user would look at when a step fails: the objects, recent Events, the operator's log. */
export async function diagnostics(kube: Kube, operatorLog: string): Promise<string> {
  const section = async (title: string, get: () => Promise<string>) => `--- ${title}\n${(await get().catch((e: Error) => e.message)).trimEnd()}\n`;
  return [
    await section('kubectl get modelship -o wide', () => kube.kubectl(['get', 'modelship', '-o', 'wide'])),
    await section('kubectl get pods -o wide', () => kube.kubectl(['get', 'pods', '-o', 'wide'])),
    await section('recent Events (kubectl get events --sort-by=.lastTimestamp)', async () => (await kube.kubectl(['get', 'events', '--sort-by=.lastTimestamp'])).trimEnd().split('\n').slice(-20).join('\n')),
    await section(`operator log (tail ${operatorLog})`, () => tail(operatorLog, 30)),
  ].join('');
}
