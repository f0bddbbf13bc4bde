// A small Kubernetes REST client for the node agent, speaking plain HTTP(S) like a kubelet.
// We use node:http(s) rather than client-node's generated APIs so that watch streams, status
// subresource writes and 404/409/410 handling are explicit and easy to reason about.
import * as http from 'node:http';
import * as https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KubeApiError';
  }
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    deletionTimestamp?: string;
    deletionGracePeriodSeconds?: number;
    creationTimestamp?: string;
    finalizers?: string[];
    generateName?: string;
  };
  spec?: any;
  status?: any;
  [key: string]: any;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: any;
}

export interface WatchHandle {
  /** Resolves when the stream ends (server closed it, error, or abort). */
  done: Promise<void>;
  abort(): void;
}

interface Connection {
  base: URL;
  requestOptions: https.RequestOptions;
}

export class KubeClient {
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });

  private constructor(private readonly conn: Connection) {}

  /** Closes pooled keep-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  static async fromKubeconfig(path: string): Promise<KubeClient> {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig ${path} has no current cluster`);
    const requestOptions: https.RequestOptions = {};
    if (new URL(cluster.server).protocol === 'https:') await kc.applyToHTTPSOptions(requestOptions);
    else {
      // client-node refuses plain HTTP here; a bearer token is all a plain-HTTP server can use.
      const token = kc.getCurrentUser()?.token;
      if (token) requestOptions.headers = { Authorization: `Bearer ${token}` };
    }
    return new KubeClient({ base: new URL(cluster.server), requestOptions });
  }

  get serverUrl(): string {
    return this.conn.base.toString().replace(/\/$/, '');
  }

  async get<T = KubeObject>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  /** GET that maps 404 to undefined. */
  async getOrUndefined<T = KubeObject>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  }

  async create<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  async replace<T = KubeObject>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  async mergePatch<T = KubeObject>(path: string, patch: unknown): Promise<T> {
    return this.request<T>('PATCH', path, patch, 'application/merge-patch+json');
  }

  async delete(
    path: string,
    options: { gracePeriodSeconds?: number; propagationPolicy?: string; preconditionUid?: string } = {},
  ): Promise<unknown> {
    const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.preconditionUid) body.preconditions = { uid: options.preconditionUid };
    return this.request('DELETE', path, body);
  }

  request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = this.open(method, path, {
        Accept: 'application/json',
        ...(payload ? { 'Content-Type': contentType, 'Content-Length': String(payload.length) } : {}),
      });
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', (err) =>
        reject(new KubeApiError(0, 'ConnectionError', `${method} ${path}: ${err.message}`, { cause: err })),
      );
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) =>
          reject(new KubeApiError(0, 'ConnectionError', `${method} ${path}: ${err.message}`, { cause: err })),
        );
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          let parsed: any;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          if (status >= 200 && status < 300) resolve(parsed as T);
          else
            reject(
              new KubeApiError(
                status,
                parsed?.reason ?? String(status),
                `${method} ${path}: ${status} ${parsed?.message ?? text.slice(0, 200)}`,
              ),
            );
        });
      });
      req.end(payload);
    });
  }

  /** Opens a watch stream and calls onEvent for each newline-delimited JSON event. */
  watch(path: string, onEvent: (ev: WatchEvent) => void): WatchHandle {
    let req: http.ClientRequest | undefined;
    const done = new Promise<void>((resolve, reject) => {
      req = this.open('GET', path, { Accept: 'application/json' }, false);
      req.on('error', (err) =>
        reject(new KubeApiError(0, 'ConnectionError', `watch ${path}: ${err.message}`, { cause: err })),
      );
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            reject(
              new KubeApiError(
                status,
                String(status),
                `watch ${path}: ${status} ${Buffer.concat(chunks).toString('utf8').slice(0, 200)}`,
              ),
            ),
          );
          res.on('error', () => reject(new KubeApiError(status, String(status), `watch ${path}: ${status}`)));
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent);
            } catch (err) {
              req?.destroy(err as Error);
              return;
            }
          }
        });
        res.on('end', () => resolve());
        res.on('error', () => resolve());
        res.on('aborted', () => resolve());
        res.on('close', () => resolve());
      });
      req.end();
    });
    return { done, abort: () => req?.destroy() };
  }

  private open(method: string, path: string, headers: Record<string, string>, pooled = true): http.ClientRequest {
    const url = new URL(path, this.conn.base);
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = {
      ...this.conn.requestOptions,
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: url.pathname + url.search,
      headers: { ...(this.conn.requestOptions.headers as Record<string, string> | undefined), ...headers },
      // Watches get their own connection so a long-lived stream never blocks the pool.
      agent: pooled ? (isHttps ? this.httpsAgent : this.httpAgent) : false,
    };
    return isHttps ? https.request(options) : http.request(options);
  }
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof KubeApiError && err.status === 409;
}
