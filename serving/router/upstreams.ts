// One keep-alive agent per upstream origin, so the router reuses TCP connections instead of
// paying a handshake per request (that handshake alone would blow the 1 ms overhead budget).
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { DEFAULT_SHUTDOWN_DELAY_MS } from '../lib/protocol/options.js';

export interface UpstreamTarget {
  origin: string;
  hostHeader: string;
  /** Path prefix of the upstream URL without a trailing slash ("" for "http://h:80/"). */
  basePath: string;
  request(options: RequestOptions): ClientRequest;
}

/**
 * How long an unused pooled socket is kept: a second less than a model server's shutdown delay.
 * When a draining pod closes its idle connections, the router has already let go of every
 * socket idle since the drain began (the others got `Connection: close`), so no request is sent
 * on a socket the pod is closing at that instant, which would be a 502.
 */
export const IDLE_SOCKET_MS = DEFAULT_SHUTDOWN_DELAY_MS - 1_000;

export class UpstreamPool {
  private readonly targets = new Map<string, UpstreamTarget & { agent: HttpAgent }>();

  constructor(private readonly idleSocketMs = IDLE_SOCKET_MS) {}

  get(url: string): UpstreamTarget {
    const found = this.targets.get(url);
    if (found) return found;
    const parsed = new URL(url);
    const https = parsed.protocol === 'https:';
    const agentOptions = {
      keepAlive: true,
      keepAliveMsecs: 1000,
      maxFreeSockets: 256,
      scheduling: 'lifo' as const,
      timeout: this.idleSocketMs,
    };
    const agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    const send = https ? httpsRequest : httpRequest;
    const target = {
      agent,
      origin: parsed.origin,
      hostHeader: parsed.host,
      basePath: parsed.pathname.replace(/\/+$/, ''),
      request: (options: RequestOptions) =>
        send({
          ...options,
          agent,
          protocol: parsed.protocol,
          hostname: parsed.hostname,
          port: parsed.port || (https ? 443 : 80),
        }),
    };
    this.targets.set(url, target);
    return target;
  }

  /**
   * Forgets agents of upstreams no longer in the table. Their idle sockets close on the agent's
   * idle timeout; in-flight requests on them finish normally (agent.destroy would cut them).
   */
  retainOnly(urls: Iterable<string>): void {
    const keep = new Set(urls);
    for (const url of this.targets.keys()) if (!keep.has(url)) this.targets.delete(url);
  }

  /** Closes every socket (shutdown only). */
  destroy(): void {
    for (const t of this.targets.values()) t.agent.destroy();
    this.targets.clear();
  }
}
