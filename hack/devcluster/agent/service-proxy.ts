// kube-proxy for the dev cluster: listens on every Service's clusterIP:port (loopback addresses
// from 127.96.0.0/16) and forwards each TCP connection to a ready endpoint, round-robin.
// Like kube-proxy, it programs endpoint changes as a bounded-frequency runner: at once while
// syncs are rare, at most one per `minSyncMs` (1 s, kube-proxy's default minimum sync period)
// after a burst of two. In a rolling update, where changes come in bursts, a pod that turned
// ready is unreachable, and a terminating one still gets new connections, for up to a second:
// servers and clients must cope, as on a real cluster. A Service with no ready endpoints
// programmed is not listened on, so a connect is refused (ECONNREFUSED) as kube-proxy's REJECT
// rule makes it; connections already open stay with their pod.
import * as net from 'node:net';
import type { KubeObject } from './kube-client.js';
import type { Informer } from './informer.js';

interface Listener {
  namespace: string;
  service: string;
  portName?: string;
  ip: string;
  port: number;
  /** Bound only while the Service has ready endpoints programmed. */
  server?: net.Server;
}

export interface ProxyTarget {
  ip: string;
  port: number;
}

/** Ready addresses of the Endpoints subset port that matches the Service port (pure). */
export function readyTargets(endpoints: KubeObject | undefined, portName: string | undefined): ProxyTarget[] {
  const out: ProxyTarget[] = [];
  for (const subset of endpoints?.subsets ?? []) {
    const ports: any[] = subset.ports ?? [];
    const port =
      ports.find((p) => (p.name ?? '') === (portName ?? '')) ??
      (ports.length === 1 && !portName ? ports[0] : undefined);
    if (!port) continue;
    for (const a of subset.addresses ?? []) out.push({ ip: a.ip, port: port.port });
  }
  return out;
}

/** kube-proxy's default --iptables-min-sync-period, and the burst its sync runner allows. */
export const DEFAULT_MIN_SYNC_MS = 1000;
const SYNC_BURST = 2;

const targetKey = (namespace: string, service: string, portName: string | undefined) =>
  `${namespace}/${service}/${portName ?? ''}`;

export class ServiceProxy {
  private readonly listeners = new Map<string, Listener>(); // "ip:port"
  /** What the "rules" say: each Service's ready targets as of the last programming. */
  private programmed = new Map<string, ProxyTarget[]>(); // "ns/service/portName"
  private programTimer?: NodeJS.Timeout;
  /** Sync tokens (a token bucket of SYNC_BURST, refilled one per minSyncMs) and their time. */
  private tokens = SYNC_BURST;
  private tokensAt = Date.now();
  private readonly sockets = new Set<net.Socket>();
  private readonly cursor = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;
  private closed = false;
  private readonly reported = new Set<string>();

  constructor(
    private readonly services: Informer,
    private readonly endpoints: Informer,
    private readonly log: (m: string) => void,
    private readonly minSyncMs = DEFAULT_MIN_SYNC_MS,
  ) {}

  start(): void {
    this.services.onChange(() => {
      this.schedule();
      this.scheduleProgramming();
    });
    this.endpoints.onChange(() => this.scheduleProgramming());
    this.program();
    this.schedule();
  }

  /** Programs soon: in the same tick's batch if a sync token is left, else when one is. */
  private scheduleProgramming(): void {
    if (this.closed || this.programTimer) return;
    const wait = Math.max(0, 1 - this.refillTokens()) * this.minSyncMs;
    this.programTimer = setTimeout(() => {
      this.programTimer = undefined;
      this.tokens = this.refillTokens() - 1;
      this.program();
    }, wait);
  }

  /** The token bucket's level now: one token per minSyncMs since the last look, up to the burst. */
  private refillTokens(): number {
    const now = Date.now();
    this.tokens = Math.min(SYNC_BURST, this.tokens + (now - this.tokensAt) / this.minSyncMs);
    this.tokensAt = now;
    return this.tokens;
  }

  /** Snapshots every Service's ready targets: what new connections go to until the next one. */
  private program(): void {
    const next = new Map<string, ProxyTarget[]>();
    for (const l of this.desired().values()) {
      const key = targetKey(l.namespace, l.service, l.portName);
      next.set(key, readyTargets(this.endpoints.get(l.namespace, l.service), l.portName));
    }
    this.programmed = next;
    for (const l of this.listeners.values()) this.bindWhileServing(l);
  }

  private targetsOf(l: Listener): ProxyTarget[] {
    return this.programmed.get(targetKey(l.namespace, l.service, l.portName)) ?? [];
  }

  /** Listens while the Service has targets, closes the listener (refusing connects) when not. */
  private bindWhileServing(l: Listener): void {
    const serving = this.targetsOf(l).length > 0;
    if (!serving && l.server) {
      l.server.close(); // established connections stay open, as conntrack keeps their flows
      l.server = undefined;
    }
    if (!serving || l.server || this.closed) return;
    const key = `${l.ip}:${l.port}`;
    const server = net.createServer((socket) => this.forward(l, socket));
    l.server = server;
    server.on('error', (err) => {
      // Another dev cluster on this host may hold the address; say so once, keep retrying.
      const line = `service proxy ${l.namespace}/${l.service} on ${key}: ${err.message}; retrying every second`;
      if (!this.reported.has(line)) this.log(line);
      this.reported.add(line);
      if (this.listeners.get(key) === l) this.listeners.delete(key);
      if (l.server === server) l.server = undefined;
      this.retryLater();
    });
    server.listen(l.port, l.ip);
  }

  async stop(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.retryTimer);
    clearTimeout(this.programTimer);
    for (const s of this.sockets) s.destroy();
    const servers = [...this.listeners.values()].flatMap((l) => (l.server ? [l.server] : []));
    await Promise.all(servers.map((server) => new Promise<void>((r) => server.close(() => r()))));
    this.listeners.clear();
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sync();
    }, 20);
  }

  private desired(): Map<string, { namespace: string; service: string; portName?: string; ip: string; port: number }> {
    const want = new Map<string, { namespace: string; service: string; portName?: string; ip: string; port: number }>();
    for (const svc of this.services.list()) {
      const ip = svc.spec?.clusterIP;
      if (!ip || ip === 'None' || !net.isIPv4(ip) || svc.metadata.deletionTimestamp) continue;
      for (const p of svc.spec?.ports ?? []) {
        if ((p.protocol ?? 'TCP') !== 'TCP') continue;
        want.set(`${ip}:${p.port}`, {
          namespace: svc.metadata.namespace ?? 'default',
          service: svc.metadata.name,
          portName: p.name,
          ip,
          port: p.port,
        });
      }
    }
    return want;
  }

  private sync(): void {
    const want = this.desired();
    for (const [key, l] of this.listeners) {
      const w = want.get(key);
      if (!w || w.namespace !== l.namespace || w.service !== l.service || w.portName !== l.portName) {
        l.server?.close();
        this.listeners.delete(key);
      }
    }
    for (const [key, w] of want) {
      if (this.listeners.has(key)) continue;
      const listener: Listener = { ...w };
      this.listeners.set(key, listener);
      this.bindWhileServing(listener);
    }
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.sync();
    }, 1_000);
  }

  private forward(l: Listener, client: net.Socket): void {
    const key = targetKey(l.namespace, l.service, l.portName);
    const targets = this.programmed.get(key) ?? [];
    if (targets.length === 0) {
      client.destroy(); // accepted before the listener closed: the Service lost its endpoints
      return;
    }
    const i = (this.cursor.get(key) ?? 0) % targets.length;
    this.cursor.set(key, i + 1);
    const target = targets[i];
    const upstream = net.connect({ host: target.ip, port: target.port });
    this.sockets.add(client);
    this.sockets.add(upstream);
    const cleanup = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('error', cleanup);
    upstream.on('error', cleanup);
    client.on('close', cleanup);
    upstream.on('close', cleanup);
    client.pipe(upstream);
    upstream.pipe(client);
  }
}
