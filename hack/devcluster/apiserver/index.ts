// The dev cluster's Kubernetes API server: one process, in-memory storage (optionally
// persisted to a data dir), spoken to by the real kubectl, helm and @kubernetes/client-node.
// Two listeners serve the same handler: the plain-HTTP port (kube-apiserver's old insecure
// port: no authentication, full access) and the secure port (TLS, bearer tokens, RBAC).
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Access } from './access.js';
import { ClusterIpAllocator } from './builtins.js';
import { Controllers } from './controllers.js';
import { Counters, type RequestCounters } from './counters.js';
import { FaultInjector } from './faults.js';
import { createHandler } from './http.js';
import { kubeconfigYaml, secureKubeconfigYaml } from './kubeconfig.js';
import { openapiDocument } from './openapi.js';
import { Persistence } from './persistence.js';
import { loadOrCreatePki } from './pki.js';
import type { PodLogReader } from './podlogs.js';
import { Registry } from './registry.js';
import { Rest } from './rest.js';
import { admitPodServiceAccount } from './sa-admission.js';
import { Store } from './store.js';
import { SystemControllers } from './system-controllers.js';
import { TokenIssuer } from './tokens.js';

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
  /** The secure (HTTPS) port; 0 (default) picks a free one. */
  securePort?: number;
  /** The clock of token issuing and expiry, in ms since the epoch (tests move it forward). */
  now?: () => number;
}

export interface ApiServer {
  /** The insecure port: plain HTTP, no authentication, every request allowed. */
  url: string;
  port: number;
  /** The secure port: `https://<host>:<securePort>`, bearer tokens, RBAC. */
  secureUrl: string;
  securePort: number;
  /** PEM of the cluster CA that signed the secure port's certificate (also in every namespace's kube-root-ca.crt). */
  caCert: string;
  /** Path of that CA on disk (`<dataDir>/pki/ca.crt`, or a temp dir removed on stop). */
  caFile: string;
  /** Cluster IP of `default/kubernetes` (port 443 → the secure port). */
  serviceIp: string;
  /** Bearer token of user `admin` (group system:masters) on the secure port. */
  adminToken: string;
  faults: FaultInjector;
  counters(): RequestCounters;
  resetCounters(): void;
  /** Current global resourceVersion. */
  resourceVersion(): number;
  /** Resolves when the in-process controllers (GC, namespaces, CRDs) have nothing queued. */
  settled(): Promise<void>;
  writeKubeconfig(path: string): void;
  /** A kubeconfig for the secure port: the CA inline and the admin's token. */
  writeSecureKubeconfig(path: string): void;
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
    beforeCreate: (t, obj) => {
      if (t.builtin && t.kind === 'CustomResourceDefinition') hooks.crdCreated?.(obj);
      if (t.builtin && t.kind === 'Pod') {
        const m = obj.metadata;
        admitPodServiceAccount(obj, m.generateName ? '' : m.name, (name) =>
          store.get('/serviceaccounts', m.namespace, name),
        );
      }
    },
  });
  const controllers = new Controllers(store, registry, rest);
  hooks.crdCreated = (obj) => controllers.crdCreated(obj);
  if (saved) {
    // CRDs first, so that their types exist when custom resources are restored.
    for (const { storageKey, object } of saved.objects) {
      store.restore(storageKey, object);
      if (storageKey === 'apiextensions.k8s.io/customresourcedefinitions')
        controllers.syncCrdTypes(object, object.metadata.name);
      if (storageKey === '/services' && object.spec?.clusterIP && object.spec.clusterIP !== 'None')
        ips.reserve(object.spec.clusterIP);
    }
  }
  controllers.start();
  if (!saved) bootstrap(rest, registry);
  persistence?.attach(store);

  // Key material under the data dir survives a restart (the CA clients trust, issued tokens).
  const tempPki = opts.dataDir ? undefined : mkdtempSync(join(tmpdir(), 'devcluster-pki-'));
  const pkiDir = tempPki ?? join(opts.dataDir!, 'pki');
  const serviceIp = kubernetesServiceIp(pkiDir, ips);
  const pki = loadOrCreatePki(pkiDir, serviceIp);
  const now = opts.now ?? Date.now;
  const issuer = new TokenIssuer(pki.serviceAccountKey);
  const access = new Access({ store, issuer, adminToken: pki.adminToken, now });

  const faults = new FaultInjector();
  faults.compactHistory = () => store.compact();
  const counters = new Counters();
  let address = '';
  let podLogReader: PodLogReader | undefined;
  const handler = createHandler({
    store,
    registry,
    rest,
    faults,
    counters,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 10_000,
    serverAddress: () => address,
    openapi: (path, accept) => openapiDocument(registry, path, accept),
    podLogs: () => podLogReader,
    access,
    issuer,
    now,
  });
  const sockets = new Set<Socket>();
  const server = createServer(handler);
  const secureServer = createTlsServer({ cert: pki.servingCert, key: pki.servingKey }, handler);
  let port: number;
  let securePort: number;
  try {
    port = await listen(server, opts.port ?? 0, host, sockets);
    securePort = await listen(secureServer, opts.securePort ?? 0, host, sockets);
  } catch (err) {
    server.close();
    if (tempPki) rmSync(tempPki, { recursive: true, force: true });
    throw err;
  }
  address = `${host}:${port}`;
  const url = `http://${address}`;
  const secureUrl = `https://${host}:${securePort}`;

  const system = new SystemControllers(store, registry, rest, {
    caCert: pki.caCert,
    securePort,
    serviceIp,
    endpointIp: host === '0.0.0.0' ? '127.0.0.1' : host,
  });
  system.start();
  const settled = async () => {
    // Each set of controllers may give the other work (a namespace's CA ConfigMap, its GC).
    for (let i = 0; i < 3; i++) {
      await controllers.whenIdle();
      await system.whenIdle();
    }
  };
  await settled();

  return {
    url,
    port,
    faults,
    secureUrl,
    securePort,
    caCert: pki.caCert,
    caFile: pki.caCertFile,
    serviceIp,
    adminToken: pki.adminToken,
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    resourceVersion: () => store.rv,
    settled,
    writeKubeconfig: (path) => writeFileSync(path, kubeconfigYaml(url), { mode: 0o600 }),
    writeSecureKubeconfig: (path) =>
      writeFileSync(path, secureKubeconfigYaml(secureUrl, pki.caCert, pki.adminToken), { mode: 0o600 }),
    setPodLogReader: (reader) => {
      podLogReader = reader;
    },
    stop: async () => {
      controllers.stop();
      system.stop();
      access.stop();
      faults.dropWatches();
      const closed = (s: Server) => new Promise<void>((resolve) => s.close(() => resolve()));
      const both = Promise.all([closed(server), closed(secureServer)]);
      for (const s of sockets) s.destroy();
      await both;
      await persistence?.flush();
      if (tempPki) rmSync(tempPki, { recursive: true, force: true });
    },
  };
}

function listen(server: Server, port: number, host: string, sockets: Set<Socket>): Promise<number> {
  server.keepAliveTimeout = 65_000;
  // The TLS server reports its raw TCP sockets on 'connection' too; both are destroyed on stop.
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * What a fresh cluster has: the system namespaces. The `kubernetes` Service, the default RBAC
 * policy and the CA ConfigMaps are kept by SystemControllers at every start.
 */
function bootstrap(rest: Rest, registry: Registry): void {
  const namespaces = registry.lookup('', 'v1', 'namespaces')!;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    rest.create(namespaces, '', { metadata: { name } }, { fieldManager: 'kube-apiserver' });
  }
}

/**
 * The `default/kubernetes` Service's cluster IP. kube-apiserver takes the first address of the
 * range; dev clusters side by side share one loopback range, so each takes an address of its
 * own instead, kept with its key material (the serving certificate names it).
 */
function kubernetesServiceIp(pkiDir: string, ips: ClusterIpAllocator): string {
  const file = join(pkiDir, 'kubernetes-service-ip');
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (kept) return kept;
  // Picked, then released: the Service's own create claims it.
  const ip = ips.allocate();
  ips.release(ip);
  mkdirSync(pkiDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${ip}\n`);
  return ip;
}
