// /healthz (the process serves), /readyz (caches synced; a standby is ready too, so a rolling
// update never waits for leadership) and /metrics, on one small HTTP server.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  isReady: () => boolean;
  isHealthy?: () => boolean;
}

export function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const text = (code: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'Content-Type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
    if (path === '/healthz') return (opts.isHealthy?.() ?? true) ? text(200, 'ok\n') : text(500, 'unhealthy\n');
    if (path === '/readyz') return opts.isReady() ? text(200, 'ok\n') : text(503, 'caches not synced\n');
    if (path === '/metrics') {
      opts.registry.metrics().then(
        (m) => text(200, m, opts.registry.contentType),
        (e) => text(500, String(e)),
      );
      return;
    }
    text(404, 'not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}
