// Starts Debian's real Prometheus for the dev cluster: free port on 127.0.0.1 (kept across
// restarts of the same data dir, so URLs handed out stay valid), storage under
// <dataDir>/prometheus/data, scrape interval 2s, pods discovered through file_sd (written by
// the node agent) and the API server's /metrics.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { dirname, join } from 'node:path';
import { defaultTargetsFile, prometheusConfig } from './config.js';
import { killedWithParent } from '../agent/process-guard.js';
import { startMonitoring, type MonitoringController } from './operator.js';

export { defaultTargetsFile, podTargetGroups, prometheusConfig, sanitizeLabelName } from './config.js';

export interface PrometheusOptions {
  dataDir: string;
  targetsFile?: string;
  apiServerUrl?: string;
  /** Default /usr/bin/prometheus */
  binary?: string;
  /** How long to wait for /-/ready. Default 60 s. */
  readyTimeoutMs?: number;
  /**
   * Admin kubeconfig of the cluster: with it, PodMonitors, ServiceMonitors and PrometheusRules
   * configure this Prometheus as prometheus-operator would (operator.ts).
   */
  kubeconfigPath?: string;
  log?: (m: string) => void;
}

export interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

export class PrometheusStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PrometheusStartError';
  }
}

export async function startPrometheus(opts: PrometheusOptions): Promise<RunningPrometheus> {
  const home = join(opts.dataDir, 'prometheus');
  const targetsFile = opts.targetsFile ?? defaultTargetsFile(opts.dataDir);
  mkdirSync(join(home, 'data'), { recursive: true });
  mkdirSync(dirname(targetsFile), { recursive: true });
  if (!existsSync(targetsFile)) writeFileSync(targetsFile, '[]\n');
  const configFile = join(home, 'prometheus.yml');
  const base = { targetsFile, apiServer: apiServerTarget(opts.apiServerUrl) };
  writeFileSync(configFile, prometheusConfig(base));

  const port = await choosePort(join(home, 'port'));
  const url = `http://127.0.0.1:${port}`;
  const logFd = openSync(join(home, 'prometheus.log'), 'a');
  let child: ChildProcess;
  try {
    const argv = killedWithParent([
      opts.binary ?? '/usr/bin/prometheus',
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(home, 'data')}`,
      // A previous run killed with SIGKILL leaves a lock file behind; we own the folder.
      '--no-storage.tsdb.use-lockfile',
      '--storage.tsdb.retention.time=2d',
      `--web.listen-address=127.0.0.1:${port}`,
      '--web.enable-lifecycle',
      '--web.enable-admin-api',
    ]);
    child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', logFd, logFd], detached: true, cwd: home });
  } finally {
    closeSync(logFd);
  }
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    signalGroup(child.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await waitReady(
      url,
      opts.readyTimeoutMs ?? 60_000,
      () => spawnError ?? (child.exitCode !== null ? new Error(`exited with code ${child.exitCode}`) : undefined),
    );
  } catch (err) {
    await stop();
    const log = tail(join(home, 'prometheus.log'));
    throw new PrometheusStartError(`Prometheus did not become ready at ${url}: ${(err as Error).message}\n${log}`, {
      cause: err,
    });
  }
  if (!opts.kubeconfigPath) return { url, stop };
  const log = opts.log ?? ((m: string) => console.error(`[prometheus] ${m}`));
  let monitoring: MonitoringController | undefined;
  try {
    monitoring = await startMonitoring({
      kubeconfigPath: opts.kubeconfigPath,
      home,
      configFile,
      base,
      prometheusUrl: url,
      log,
    });
    await monitoring.synced;
  } catch (err) {
    monitoring?.stop();
    await stop();
    throw new PrometheusStartError(`the dev cluster's prometheus-operator did not start: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return {
    url,
    stop: async () => {
      monitoring?.stop();
      await stop();
    },
  };
}

function apiServerTarget(apiServerUrl: string | undefined): { hostPort: string; scheme: 'http' | 'https' } | undefined {
  if (!apiServerUrl) return undefined;
  const u = new URL(apiServerUrl);
  const scheme = u.protocol === 'https:' ? 'https' : 'http';
  return { hostPort: `${u.hostname}:${u.port || (scheme === 'https' ? '443' : '80')}`, scheme };
}

export async function choosePort(portFile: string): Promise<number> {
  const previous = existsSync(portFile) ? Number(readFileSync(portFile, 'utf8').trim()) : 0;
  if (previous > 0 && (await isFree(previous))) return previous;
  const port = await freePort();
  writeFileSync(portFile, `${port}\n`);
  return port;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitReady(url: string, timeoutMs: number, failed: () => Error | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const err = failed();
    if (err) throw err;
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`not ready after ${timeoutMs} ms`);
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
