// `npm run devcluster -- --dir <dir> [--port <n>]`: runs the dev cluster in the foreground.
// The API server starts first; further components (node agent, Prometheus) are started in
// order from COMPONENTS and stopped in reverse on SIGTERM/SIGINT.
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startApiServer, type ApiServer } from './apiserver/index.js';
import { startAgentComponent, startPrometheusComponent } from './agent/components.js';
import { readContainerLog } from './agent/logs.js';
import { startS3Component } from './s3/index.js';

export interface ComponentContext {
  dir: string;
  api: ApiServer;
  kubeconfigPath: string;
}
export interface RunningComponent {
  name: string;
  url?: string;
  /** Printed after the URL in the startup summary (where credentials are, …). */
  note?: string;
  stop(): Promise<void>;
}
/** A part of the dev cluster started after the API server (node agent, Prometheus…). */
export type Component = (ctx: ComponentContext) => Promise<RunningComponent>;

/** Components started after the API server, in order. */
export const COMPONENTS: Component[] = [];

// The S3-compatible object store first (nothing it needs comes later; pods may use it, so it
// stops last), Prometheus (scraping annotated pods and the API server), then the node agent
// (controllers, kubelet, service proxy); all keep their state under the cluster dir.
COMPONENTS.push(
  ({ dir, api }) => startS3Component({ dir, apiUrl: api.url, writeKubeconfig: (p) => api.writeKubeconfig(p) }),
  ({ dir, api }) => startPrometheusComponent({ dir, apiUrl: api.url, writeKubeconfig: (p) => api.writeKubeconfig(p) }),
  ({ dir, api }) => {
    // pods/log reads the agent's container log files (kubectl logs).
    api.setPodLogReader((ns, pod, uid, container, o) => readContainerLog(dir, ns, pod, uid, container, o));
    return startAgentComponent({ dir, apiUrl: api.url, writeKubeconfig: (p) => api.writeKubeconfig(p) });
  },
);

interface Args {
  dir: string;
  port: number;
  host: string;
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { dir: '.devcluster', port: 0, host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--dir') args.dir = value();
    else if (a === '--port') args.port = Number(value());
    else if (a === '--host') args.host = value();
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run devcluster -- --dir <dir> [--port <n>] [--host <addr>]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!Number.isInteger(args.port) || args.port < 0) throw new Error(`--port must be a port number, got ${args.port}`);
  return args;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = resolve(args.dir);
  mkdirSync(dir, { recursive: true });
  const api = await startApiServer({ port: args.port, host: args.host, dataDir: join(dir, 'apiserver') });
  const kubeconfigPath = join(dir, 'kubeconfig');
  // The kubeconfig appears only once everything is ready (a kept dir may hold an old one).
  rmSync(kubeconfigPath, { force: true });
  const running: RunningComponent[] = [];
  const stopAll = async () => {
    for (const c of running.reverse()) await c.stop().catch((err) => console.error(`stopping ${c.name}:`, err));
    await api.stop();
  };
  let stopping = false;
  const onSignal = (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`devcluster: ${sig}, stopping`);
    stopAll().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    for (const start of COMPONENTS) {
      const c = await start({ dir, api, kubeconfigPath });
      running.push(c);
      if (c.url) console.log(`devcluster: ${c.name} ${c.url}${c.note ? `  (${c.note})` : ''}`);
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  api.writeKubeconfig(kubeconfigPath);
  api.writeSecureKubeconfig(join(dir, 'kubeconfig-secure'));
  console.log(`devcluster: API server ${api.url}`);
  console.log(
    `devcluster: secure port ${api.secureUrl}  (CA ${api.caFile}, admin kubeconfig ${join(dir, 'kubeconfig-secure')})`,
  );
  console.log(`devcluster: kubeconfig ${kubeconfigPath}  (export KUBECONFIG=${kubeconfigPath})`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  main().catch((err) => {
    console.error(`devcluster: ${(err as Error).message}`);
    process.exit(1);
  });
}
