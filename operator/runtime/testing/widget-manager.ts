// Child-process entry for leader-election tests: runs a Manager with the widget controller and
// a Lease, and reports on stdout, one JSON object a line: {"event":"ready"}, {"event":"leader",
// "leading":bool}, {"event":"reconcile","key":"ns/name"}. SIGTERM stops it gracefully.
// Usage: tsx widget-manager.ts KUBECONFIG IDENTITY LEASE_NS LEASE_NAME LEASE_MS RENEW_MS RETRY_MS
import { KubeClient } from '../client.js';
import { loadKubeConfig } from '../kubeconfig.js';
import { createLogger } from '../logger.js';
import { Manager } from '../manager.js';
import { KubeTransport } from '../transport.js';
import { widgetController } from './widget.js';

const [kubeconfig, identity, leaseNamespace, leaseName, leaseMs, renewMs, retryMs] = process.argv.slice(2);
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const client = new KubeClient(new KubeTransport(loadKubeConfig(kubeconfig)));
const manager = new Manager({
  client,
  log: createLogger({ silent: true }),
  leaderElection: {
    namespace: leaseNamespace,
    name: leaseName,
    identity,
    leaseDurationMs: Number(leaseMs),
    renewDeadlineMs: Number(renewMs),
    retryPeriodMs: Number(retryMs),
  },
  onLeadershipChange: (leading) => say({ event: 'leader', leading }),
});
manager.add(widgetController({ onReconcile: (k) => say({ event: 'reconcile', key: `${k.namespace}/${k.name}` }) }));
process.on('SIGTERM', () => {
  manager.stop().then(() => {
    say({ event: 'stopped' });
    process.exit(0);
  });
});
await manager.start();
say({ event: 'ready' });
