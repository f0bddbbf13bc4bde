// The demo's child process: the dev cluster (hack/devcluster/main.ts), with its output in a
// log file, stopped with SIGTERM (its own graceful shutdown, which stops every pod, the
// operator's included) and SIGKILL only when that takes too long.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export class ProcessError extends Error {
  override name = 'ProcessError';
}

/** What the dev cluster prints once it is up (see hack/devcluster/main.ts). */
export interface DevClusterInfo {
  apiUrl?: string;
  prometheusUrl?: string;
  kubeconfig?: string;
}

/** Folds one line of dev cluster output into what is known so far (pure). */
export function parseDevClusterLine(info: DevClusterInfo, line: string): DevClusterInfo {
  const m = /^devcluster: (Prometheus|API server|kubeconfig) (\S+)/.exec(line.trim());
  if (!m) return info;
  if (m[1] === 'Prometheus') return { ...info, prometheusUrl: m[2] };
  if (m[1] === 'API server') return { ...info, apiUrl: m[2] };
  return { ...info, kubeconfig: m[2] };
}

export interface Running {
  readonly child: ChildProcess;
  readonly logFile: string;
  stop(graceMs?: number): Promise<void>;
}

function startLogged(
  repoRoot: string,
  script: string,
  args: string[],
  logFile: string,
  env: NodeJS.ProcessEnv = process.env,
): Running {
  const log = createWriteStream(logFile, { flags: 'a' });
  // The same Node binary with tsx as a loader: no npm/npx wrapper process in between, so
  // SIGTERM reaches the program itself.
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    logFile,
    async stop(graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}

export interface DevCluster extends Running {
  info: Required<DevClusterInfo>;
}

/** Starts the dev cluster in `dir` and resolves once it printed its kubeconfig line. */
export async function startDevCluster(repoRoot: string, dir: string, timeoutMs = 120_000): Promise<DevCluster> {
  mkdirSync(dir, { recursive: true });
  const running = startLogged(
    repoRoot,
    'hack/devcluster/main.ts',
    ['--dir', dir, '--port', '0'],
    join(dir, 'devcluster.log'),
  );
  let info: DevClusterInfo = {};
  let buffered = '';
  const ready = new Promise<Required<DevClusterInfo>>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new ProcessError(`the dev cluster did not start within ${timeoutMs / 1000}s (log: ${running.logFile})`)),
      timeoutMs,
    );
    running.child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) info = parseDevClusterLine(info, line);
      if (info.apiUrl && info.prometheusUrl && info.kubeconfig) {
        clearTimeout(timer);
        resolve(info as Required<DevClusterInfo>);
      }
    });
    running.child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new ProcessError(`the dev cluster exited (${signal ?? code}) before it was ready (log: ${running.logFile})`),
      );
    });
  });
  try {
    return { ...running, info: await ready };
  } catch (err) {
    await running.stop(5_000);
    throw err;
  }
}
