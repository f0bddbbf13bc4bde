// `serve router --config FILE [--port N] [--admin-port N] [--upstream-timeout-ms N]`:
// the router process. Listens on env POD_IP (the dev cluster gives each pod its own loopback
// IP) or 0.0.0.0; drains in-flight requests on SIGTERM/SIGINT before exiting.
import { parseArgs } from 'node:util';
import { UsageError } from '../lib/args.js';
import { RouterConfigError } from './config.js';
import { FileRoutingSource } from './file-source.js';
import { RouterMetrics } from './metrics.js';
import { startRouter, type RunningRouter } from './router.js';
import { jsonLogger } from './source.js';

export interface RouterCliOptions {
  config: string;
  port: number;
  adminPort?: number;
  upstreamTimeoutMs: number;
  host: string;
}

/** A UsageError, so serving/main.ts exits 2 for it like for the other modes' flag errors. */
export class RouterUsageError extends UsageError {
  constructor(message: string) {
    super(`${message}\nusage: serve router --config FILE [--port N] [--admin-port N] [--upstream-timeout-ms N]`);
    this.name = 'RouterUsageError';
  }
}

function portNumber(flag: string, value: string | undefined, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new RouterUsageError(`${flag} must be a port number 0-65535, got "${value}"`);
  return n;
}

/** Pure: argv (after the `router` word) and env → options, or a RouterUsageError. */
export function parseRouterArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): RouterCliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        'admin-port': { type: 'string' },
        'upstream-timeout-ms': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new RouterUsageError((err as Error).message);
  }
  if (!values.config) throw new RouterUsageError('--config FILE is required');
  const timeout = Number(values['upstream-timeout-ms'] ?? 60_000);
  if (!Number.isFinite(timeout) || timeout <= 0) throw new RouterUsageError('--upstream-timeout-ms must be a positive number');
  return {
    config: values.config,
    port: portNumber('--port', values.port, 8080)!,
    adminPort: portNumber('--admin-port', values['admin-port']),
    upstreamTimeoutMs: timeout,
    host: env.POD_IP || '0.0.0.0',
  };
}

/**
 * Starts the router and resolves once it listens; the process then lives until SIGTERM/SIGINT,
 * which drains in-flight requests (readyz turns 503 first) and exits 0.
 */
export async function runRouter(argv: string[]): Promise<void> {
  const options = parseRouterArgs(argv);
  const log = jsonLogger;
  const metrics = new RouterMetrics({ processMetrics: true });
  let source: FileRoutingSource;
  try {
    source = await FileRoutingSource.open(options.config, { log, onRejected: () => metrics.reloads.inc({ result: 'rejected' }) });
  } catch (err) {
    if (err instanceof RouterConfigError) log.error('router config rejected at startup', { path: options.config, problems: err.problems });
    throw err;
  }
  const running: RunningRouter = await startRouter({
    source, log, metrics, host: options.host, port: options.port, adminPort: options.adminPort,
    upstreamTimeoutMs: options.upstreamTimeoutMs,
  });
  log.info('router listening', { url: running.url, admin: running.adminUrl, model: source.current().model });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('router draining', { signal });
    running.close().then(() => process.exit(0), (err) => { log.error('shutdown failed', { error: String(err) }); process.exit(1); });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
