// The dev cluster's Kubernetes API server: one process, in-memory storage (optionally
// persisted to a data dir), spoken to by the real kubectl, helm and @kubernetes/client-node.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import { ClusterIpAllocator } from './builtins.js';
import { Controllers } from './controllers.js';
import { Counters, type RequestCounters } from './counters.js';
import { FaultInjector } from './faults.js';
import { createHandler } from './http.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { openapiDocument } from './openapi.js';
import { Persistence } from './persistence.js';
import type { PodLogReader } from './podlogs.js';
import { Registry } from './registry.js';
import { Rest } from './rest.js';
import { Store } from './store.js';

export type { RequestCounters } from './counters.js';
export type { FaultInjector, ErrorFault, LatencyFault, RequestMatch } from './faults.js';
export { ApiError } from './errors.js';
export type { PodLogReader, PodLogOptions } from './podlogs.js';

export interface ApiServerOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** When set, state is saved here and restored on the next start with the same dir. */
  dataDir?: string;
  /** Events kept for watch replay (default 10,000); older resourceVersions get 410. */
  historyLimit?: number;
  /** Interval of watch BOOKMARK events when clients allow them (default 10 s). */
  bookmarkIntervalMs?: number;
}

export interface ApiServer {
  url: string;
  port: number;
  faults: FaultInjector;
  counters(): RequestCounters;
  resetCounters(): void;
  /** Current global resourceVersion. */
  resourceVersion(): number;
  /** Resolves when the in-process controllers (GC, namespaces, CRDs) have nothing queued. */
  settled(): Promise<void>;
  writeKubeconfig(path: string): void;
  /** Registers where pods/log reads container output (the node agent's log files). */
  setPodLogReader(reader: PodLogReader | undefined): void;
  stop(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const host = opts.host ?? '127.0.0.1';
  const persistence = opts.dataDir ? new Persistence(opts.dataDir) : undefined;
  const saved = persistence?.load();
  const store = new Store(opts.historyLimit ?? 10_000, saved?.resourceVersion ?? 0);
  const registry = new Registry();
  const ips = new ClusterIpAllocator();
  const hooks: { crdCreated?: (obj: Record<string, any>) => void } = {};
  const rest = new Rest(store, registry, ips, {
    beforeCreate: (t, obj) => { if (t.builtin && t.kind === 'CustomResourceDefinition') hooks.crdCreated?.(obj); },
  });
  const controllers = new Controllers(store, registry, rest);
  hooks.crdCreated = (obj) => controllers.crdCreated(obj);
  if (saved) {
    // CRDs first, so that their types exist when custom resources are restored.
    for (const { storageKey, object } of saved.objects) {
      store.restore(storageKey, object);
      if (storageKey === 'apiextensions.k8s.io/customresourcedefinitions') controllers.syncCrdTypes(object, object.metadata.name);
      if (storageKey === '/services' && object.spec?.clusterIP && object.spec.clusterIP !== 'None') ips.reserve(object.spec.clusterIP);
    }
  }
  controllers.start();
  if (!saved) bootstrap(rest, registry);
  persistence?.attach(store);

  const faults = new FaultInjector();
  faults.compactHistory = () => store.compact();
  const counters = new Counters();
  let address = '';
  let podLogReader: PodLogReader | undefined;
  const server: Server = createServer(createHandler({
    store, registry, rest, faults, counters,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 10_000,
    serverAddress: () => address,
    openapi: (path, accept) => openapiDocument(registry, path, accept),
    podLogs: () => podLogReader,
  }));
  server.keepAliveTimeout = 65_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  address = `${host}:${port}`;
  const url = `http://${address}`;

  return {
    url, port, faults,
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    resourceVersion: () => store.rv,
    settled: () => controllers.whenIdle(),
    writeKubeconfig: (path) => writeFileSync(path, kubeconfigYaml(url), { mode: 0o600 }),
    setPodLogReader: (reader) => { podLogReader = reader; },
    stop: async () => {
      controllers.stop();
      faults.dropWatches();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      await persistence?.flush();
    },
  };
}

/** What a fresh cluster has: the system namespaces and the `kubernetes` Service. */
function bootstrap(rest: Rest, registry: Registry): void {
  const namespaces = registry.lookup('', 'v1', 'namespaces')!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    rest.create(namespaces, '', { metadata: { name } }, { fieldManager: 'kube-apiserver' });
  }
  const services = registry.lookup('', 'v1', 'services')!;
  rest.create(services, 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
  }, { fieldManager: 'kube-apiserver' });
}
