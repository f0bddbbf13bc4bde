// `serve router --config FILE [--port N] [--admin-port N] [--upstream-timeout-ms N] [--shutdown-delay-ms N]`:
// the router process. Listens on all of the pod's addresses (so that Services, probes and
// `kubectl port-forward` reach it); drains in-flight requests on SIGTERM/SIGINT before exiting.
import { parseArgs } from 'node:util';
import { UsageError } from '../lib/cli/args.js';
import { RouterConfigError } from './config.js';
import { FileRoutingSource } from './file-source.js';
import { RouterMetrics } from './metrics.js';
import { startRouter, type RunningRouter } from './router.js';
import { IsvcStatusRoutingSource } from './sources/isvc-status.js';
import { jsonLogger, type RoutingSource } from './source.js';

export interface RouterCliOptions {
  /** Where the table comes from: `file` (--config) or `isvc-status` (--namespace/--name). */
  source: 'file' | 'isvc-status';
  config: string;
  namespace?: string;
  name?: string;
  port: number;
  /** table, metrics and probes; never the public port */
  adminPort: number;
  upstreamTimeoutMs: number;
  /** After SIGTERM, keep serving with readyz 503 this long so endpoints drop the pod first. */
  shutdownDelayMs: number;
}

export const DEFAULT_ADMIN_PORT = 9090;

/** A UsageError, so serving/main.ts exits 2 for it like for the other modes' flag errors. */
export class RouterUsageError extends UsageError {
  constructor(message: string) {
    super(
      `${message}\nusage: serve router (--config FILE | --source isvc-status --namespace NS --name NAME) [--port N] [--admin-port N] [--upstream-timeout-ms N] [--shutdown-delay-ms N]`,
    );
    this.name = 'RouterUsageError';
  }
}

function portNumber(flag: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new RouterUsageError(`${flag} must be a port number 0-65535, got "${value}"`);
  return n;
}

/** Pure: argv (after the `router` word) → options, or a RouterUsageError. */
export function parseRouterArgs(argv: string[]): RouterCliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        'admin-port': { type: 'string' },
        'upstream-timeout-ms': { type: 'string' },
        'shutdown-delay-ms': { type: 'string' },
        source: { type: 'string' },
        namespace: { type: 'string' },
        name: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new RouterUsageError((err as Error).message);
  }
  const source = values.source ?? 'file';
  if (source !== 'file' && source !== 'isvc-status')
    throw new RouterUsageError(`--source must be file or isvc-status, got "${source}"`);
  if (source === 'file' && !values.config) throw new RouterUsageError('--config FILE is required');
  if (source === 'isvc-status' && (!values.namespace || !values.name))
    throw new RouterUsageError('--source isvc-status needs --namespace and --name');
  const timeout = Number(values['upstream-timeout-ms'] ?? 60_000);
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new RouterUsageError('--upstream-timeout-ms must be a positive number');
  const delay = Number(values['shutdown-delay-ms'] ?? 0);
  if (!Number.isFinite(delay) || delay < 0) throw new RouterUsageError('--shutdown-delay-ms must be a number ≥ 0');
  return {
    source,
    config: values.config ?? '',
    namespace: values.namespace,
    name: values.name,
    port: portNumber('--port', values.port, 8080)!,
    adminPort: portNumber('--admin-port', values['admin-port'], DEFAULT_ADMIN_PORT)!,
    upstreamTimeoutMs: timeout,
    shutdownDelayMs: delay,
  };
}

/**
 * Starts the router and resolves once it listens; the process then lives until SIGTERM/SIGINT:
 * readyz turns 503, traffic is still served for --shutdown-delay-ms, then the listener closes,
 * in-flight requests finish (up to 10 s) and the process exits 0.
 */
export async function runRouter(argv: string[]): Promise<void> {
  const options = parseRouterArgs(argv);
  const log = jsonLogger;
  const metrics = new RouterMetrics({ processMetrics: true });
  let source: RoutingSource;
  try {
    const onRejected = () => metrics.reloads.inc({ result: 'rejected' });
    source =
      options.source === 'isvc-status'
        ? await IsvcStatusRoutingSource.open({ namespace: options.namespace!, name: options.name!, log, onRejected })
        : await FileRoutingSource.open(options.config, { log, onRejected });
  } catch (err) {
    if (err instanceof RouterConfigError)
      log.error('router config rejected at startup', { path: options.config, problems: err.problems });
    throw err;
  }
  const running: RunningRouter = await startRouter({
    source,
    log,
    metrics,
    port: options.port,
    adminPort: options.adminPort,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
  });
  log.info('router listening', { url: running.url, admin: running.adminUrl, model: source.current().model });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('router draining', { signal, shutdownDelayMs: options.shutdownDelayMs });
    running.router.startDraining();
    new Promise((r) => setTimeout(r, options.shutdownDelayMs))
      .then(() => running.close())
      .then(
        () => process.exit(0),
        (err) => {
          log.error('shutdown failed', { error: String(err) });
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
