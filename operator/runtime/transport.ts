// HTTP transport to the API server, using KubeConfig only for the server address and
// credentials (tokens, client certificates, CA). We issue requests ourselves rather than via
// client-node's generated APIs so that every kind (built-in or custom) goes through one path,
// the Content-Type of patches is exactly what we ask for, and watch streams are under our
// control (410 detection, idle timeouts, cancellation).
import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { KubeConfig } from '@kubernetes/client-node';
import { errorFromResponse, unavailable } from './errors.js';
import { connectionFromRequestOptions, type ClusterConnection, type ConnectionOptions } from './kubeconfig.js';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Query;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface LineStream {
  lines: AsyncIterable<string>;
  close(): void;
}

type AuthOptions = ConnectionOptions;

export interface TransportOptions {
  /** How long credentials (and the agent) are reused before KubeConfig is asked again. */
  authTtlMs?: number;
  /** Deadline of ordinary (non-watch) requests. */
  requestTimeoutMs?: number;
  userAgent?: string;
}

export class KubeTransport {
  readonly server: string;
  private auth?: { at: number; options: Promise<AuthOptions> };
  private readonly authTtlMs: number;
  private readonly requestTimeoutMs: number;
  private readonly userAgent: string;

  private readonly cluster: ClusterConnection;

  /**
   * `config`: what loadKubeConfig() returns, or a @kubernetes/client-node KubeConfig (tests and
   * tools that already hold one; the operator itself avoids loading client-node).
   */
  constructor(config: KubeConfig | ClusterConnection, opts: TransportOptions = {}) {
    this.cluster = isClusterConnection(config) ? config : fromClientNode(config);
    this.server = this.cluster.server.replace(/\/+$/, '');
    this.authTtlMs = opts.authTtlMs ?? 60_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? 'modelship-operator';
  }

  /** Sends one request and returns the parsed JSON body; non-2xx answers throw typed errors. */
  async request<T>(spec: RequestSpec): Promise<T> {
    const what = `${spec.method} ${spec.path}`;
    const res = await this.send(spec, spec.timeoutMs ?? this.requestTimeoutMs);
    const text = await readBody(res, what);
    const body = parseJson(text);
    if ((res.statusCode ?? 0) >= 300) throw errorFromResponse(res.statusCode ?? 0, body ?? text, what);
    return body as T;
  }

  /**
   * Opens a streaming GET (a watch) and yields its lines. Non-2xx answers throw typed errors.
   * The stream is aborted when no byte arrives for `idleTimeoutMs` (a half-dead connection).
   */
  async stream(spec: Omit<RequestSpec, 'method' | 'body'>, idleTimeoutMs: number): Promise<LineStream> {
    const what = `GET ${spec.path} (watch)`;
    const res = await this.send({ ...spec, method: 'GET' }, this.requestTimeoutMs);
    if ((res.statusCode ?? 0) >= 300) {
      const text = await readBody(res, what);
      throw errorFromResponse(res.statusCode ?? 0, parseJson(text) ?? text, what);
    }
    let idle: NodeJS.Timeout | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => res.destroy(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    };
    armIdle();
    res.on('data', armIdle);
    res.on('close', () => clearTimeout(idle));
    // The request's socket timeout must not kill a quiet but healthy watch; idle handling is ours.
    res.socket?.setTimeout(0);
    let closedByClient = false;
    const lines = (async function* () {
      let rest = '';
      const decoder = new StringDecoder('utf8');
      try {
        for await (const chunk of res) {
          const parts = (rest + decoder.write(chunk as Buffer)).split('\n');
          rest = parts.pop() ?? '';
          for (const line of parts) if (line.trim()) yield line;
        }
        if (rest.trim()) yield rest;
      } catch (e) {
        if (!closedByClient) throw unavailable(what, e);
      } finally {
        clearTimeout(idle);
        res.destroy();
      }
    })();
    return {
      lines,
      close: () => {
        closedByClient = true;
        clearTimeout(idle);
        res.destroy();
      },
    };
  }

  private async send(spec: RequestSpec, timeoutMs: number): Promise<http.IncomingMessage> {
    const what = `${spec.method} ${spec.path}`;
    const url = new URL(this.server + spec.path);
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let auth: AuthOptions;
    try {
      auth = await this.authOptions();
    } catch (e) {
      throw unavailable(`${what}: loading credentials`, e);
    }
    const payload = spec.body === undefined ? undefined : Buffer.from(JSON.stringify(spec.body));
    const headers: Record<string, string> = {
      ...auth.headers,
      Accept: 'application/json',
      'User-Agent': this.userAgent,
    };
    if (payload) {
      headers['Content-Type'] = spec.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const lib = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request(url, {
        method: spec.method,
        headers,
        agent: auth.agent,
        signal: spec.signal,
        timeout: timeoutMs,
      });
      req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      req.on('error', (e) => reject(unavailable(what, e)));
      req.on('response', resolve);
      req.end(payload);
    });
  }

  private authOptions(): Promise<AuthOptions> {
    const now = Date.now();
    if (!this.auth || now - this.auth.at > this.authTtlMs) {
      const options = this.loadAuth();
      this.auth = { at: now, options };
      options.catch(() => {
        this.auth = undefined;
      });
    }
    return this.auth.options;
  }

  private loadAuth(): Promise<AuthOptions> {
    return this.cluster.connection();
  }
}

function isClusterConnection(c: KubeConfig | ClusterConnection): c is ClusterConnection {
  return typeof (c as ClusterConnection).connection === 'function';
}

/** A ClusterConnection over a client-node KubeConfig (client-node is loaded already: its caller holds one). */
function fromClientNode(kc: KubeConfig): ClusterConnection {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  let effective: Promise<KubeConfig> | undefined;
  return {
    server: cluster.server,
    async connection() {
      effective ??= cluster.server.startsWith('http:') ? withoutTlsCheck(kc) : Promise.resolve(kc);
      const opts: https.RequestOptions = {};
      await (await effective).applyToHTTPSOptions(opts);
      return connectionFromRequestOptions(opts);
    },
  };
}

/**
 * client-node refuses plain-HTTP servers unless TLS verification is switched off, which is
 * meaningless without TLS anyway (kubectl accepts such kubeconfigs as they are): a kubeconfig
 * pointing at `kubectl proxy` or another plain-HTTP endpoint on the same machine.
 */
async function withoutTlsCheck(kc: KubeConfig): Promise<KubeConfig> {
  const { KubeConfig: KubeConfigClass } = await import('@kubernetes/client-node');
  const copy = new KubeConfigClass();
  copy.loadFromOptions({
    clusters: kc.clusters.map((c) => (c.server.startsWith('http:') ? { ...c, skipTLSVerify: true } : c)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return copy;
}

function readBody(res: http.IncomingMessage, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', (e) => reject(unavailable(what, e)));
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
