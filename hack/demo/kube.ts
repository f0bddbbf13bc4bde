// The demo's view of the cluster: a client (the operator's own KubeClient), the real kubectl
// for applying manifests and for diagnostics, and waiting with a timeout that says what it
// was waiting for and what it saw last.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { KubeClient } from '../../operator/runtime/client.js';
import type { KindRef } from '../../operator/runtime/kinds.js';
import { loadKubeConfig } from '../../operator/runtime/kubeconfig.js';
import { KubeTransport } from '../../operator/runtime/transport.js';

export const Endpoints: KindRef = { group: '', version: 'v1', plural: 'endpoints', kind: 'Endpoints' };

export class DemoWaitError extends Error {
  override name = 'DemoWaitError';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
    readonly lastSeen: string,
  ) {
    super(
      `timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${lastSeen ? ` (last seen: ${lastSeen})` : ''}`,
    );
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
  helm(args: string[], timeoutMs?: number): Promise<string>;
}

export function connect(kubeconfig: string, binDir: string): Kube {
  const env = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${binDir}:${process.env.PATH ?? ''}` };
  const run = (tool: string, args: string[], timeout: number) =>
    new Promise<string>((resolve, reject) => {
      execFile(join(binDir, tool), args, { env, timeout, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
        if (err)
          reject(new KubectlError(`${tool} ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err }));
        else resolve(stdout);
      });
    });
  return {
    client: new KubeClient(new KubeTransport(loadKubeConfig(kubeconfig))),
    kubeconfig,
    binDir,
    kubectl: (args) => run('kubectl', args, 60_000),
    helm: (args, timeoutMs = 240_000) => run('helm', args, timeoutMs),
  };
}

/** Where the demo installs Modelship, as docs/install.md does. */
export const RELEASE = { name: 'modelship', namespace: 'modelship-system', deployment: 'modelship-operator' } as const;

/**
 * `helm install` of the chart as a kube-prometheus-stack user would: the operator as the chart's
 * Deployment (its ServiceAccount, RBAC, args, security context), PodMonitors for the serving
 * and router pods, a ServiceMonitor for the operator and the alert rules; Prometheus at
 * `prometheusUrl`. The chart's crds/ install the CRDs. Resolves once the operator is Available.
 */
export function installChart(kube: Kube, chartDir: string, prometheusUrl: string): Promise<string> {
  return kube.helm([
    'install',
    RELEASE.name,
    chartDir,
    '--namespace',
    RELEASE.namespace,
    '--create-namespace',
    '--set',
    `prometheusUrl=${prometheusUrl}`,
    '--set',
    'podMonitor.enabled=true',
    '--set',
    'serviceMonitor.enabled=true',
    '--set',
    'metrics.service.enabled=true',
    '--set',
    'prometheusRule.enabled=true',
    // The demo's canary analyses every 20 s and monitoring every 10 s (a walk-through of minutes);
    // a window needs several scrapes, so the serving pods are scraped every 2 s, not every 15 s.
    '--set',
    'podMonitor.interval=2s',
    '--set',
    'podMonitor.scrapeTimeout=1s',
    // The training runs read and write the object store with these credentials; a TrainingRun
    // may name no Secret the operator does not allow.
    '--set',
    'trainingRunAllowlist.secrets={modelship-s3}',
    '--wait',
    '--timeout',
    '180s',
  ]);
}

/** The operator's log through the API server, as `kubectl logs` shows it. */
export function operatorLog(kube: Kube, lines: number): Promise<string> {
  return kube.kubectl(['logs', '-n', RELEASE.namespace, `deploy/${RELEASE.deployment}`, `--tail=${lines}`]);
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
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<{ value: T } | string>,
  opts: WaitOptions = {},
): Promise<T> {
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

/** What a user would look at when a step fails: the objects, recent Events, the operator's log. */
export async function diagnostics(kube: Kube): Promise<string> {
  const section = async (title: string, get: () => Promise<string>) =>
    `--- ${title}\n${(await get().catch((e: Error) => e.message)).trimEnd()}\n`;
  return [
    await section('kubectl get modelship -o wide', () => kube.kubectl(['get', 'modelship', '-o', 'wide'])),
    await section('kubectl get pods -o wide', () => kube.kubectl(['get', 'pods', '-o', 'wide'])),
    await section('recent Events (kubectl get events --sort-by=.lastTimestamp)', async () =>
      (await kube.kubectl(['get', 'events', '--sort-by=.lastTimestamp'])).trimEnd().split('\n').slice(-20).join('\n'),
    ),
    await section(`operator log (kubectl logs -n ${RELEASE.namespace} deploy/${RELEASE.deployment} --tail=30)`, () =>
      operatorLog(kube, 30),
    ),
  ].join('');
}
