// The `serve` HTTP server: per-request deadline, metrics per request, readiness (503 until
// the model is loaded and once draining), graceful drain, and the handlers behind the
// routes (routes.ts). Handlers return a Reply instead of writing, so every path is measured
// and every failure goes through the one error mapping (error-status.ts).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asServingError, ServingError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { ItemPrediction } from '../model/heads.js';
import { predictionsFromRaw, type Model } from '../model/onnx-model.js';
import { ServingMetrics } from '../monitoring/metrics.js';
import { featureNames, prepareDecoded, prepareImages, prepareRows, type PreparedBatch } from '../pipeline/prepare.js';
import { mediaTypeOf, parseJson, readBody } from './body.js';
import { errorBody, errorHeaders, httpStatusOf, oipErrorBody } from './error-status.js';
import { authenticateFeedback, judgeFeedback } from './feedback.js';
import { inferResponse, modelMetadata, parseInferRequest } from './oip.js';
import {
  DEFAULT_FEEDBACK_TTL_S,
  DEFAULT_LIMITS,
  DEFAULT_SEEN_CAPACITY,
  type AppOptions,
  type Limits,
} from './options.js';
import { parsePredictBody } from './predict-input.js';
import { json, requestDeadline, stillAwaited, writeReply, type Reply, type RequestContext } from './request.js';
import { routeRequest, type Route, type RouteHandlers } from './routes.js';
import { ReplayMemory } from './replay.js';
import { Admission, admissionLimitsFor, admitRequest, DEFAULT_MEMORY_LIMIT, type Ticket } from './admission.js';
import { TokenSigner } from './token.js';

export class ServingApp {
  readonly server: Server;
  readonly metrics: ServingMetrics;
  readonly name: string;
  readonly version: string;
  readonly limits: Limits;
  private model: Model | undefined;
  private draining = false;
  /** requests not yet answered */
  private inflight = 0;
  /** handlers not yet settled; outlives `inflight` when a deadline answered first */
  private working = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly signer: TokenSigner;
  private readonly seen: ReplayMemory;
  private readonly admission: Admission;
  private readonly log: Logger;
  private readonly handlers: RouteHandlers = {
    predict: (req, ctx) => this.predict(req, ctx),
    infer: (req, ctx) => this.infer(req, ctx),
    feedback: (req, ctx) => this.feedback(req, ctx),
    metrics: () => this.renderMetrics(),
    index: () => this.index(),
    readiness: () => this.readiness(),
    profile: () => this.profile(),
    modelMetadata: () => json(200, modelMetadata(this)),
    checkModel: (name, version) => this.checkModel(name, version),
  };

  constructor(private readonly opts: AppOptions) {
    const sig = opts.artifact.signature;
    this.name = opts.name ?? sig.name;
    this.version = opts.version;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.log = opts.logger ?? silentLogger;
    this.signer = new TokenSigner(opts.feedbackKey, opts.feedbackTtlSeconds ?? DEFAULT_FEEDBACK_TTL_S);
    const capacity = opts.seenCapacity ?? DEFAULT_SEEN_CAPACITY;
    this.seen = opts.replayJournal ? ReplayMemory.journaled(capacity, opts.replayJournal) : new ReplayMemory(capacity);
    this.admission = new Admission(opts.admission ?? admissionLimitsFor(DEFAULT_MEMORY_LIMIT));
    this.metrics = new ServingMetrics(
      { model: this.name, version: this.version, digest: opts.artifact.digest },
      { processMetrics: opts.processMetrics },
    );
    this.metrics.describeModel(sig, featureNames(sig), opts.artifact.profile);
    this.server = createServer(
      {
        keepAliveTimeout: 65_000,
        requestTimeout: this.limits.requestTimeoutMs * 3,
        headersTimeout: this.limits.requestTimeoutMs * 2,
      },
      (req, res) => {
        void this.dispatch(req, res);
      },
    );
  }

  get signature() {
    return this.opts.artifact.signature;
  }
  get ready(): boolean {
    return this.model !== undefined && !this.draining;
  }

  /** Makes the app ready; until then inference routes and readiness answer 503. */
  setModel(model: Model): void {
    this.model = model;
  }

  /** Listens on `host`, or on all addresses when it is undefined. */
  listen(port: number, host?: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /**
   * Readiness 503, requests still answered with Connection: close: kube-proxy and clients' pools
   * learn of a terminating pod late, and refusing them would count as the version's errors.
   */
  startDraining(): void {
    this.draining = true;
  }

  /** Stops accepting, lets in-flight requests finish (up to timeoutMs), then closes every connection. */
  async drain(timeoutMs: number): Promise<void> {
    this.startDraining();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const idle = this.isIdle() ? Promise.resolve() : new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      idle,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
    // Never release the session under a running inference; the process exit frees it then.
    if (this.isIdle()) await this.model?.close();
  }

  private isIdle(): boolean {
    return this.inflight === 0 && this.working === 0;
  }

  private wakeIfIdle(): void {
    if (this.draining && this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx: RequestContext = { started: performance.now(), bodyDone: false, abandoned: false };
    const route = routeRequest(req, this.handlers);
    let ticket: Ticket;
    try {
      ticket = admitRequest(this.admission, req, route.handler, this.limits);
    } catch (err) {
      // At capacity: answered at once, body unread, and not measured as the model's answer.
      writeReply(req, res, this.errorReply(err, route), { version: this.version, draining: this.draining });
      this.metrics.countRefused(route.handler);
      return;
    }
    this.inflight++;
    let reply: Reply;
    const deadline = requestDeadline(ctx, this.limits.requestTimeoutMs);
    try {
      this.working++;
      const handling = Promise.resolve().then(() => route.handle(req, ctx));
      const settled = () => {
        ticket.release();
        this.working--;
        this.wakeIfIdle();
      };
      handling.then(settled, settled);
      reply = await Promise.race([handling, deadline.expired]);
    } catch (err) {
      reply = this.errorReply(err, route);
    } finally {
      deadline.cancel();
    }
    writeReply(req, res, reply, { version: this.version, draining: this.draining });
    this.metrics.observeRequest(route.handler, reply.status, (performance.now() - ctx.started) / 1000);
    this.inflight--;
    this.wakeIfIdle();
  }

  private errorReply(err: unknown, route: Route): Reply {
    const e = asServingError(err);
    const status = httpStatusOf(e);
    if (status >= 500 && status !== 503)
      this.log.error('request failed', {
        handler: route.handler,
        code: e.code,
        error: String((e.cause as Error | undefined)?.stack ?? e.message),
      });
    if ((route.handler === 'predict' || route.handler === 'infer') && e.code !== 'OVERLOADED')
      this.metrics.countModelError(e.code.toLowerCase());
    return { ...json(status, route.oip ? oipErrorBody(e) : errorBody(e)), headers: errorHeaders(e) };
  }

  private requireModel(): Model {
    if (!this.model) throw new ServingError('NOT_READY', 'model is loading');
    return this.model;
  }

  private checkModel(name: string, version: string | undefined): void {
    if (name !== this.name)
      throw new ServingError('UNKNOWN_MODEL', `unknown model "${name}"; this server serves "${this.name}"`);
    if (version !== undefined && version !== this.version)
      throw new ServingError(
        'UNKNOWN_MODEL',
        `unknown version "${version}" of "${name}"; this server serves "${this.version}"`,
      );
  }

  /**
   * The reference profile (profile.json) of the served model: how the operator reads a version's
   * full reference distributions, since it has no access to the volumes the artifact lives on.
   */
  private profile(): Reply {
    const profile = this.model?.artifact.profile;
    if (!profile)
      throw new ServingError(
        'NOT_FOUND',
        this.model ? 'this model has no profile.json (validation writes it)' : 'model is loading',
      );
    return json(200, profile);
  }

  private readiness(): Reply {
    if (!this.ready) throw new ServingError('NOT_READY', this.model ? 'server is shutting down' : 'model is loading');
    return json(200, { ready: true });
  }

  private index(): Reply {
    const page = this.opts.webPage;
    if (!page) throw new ServingError('NOT_FOUND', 'no web page in this build');
    const heads = this.signature.heads.map((h) => ({ name: h.name, labels: h.labels }));
    return {
      status: 200,
      text: page.render({ model: this.name, version: this.version, heads }),
      contentType: 'text/html; charset=utf-8',
      headers: page.headers,
    };
  }

  private async renderMetrics(): Promise<Reply> {
    const { contentType, body } = await this.metrics.render();
    return { status: 200, text: body, contentType };
  }

  private async body(req: IncomingMessage, ctx: RequestContext): Promise<Buffer> {
    const remaining = Math.max(1, this.limits.requestTimeoutMs - (performance.now() - ctx.started));
    const body = await readBody(req, this.limits.maxBodyBytes, remaining);
    ctx.bodyDone = true;
    return body;
  }

  /** Counts, signs and shapes predictions; shared by /predict and OIP infer. */
  private finishPredictions(
    ctx: RequestContext,
    items: ItemPrediction[],
    batch: Pick<PreparedBatch, 'features'>,
  ): string[] {
    if (ctx.abandoned) throw new ServingError('DEADLINE_EXCEEDED', 'answered already');
    this.metrics.countPredictions(items);
    this.metrics.countFeatures(batch.features);
    return items.map((heads) =>
      this.signer.issue(
        this.name,
        this.version,
        Object.fromEntries(Object.entries(heads).map(([h, p]) => [h, p.label])),
      ),
    );
  }

  private async predict(req: IncomingMessage, ctx: RequestContext): Promise<Reply> {
    const model = this.requireModel();
    const body = await this.body(req, ctx);
    const sig = this.signature;
    const input = await parsePredictBody(String(req.headers['content-type'] ?? ''), body, sig, this.limits);
    stillAwaited(ctx, 'decoding');
    const batch =
      input.kind === 'images' && sig.input.kind === 'image'
        ? await prepareImages(sig.input, input.images, this.limits.maxPixels)
        : sig.input.kind === 'tensor' && input.kind === 'rows'
          ? prepareRows(sig.input, input.rows)
          : undefined;
    if (!batch) throw new ServingError('INVALID_INPUT', 'input does not fit the model');
    stillAwaited(ctx, 'inference');
    const items = await model.predict(batch.input, batch.dims);
    const ids = this.finishPredictions(ctx, items, batch);
    return json(200, {
      model: this.name,
      version: this.version,
      latencyMs: Math.round((performance.now() - ctx.started) * 100) / 100,
      predictions: items.map((heads, i) => ({ predictionId: ids[i], heads })),
    });
  }

  private async infer(req: IncomingMessage, ctx: RequestContext): Promise<Reply> {
    const model = this.requireModel();
    const body = await this.body(req, ctx);
    const mediaType = mediaTypeOf(req);
    if (mediaType !== 'application/json' && mediaType !== '')
      throw new ServingError(
        'UNSUPPORTED_MEDIA_TYPE',
        `content-type "${mediaType}" is not accepted; send application/json`,
      );
    const sig = this.signature;
    const request = parseInferRequest(parseJson(body, this.limits), sig, this.limits.maxImages);
    const plan = request.plan;
    let batch: PreparedBatch;
    if (plan.kind === 'fp32') batch = { input: plan.input, dims: plan.dims, features: plan.rows ?? [] };
    else if (sig.input.kind !== 'image') throw new ServingError('WRONG_TENSOR', 'this model takes FP32 tensors');
    else if (plan.kind === 'pixels') batch = prepareDecoded(sig.input, plan.images);
    else {
      stillAwaited(ctx, 'decoding');
      batch = await prepareImages(sig.input, plan.images, this.limits.maxPixels);
    }
    stillAwaited(ctx, 'inference');
    const raw = await model.runRaw(batch.input, batch.dims);
    const items = predictionsFromRaw(sig.heads, raw, batch.dims[0]);
    const ids = this.finishPredictions(ctx, items, batch);
    return json(200, inferResponse(this, request, raw, ids));
  }

  private async feedback(req: IncomingMessage, ctx: RequestContext): Promise<Reply> {
    authenticateFeedback(req.headers.authorization, this.opts.feedbackCredentials);
    const body = await this.body(req, ctx);
    const mediaType = mediaTypeOf(req);
    if (mediaType !== 'application/json')
      throw new ServingError(
        'UNSUPPORTED_MEDIA_TYPE',
        `content-type "${mediaType || '(none)'}" is not accepted; send application/json`,
      );
    const result = judgeFeedback(parseJson(body, this.limits), {
      signature: this.signature,
      modelName: this.name,
      signer: this.signer,
      seen: this.seen,
    });
    for (const [head, outcome] of Object.entries(result.accepted))
      this.metrics.countFeedback(result.version, head, outcome);
    return json(200, { accepted: result.accepted });
  }
}
