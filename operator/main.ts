// Entry point: npm run operator -- [--kubeconfig FILE] [--namespace NS]... [--metrics-port N]
//   [--leader-elect=true|false] [--lease-namespace NS] [--prometheus-url URL] [--prometheus-allowed-url URL]...
// Starts the manager with the registered controllers, serves /healthz, /readyz, /metrics,
// and shuts down gracefully on SIGTERM/SIGINT (no new work, in-flight reconciles finish,
// the lease is released, exit 0).
import { buildControllers } from './controllers/registry.js';
import { KubeClient } from './runtime/client.js';
import { FlagError, parseFlags, usage, type OperatorFlags } from './runtime/flags.js';
import { startHealthServer } from './runtime/health.js';
import { loadKubeConfig, ownNamespace } from './runtime/kubeconfig.js';
import { createLogger, errorChain, type Logger } from './runtime/logger.js';
import { Manager } from './runtime/manager.js';
import { createOperatorMetrics } from './runtime/metrics.js';
import { KubeTransport } from './runtime/transport.js';

const SHUTDOWN_TIMEOUT_MS = 30_000;

/**
 * A SIGTERM/SIGINT handler: stop (no new work, in-flight reconciles finish, the lease is
 * released), then exit 0; a second signal or a stop over SHUTDOWN_TIMEOUT_MS exits 1.
 */
function gracefulShutdown(log: Logger, stop: () => Promise<void>): (signal: string) => void {
  let shuttingDown = false;
  return (signal) => {
    if (shuttingDown) {
      log.warn('Second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    shuttingDown = true;
    log.info('Shutting down', { signal });
    const timer = setTimeout(() => {
      log.error('Shutdown took too long; exiting', { timeoutMs: SHUTDOWN_TIMEOUT_MS });
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (e) => {
        log.error('Shutdown failed', { error: errorChain(e) });
        process.exit(1);
      },
    );
  };
}

async function main(flags: OperatorFlags): Promise<void> {
  const log = createLogger({ level: flags.logLevel });
  const client = new KubeClient(new KubeTransport(loadKubeConfig(flags.kubeconfig)));
  const metrics = createOperatorMetrics({ processMetrics: true });
  const manager = new Manager({
    client,
    log,
    metrics,
    namespaces: flags.namespaces,
    leaderElection: flags.leaderElect
      ? { namespace: flags.leaseNamespace ?? ownNamespace(), name: flags.leaseName }
      : false,
    resyncPeriodMs: 10 * 60_000,
  });
  for (const c of buildControllers({
    namespaces: flags.namespaces,
    prometheusUrl: flags.prometheusUrl,
    prometheusAllowedUrls: flags.prometheusAllowedUrls,
    trainingRunAllowlist: flags.trainingRunAllowlist,
    registry: metrics.registry,
    workloadDefaults: flags.workloadDefaults,
    scrapeAnnotations: flags.scrapeAnnotations,
  }))
    manager.add(c);
  const health = await startHealthServer({
    port: flags.metricsPort,
    host: flags.metricsHost,
    registry: metrics.registry,
    isReady: () => manager.isReady(),
  });
  log.info('Operator starting', {
    identity: manager.identity,
    metricsPort: health.port,
    namespaces: flags.namespaces.length ? flags.namespaces : 'all',
    leaderElect: flags.leaderElect,
  });

  const shutdown = gracefulShutdown(log, () => manager.stop().then(() => health.close()));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await manager.start();
}

let flags: OperatorFlags;
try {
  flags = parseFlags(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof FlagError)) throw e;
  process.stderr.write(`${e.message}\n${usage}\n`);
  process.exit(2);
}
if (flags.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
main(flags).catch((e) => {
  process.stderr.write(`operator failed: ${errorChain(e)}\n`);
  process.exit(1);
});
