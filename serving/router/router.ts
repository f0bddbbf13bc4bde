// The router: a routing table (rebuilt whenever the source changes), a pool of keep-alive
// upstream agents, the proxy, and admin endpoints. The traffic port is the public one: it serves
// only the probes under ADMIN_PREFIX and proxies the rest, except the model servers' internal
// paths. The table and the metrics are on the admin port only.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RouterConfig, Upstream } from './config.js';
import { sendError } from './errors.js';
import { RouterMetrics } from './metrics.js';
import { FeedbackBodyError, pickEndpoint, predictionKey, readFeedbackBody } from './feedback.js';
import { forward, mirror, originForm, type AnswerListener } from './proxy.js';
import { joinAnswers, pairAnswers, ShadowJoin, type ShadowJoinOptions } from './shadow-join.js';
import { jsonLogger, type RouterLogger, type RoutingSource } from './source.js';
import { RoutingTable } from './table.js';
import { UpstreamPool } from './upstreams.js';

export const ADMIN_PREFIX = '/-/router';

export interface RouterOptions {
  source: RoutingSource;
  log?: RouterLogger;
  metrics?: RouterMetrics;
  /** Upstream socket inactivity limit in ms (default 60 000); before headers → 504. */
  upstreamTimeoutMs?: number;
  /** Request bytes a slow mirror may lag behind before its copy is dropped (default 8 MiB). */
  mirrorMaxBufferedBytes?: number;
  /** A request body that stalls this long is answered 408, not held open against an upstream. */
  clientBodyTimeoutMs?: number;
  /** Bounds of the store joining a shadow's predictions to stable's (shadow-join.ts). */
  shadowJoin?: ShadowJoinOptions;
}

/** As long as a model server waits for a whole request (its --request-timeout-ms default). */
export const DEFAULT_CLIENT_BODY_TIMEOUT_MS = 10_000;

const PROBES = new Set(['/healthz', '/readyz']);

/**
 * Model-server paths meant for the cluster (Prometheus, the operator) and not for clients: the
 * metrics and the reference profile describe traffic and training data.
 */
const isInternal = (target: string): boolean => {
  const path = target.split('?')[0];
  return path === '/metrics' || /^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/profile$/.test(path);
};

/** The endpoint a prediction's feedback goes to; the upstream's URL when its pods are not known. */
const endpointFor = (upstream: Upstream, key: string | undefined): string | undefined =>
  key && upstream.endpoints?.length ? pickEndpoint(upstream.endpoints, key) : undefined;

const isFeedback = (req: IncomingMessage): boolean =>
  req.method === 'POST' && originForm(req.url).split('?')[0] === '/feedback';
const isPredict = (req: IncomingMessage): boolean =>
  req.method === 'POST' && originForm(req.url).split('?')[0] === '/predict';

/** The predictionId and labels of a feedback body; either undefined when absent or malformed. */
function feedbackOf(body: Buffer): { predictionId?: string; labels?: Record<string, unknown> } {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { predictionId?: unknown; labels?: unknown };
    return {
      ...(typeof parsed.predictionId === 'string' ? { predictionId: parsed.predictionId } : {}),
      ...(parsed.labels && typeof parsed.labels === 'object' && !Array.isArray(parsed.labels)
        ? { labels: parsed.labels as Record<string, unknown> }
        : {}),
    };
  } catch {
    return {};
  }
}

export class Router {
  readonly metrics: RouterMetrics;
  private table: RoutingTable;
  private readonly pool = new UpstreamPool();
  private readonly shadowJoin: ShadowJoin;
  private readonly log: RouterLogger;
  private draining = false;

  constructor(private readonly options: RouterOptions) {
    this.log = options.log ?? jsonLogger;
    this.metrics = options.metrics ?? new RouterMetrics();
    this.shadowJoin = new ShadowJoin(options.shadowJoin);
    this.table = this.apply(options.source.current());
    options.source.onChange((config) => {
      this.table = this.apply(config);
    });
  }

  /** The table in use (for tests and the admin `config` endpoint). */
  get config(): RouterConfig {
    return this.table.config;
  }

  /** Traffic-port handler: the probes under ADMIN_PREFIX, internal paths refused, the rest proxied. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    if (url.startsWith(`${ADMIN_PREFIX}/`)) {
      const path = url.slice(ADMIN_PREFIX.length);
      if (PROBES.has(path.split('?')[0])) this.admin(path, res);
      else {
        req.resume();
        sendError(res, 'NOT_FOUND', `${ADMIN_PREFIX}${path.split('?')[0]} is served on the router's admin port only`);
      }
      return;
    }
    if (isInternal(originForm(url))) {
      req.resume();
      sendError(res, 'NOT_FOUND', 'not served through the router: the model servers answer it in the cluster only');
      return;
    }
    if (isFeedback(req)) void this.proxyFeedback(req, res);
    else this.proxy(req, res);
  };

  /** Admin-port handler: the same admin endpoints, with or without the prefix. */
  readonly handleAdmin = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    this.admin(url.startsWith(`${ADMIN_PREFIX}/`) ? url.slice(ADMIN_PREFIX.length) : url, res);
  };

  /** Marks the router not ready (readyz 503) while the server drains. */
  startDraining(): void {
    this.draining = true;
  }

  close(): void {
    this.draining = true;
    this.options.source.close();
    this.pool.destroy();
  }

  private apply(config: RouterConfig): RoutingTable {
    this.metrics.tableApplied(config);
    this.pool.retainOnly(config.upstreams.flatMap((u) => [u.url, ...(u.endpoints ?? [])]));
    return new RoutingTable(config);
  }

  /**
   * Feedback: read (small), then sent to the one endpoint its predictionId hashes to, so that
   * replays of a prediction always meet the same replay memory.
   */
  private async proxyFeedback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const model = this.table.config.model;
    let body: Buffer;
    try {
      body = await readFeedbackBody(req, this.clientBodyTimeoutMs);
    } catch (err) {
      const e = err as FeedbackBodyError;
      const status = e.code === 'CLIENT_GONE' ? (res.destroy(), 499) : sendError(res, e.code, e.message);
      this.metrics.requests.inc({ model, role: 'none', version: 'none', code: String(status) });
      return;
    }
    const key = predictionKey(body);
    this.proxy(req, res, { body, endpointKey: key });
  }

  private get clientBodyTimeoutMs(): number {
    return this.options.clientBodyTimeoutMs ?? DEFAULT_CLIENT_BODY_TIMEOUT_MS;
  }

  private proxy(req: IncomingMessage, res: ServerResponse, feedback?: { body: Buffer; endpointKey?: string }): void {
    const table = this.table;
    const model = table.config.model;
    const route = table.route(req.headers, feedback ? 'feedback' : 'request');
    if (route.upstream === undefined) {
      req.resume();
      const status = sendError(res, route.code, route.message);
      this.metrics.requests.inc({ model, role: 'none', version: 'none', code: String(status) });
      return;
    }
    const upstream = route.upstream;
    const labels = { model, role: upstream.role, version: upstream.version };
    // Feedback is never copied: a mirror's pods would count it a second time.
    const copyTo = feedback ? undefined : table.mirrorFor(upstream);
    const answers = copyTo && isPredict(req) ? this.pairAnswers(model, upstream, copyTo) : undefined;
    forward(req, res, upstream, {
      pool: this.pool,
      timeoutMs: this.options.upstreamTimeoutMs ?? 60_000,
      clientBodyTimeoutMs: this.clientBodyTimeoutMs,
      ...(feedback ? { body: feedback.body, targetUrl: endpointFor(upstream, feedback.endpointKey) } : {}),
      ...(answers ? { onAnswer: answers.stable } : {}),
      done: (status, seconds) => {
        this.metrics.requests.inc({ ...labels, code: String(status) });
        if (seconds !== undefined) this.metrics.upstreamDuration.observe(labels, seconds);
        if (feedback && status === 200) this.scoreShadow(model, feedback.body);
      },
    });
    if (copyTo) this.sendMirror(req, copyTo, model, answers?.shadow);
  }

  /** Joins stable's and the shadow's answers to one prediction request (shadow-join.ts). */
  private pairAnswers(model: string, stable: Upstream, shadow: Upstream) {
    const versions = { stable: stable.version, shadow: shadow.version };
    return pairAnswers((a, b) => {
      const { result, pairs } = joinAnswers(this.shadowJoin, versions, a, b);
      this.metrics.shadowJoins.inc({ model, version: shadow.version, result });
      for (const p of pairs)
        this.metrics.shadowPairs.inc({
          model,
          version: shadow.version,
          stable_version: stable.version,
          head: p.head,
          stable_class: p.stable,
          shadow_class: p.shadow,
          agree: String(p.stable === p.shadow),
        });
    });
  }

  /** Feedback stable accepted also scores the shadow's prediction for the same input, once. */
  private scoreShadow(model: string, body: Buffer): void {
    if (this.shadowJoin.size === 0) return;
    const { predictionId, labels } = feedbackOf(body);
    if (predictionId === undefined || labels === undefined) return;
    const scored = this.shadowJoin.score(predictionId, labels);
    if (!scored) {
      const shadow = this.table.mirrorTarget();
      if (shadow) this.metrics.shadowJoins.inc({ model, version: shadow.version, result: 'feedback_unmatched' });
      return;
    }
    const { versions } = scored;
    for (const h of scored.heads)
      for (const [judged, correct] of [
        ['stable', h.stableCorrect],
        ['shadow', h.shadowCorrect],
      ] as const)
        this.metrics.shadowFeedback.inc({
          model,
          version: versions.shadow,
          stable_version: versions.stable,
          head: h.head,
          judged,
          outcome: correct ? 'correct' : 'incorrect',
        });
  }

  private sendMirror(req: IncomingMessage, target: Upstream, model: string, onAnswer?: AnswerListener): void {
    mirror(req, target, {
      ...(onAnswer ? { onAnswer } : {}),
      pool: this.pool,
      timeoutMs: this.options.upstreamTimeoutMs ?? 60_000,
      maxBufferedBytes: this.options.mirrorMaxBufferedBytes ?? 8 * 2 ** 20,
      done: (result) => this.metrics.mirrored.inc({ model, role: target.role, version: target.version, result }),
    });
  }

  private admin(path: string, res: ServerResponse): void {
    const route = path.split('?')[0];
    if (route === '/healthz') return json(res, 200, { status: 'ok' });
    if (route === '/readyz') {
      const reason = this.draining
        ? 'shutting down'
        : this.table.config.upstreams.some((u) => u.weight > 0)
          ? undefined
          : 'no upstream with a positive weight';
      return reason ? json(res, 503, { status: 'not ready', reason }) : json(res, 200, { status: 'ready' });
    }
    if (route === '/config') return json(res, 200, this.table.config);
    if (route === '/metrics') {
      this.metrics.registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': this.metrics.registry.contentType });
          res.end(text);
        },
        (err) => {
          this.log.error('metrics failed', { error: (err as Error).message });
          json(res, 500, { error: { code: 'METRICS_FAILED', message: 'metrics collection failed' } });
        },
      );
      return;
    }
    sendError(res, 'NOT_FOUND', `no admin endpoint ${path}; try ${ADMIN_PREFIX}/healthz, /readyz, /metrics or /config`);
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}

export interface RunningRouter {
  router: Router;
  server: Server;
  adminServer: Server;
  /** e.g. "http://127.0.0.1:41234" */
  url: string;
  adminUrl: string;
  /** Stops accepting, waits up to `graceMs` for in-flight requests, then closes everything. */
  close(graceMs?: number): Promise<void>;
}

export interface StartRouterOptions extends RouterOptions {
  /** Both ports listen on it; unset: all addresses. */
  host?: string;
  port?: number;
  /** The admin port (table, metrics, probes); 0 or unset: any free port. */
  adminPort?: number;
}

function listen(server: Server, port: number, host: string | undefined): Promise<AddressInfo> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolveListen(server.address() as AddressInfo);
    });
  });
}

function urlOf(address: AddressInfo): string {
  if (address.address === '0.0.0.0' || address.address === '::') return `http://127.0.0.1:${address.port}`;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export async function startRouter(options: StartRouterOptions): Promise<RunningRouter> {
  const router = new Router(options);
  const host = options.host;
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, router.handle);
  const address = await listen(server, options.port ?? 0, host);
  const adminServer = createServer(router.handleAdmin);
  const adminUrl = urlOf(await listen(adminServer, options.adminPort ?? 0, host));
  const close = async (graceMs = 10_000) => {
    router.startDraining();
    const closed = new Promise<void>((done) => server.close(() => done()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    adminServer.closeAllConnections();
    await new Promise<void>((done) => adminServer.close(() => done()));
    router.close();
  };
  return { router, server, adminServer, url: urlOf(address), adminUrl, close };
}
