// Starts a dev cluster for a test: API server on a free port, a temp dir with a kubeconfig,
// and helpers to run the real kubectl / helm and to get a client-node KubeConfig.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../hack/devcluster/apiserver/index.js';
import { startAgentComponent, startPrometheusComponent } from '../../hack/devcluster/agent/components.js';
import { readContainerLog } from '../../hack/devcluster/agent/logs.js';
import { startS3Component } from '../../hack/devcluster/s3/index.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestClusterOptions {
  agent?: boolean;
  prometheus?: boolean;
  /**
   * The S3-compatible object store (s3rver), its `<dir>/s3.env` and Secret `default/modelship-s3`.
   * Off by default: loading s3rver costs ~0.4 s per test file that does not use it.
   */
  s3?: boolean;
  /** Passed to the API server (history size, bookmark interval…). */
  apiserver?: Omit<ApiServerOptions, 'port' | 'host'>;
}

export interface TestCluster {
  dir: string;
  kubeconfigPath: string;
  url: string;
  api: ApiServer;
  kubectl(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  helm(args: string[], opts?: { input?: string; timeoutMs?: number }): Promise<RunResult>;
  kubeConfig(): KubeConfig;
  /** Set when started with `prometheus: true`. */
  prometheusUrl?: string;
  /** Set when started with `s3: true`: endpoint (path-style addressing) and key pair. */
  s3?: TestS3;
  stop(): Promise<void>;
}

export interface TestS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** A component the test cluster starts after the API server (agent, Prometheus). */
export interface TestComponent {
  stop(): Promise<void>;
}
export type TestComponentStarter = (
  cluster: TestCluster,
  opts: TestClusterOptions,
) => Promise<TestComponent | undefined>;
/** Starters run in order; each decides from the options whether it runs. */
export const TEST_COMPONENTS: TestComponentStarter[] = [];

// Prometheus and the node agent (hack/devcluster/agent), when the options ask for them.
TEST_COMPONENTS.push(
  async (cluster, opts) => {
    if (!opts.prometheus) return undefined;
    const prom = await startPrometheusComponent({
      dir: cluster.dir,
      apiUrl: cluster.url,
      writeKubeconfig: (p) => cluster.api.writeKubeconfig(p),
    });
    cluster.prometheusUrl = prom.url;
    return prom;
  },
  async (cluster, opts) => {
    if (!opts.agent) return undefined;
    // pods/log reads the agent's container log files (kubectl logs).
    cluster.api.setPodLogReader((ns, pod, uid, container, o) =>
      readContainerLog(cluster.dir, ns, pod, uid, container, o),
    );
    return startAgentComponent({
      dir: cluster.dir,
      apiUrl: cluster.url,
      writeKubeconfig: (p) => cluster.api.writeKubeconfig(p),
    });
  },
);

// The object store starts before the others (pods may use it) and so stops after them.
TEST_COMPONENTS.unshift(async (cluster, opts) => {
  if (!opts.s3) return undefined;
  const s3 = await startS3Component({
    dir: cluster.dir,
    apiUrl: cluster.url,
    writeKubeconfig: (p) => cluster.api.writeKubeconfig(p),
  });
  const { endpoint, accessKeyId, secretAccessKey, region } = s3.store;
  cluster.s3 = { endpoint, accessKeyId, secretAccessKey, region };
  return s3;
});

export const BIN_DIR = resolve(new URL('../../hack/bin', import.meta.url).pathname);

export function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} failed to start`, { cause: err }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? -1, stdout, stderr });
    });
    // A program that exits without reading its input (most do) closes the pipe first: the EPIPE
    // that follows says nothing the exit code does not.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

export async function startTestCluster(opts: TestClusterOptions = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-devcluster-'));
  const api = await startApiServer({ port: 0, ...(opts.apiserver ?? {}) });
  const kubeconfigPath = join(dir, 'kubeconfig');
  api.writeKubeconfig(kubeconfigPath);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KUBECONFIG: kubeconfigPath,
    HOME: dir,
    KUBECACHEDIR: join(dir, 'kube-cache'),
    HELM_CACHE_HOME: join(dir, 'helm', 'cache'),
    HELM_CONFIG_HOME: join(dir, 'helm', 'config'),
    HELM_DATA_HOME: join(dir, 'helm', 'data'),
    PATH: `${BIN_DIR}:${process.env.PATH ?? ''}`,
  };
  const components: TestComponent[] = [];
  const cluster: TestCluster = {
    dir,
    kubeconfigPath,
    url: api.url,
    api,
    kubectl: (args, o) => run(join(BIN_DIR, 'kubectl'), args, env, o),
    helm: (args, o) => run(join(BIN_DIR, 'helm'), args, env, o),
    kubeConfig: () => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    stop: async () => {
      for (const c of components.reverse()) await c.stop().catch(() => undefined);
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const start of TEST_COMPONENTS) {
      const c = await start(cluster, opts);
      if (c) components.push(c);
    }
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
