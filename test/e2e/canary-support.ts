// Shared fixture of the canary end-to-end tests: a dev cluster with the node agent and
// Prometheus, the CRDs, model artifacts on a PVC, labelled images, the operator as a real
// process (so it can be SIGKILLed), a Prometheus proxy that can be cut, and helpers.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, openSync, renameSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { API_VERSION, type InferenceService, type ModelVersion } from '../../operator/api/index.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { readFeedbackCredential } from '../../hack/loadgen/credential.js';
import { routerUpstreams } from '../../hack/loadgen/router-admin.js';
import { emptyStats, runLoad, type LoadStats } from '../../hack/loadgen/loadgen.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import {
  ensureCachedDir,
  ensureImageModelVariant,
  ensureSampleModel,
  generateImages,
  MODEL_CACHE_DIR,
  PYTHON,
  REPO_ROOT,
  scriptsHash,
} from '../support/models.js';

export const NS = 'default';
export const MODEL = 'faces';

/** The sample model trained on shuffled labels: loads and serves, but guesses. */
export function ensureCorruptModel(): Promise<string> {
  return scriptsHash('image').then((hash) =>
    ensureCachedDir(
      MODEL_CACHE_DIR,
      `image-corrupt-${hash}`,
      (dir) =>
        new Promise<void>((resolve, reject) => {
          execFile(
            'bash',
            [join(REPO_ROOT, 'examples', 'sample-model.sh'), dir, 'image'],
            {
              cwd: REPO_ROOT,
              env: { ...process.env, SAMPLE_TRAIN_ARGS: '--corrupt=labels --epochs=2 --patience=1' },
              maxBuffer: 32 << 20,
            },
            (err, _out, stderr) =>
              err ? reject(new Error(`corrupt model build failed: ${stderr}`, { cause: err })) : resolve(),
          );
        }),
    ),
  );
}

export interface Fixture {
  cluster: TestCluster;
  client: KubeClient;
  imagesDir: string;
  pvcRoot: string;
}

/**
 * Cluster + CRDs + artifacts (`good-N` copies of the sample model, `bad`) + 1,000 labelled images:
 * enough that the load generator's random draws are close to fresh traffic for the drift checks,
 * whose evidence accumulates over the whole canary.
 */
export async function startFixture(goodCopies: number): Promise<Fixture> {
  const [good, bad] = await Promise.all([ensureSampleModel(), ensureCorruptModel()]);
  const cluster = await startTestCluster({ agent: true, prometheus: true });
  const r = await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`kubectl apply crds: ${r.stderr}`);
  const pvcRoot = join(cluster.dir, 'volumes', 'pvc');
  const models = join(pvcRoot, NS, 'models');
  mkdirSync(models, { recursive: true });
  for (let i = 1; i <= goodCopies; i++) cpSync(good, join(models, `good-${i}`), { recursive: true });
  cpSync(bad, join(models, 'bad'), { recursive: true });
  const imagesDir = (await generateImages({ count: 1000, seed: 4242, out: join(cluster.dir, 'images') })).dir;
  const client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
  await waitFor(
    async () => {
      await client.list(Kinds.InferenceService, { namespace: NS });
      return true;
    },
    10_000,
    'CRDs served',
  );
  return { cluster, client, imagesDir, pvcRoot };
}

/**
 * The operator as users install it: `helm install` of the chart with its PodMonitors,
 * ServiceMonitor and rules, so it runs as the chart's Deployment (ServiceAccount, RBAC, security
 * context, in-cluster config) and the canary reads series scraped the prometheus-operator way.
 * Resolves once the operator Deployment is Available; it stops with the cluster.
 */
export async function installOperatorChart(fx: Fixture, prometheusUrl = fx.cluster.prometheusUrl): Promise<void> {
  const r = await fx.cluster.helm(
    [
      'install',
      'modelship',
      join(REPO_ROOT, 'charts', 'modelship'),
      '-n',
      'modelship-system',
      '--create-namespace',
      '--set',
      `prometheusUrl=${prometheusUrl}`,
      '--set',
      'servingImage=modelship/serving:e2e',
      '--set',
      'podMonitor.enabled=true',
      '--set',
      'serviceMonitor.enabled=true',
      '--set',
      'metrics.service.enabled=true',
      '--set',
      'prometheusRule.enabled=true',
      // These scenarios analyse every 8 s; a window needs a few scrapes, so the serving pods are
      // scraped every 2 s instead of the chart's 15 s (which suits the default 1 m interval).
      '--set',
      'podMonitor.interval=2s',
      '--set',
      'podMonitor.scrapeTimeout=1s',
      '--wait',
      '--timeout',
      '120s',
    ],
    { timeoutMs: 150_000 },
  );
  if (r.code !== 0) throw new Error(`helm install: ${r.stderr}`);
}

export function modelVersion(version: number, dir: string): ModelVersion {
  return {
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: `${MODEL}-v${version}`, namespace: NS },
    spec: {
      model: MODEL,
      version,
      artifact: { uri: `pvc://models/${dir}` },
      format: 'onnx',
      validation: { skewTolerance: 0.2, activeDeadlineSeconds: 120 },
    },
  } as ModelVersion;
}

export async function createReadyVersion(client: KubeClient, version: number, dir: string): Promise<ModelVersion> {
  await client.create(modelVersion(version, dir));
  return waitFor(
    async () => {
      const mv = await client.get<ModelVersion>(Kinds.ModelVersion, NS, `${MODEL}-v${version}`);
      if (mv.status?.phase === 'Rejected')
        throw new Error(`ModelVersion v${version} rejected: ${JSON.stringify(mv.status.conditions)}`);
      return mv.status?.phase === 'Ready' ? mv : undefined;
    },
    120_000,
    `ModelVersion v${version} Ready`,
    250,
  );
}

/**
 * The canary scenarios' InferenceService: the CRD defaults but the analysis interval, 10 s
 * instead of 1 m, so that a scenario takes minutes. The accuracy and drift evidence accumulates
 * since the canary began whatever the interval, and 10 s at the fixture's 40 requests/s still
 * gives a 20 % step its minRequests (50) of latency and error samples. `canary` adds what a
 * scenario is about (a short deadline, say). No guard window: the guard after a promotion has
 * tests of its own, and here it would only add an analysis to the end of a scenario.
 */
export function inferenceService(canary: Record<string, unknown> = {}): InferenceService {
  return {
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: MODEL, namespace: NS },
    spec: {
      model: MODEL,
      canary: { interval: '10s', ...canary },
      monitoring: { guardWindow: '0s' },
    },
  } as InferenceService;
}

export async function routerUrl(client: KubeClient): Promise<string> {
  const svc = await client.get<{ spec?: { clusterIP?: string } } & Record<string, unknown>>(Kinds.Service, NS, MODEL);
  const url = `http://${svc.spec?.clusterIP}:80`;
  await waitFor(
    async () =>
      (await fetch(`${url}/-/router/readyz`).then(
        (r) => r.ok,
        () => false,
      )) || undefined,
    60_000,
    'router ready',
    250,
  );
  return url;
}

/** Labelled load through the router, with ground-truth feedback. */
export interface RunningLoad {
  stop: AbortController;
  done: Promise<LoadStats>;
  stats: LoadStats;
}

/**
 * Every canary scenario's traffic: 40 requests/s of the fixture's faces, up to 32 in flight,
 * with feedback sent as the application owning the labels would: with the service's credential.
 */
export function startLoad(fx: Fixture, url: string): RunningLoad {
  const stop = new AbortController();
  const stats = emptyStats();
  return {
    stop,
    stats,
    done: readFeedbackCredential(fx.client, NS, MODEL).then((feedbackCredential) =>
      runLoad(
        { url, imagesDir: fx.imagesDir, rps: 40, signal: stop.signal, concurrency: 32, feedbackCredential },
        stats,
      ),
    ),
  };
}

/**
 * The start of a canary scenario: v1 (the artifact in `v1Dir`) Ready, the InferenceService with
 * `canary`, Serving, then load through the router. The router URL and the load are returned.
 */
export async function serveV1WithLoad(
  fx: Fixture,
  canary: Record<string, unknown> = {},
  v1Dir = 'good-1',
): Promise<{ url: string; load: RunningLoad }> {
  await createReadyVersion(fx.client, 1, v1Dir);
  await fx.client.create(inferenceService(canary));
  let last: InferenceService | undefined;
  await waitFor(
    async () => {
      last = await fx.client.get<InferenceService>(Kinds.InferenceService, NS, MODEL);
      return last.status?.phase === 'Serving' ? true : undefined;
    },
    90_000,
    'Serving',
    250,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last status ${JSON.stringify(brief(last))}`, { cause: e });
  });
  const url = await routerUrl(fx.client);
  return { url, load: startLoad(fx, url) };
}

/** A scenario's test.after: load first, then whatever else runs (operator, proxy), the cluster last. */
export async function stopScenario(
  fx: Fixture | undefined,
  load: RunningLoad | undefined,
  ...others: Array<(() => Promise<unknown>) | undefined>
): Promise<void> {
  load?.stop.abort();
  await load?.done.catch(() => undefined);
  for (const stop of others) await stop?.();
  await fx?.cluster.stop();
}

/** Waits (2 s at most) until the router sends nothing to `version`; returns its table. */
export function routerDropped(
  client: KubeClient,
  version: number,
): Promise<Array<{ role: string; version: string; weight: number }>> {
  return waitFor(
    async () => {
      const t = await routerUpstreams(client, NS, MODEL);
      return t && !t.some((u) => u.version === String(version) && u.weight > 0) ? t : undefined;
    },
    2_000,
    'router drops the canary',
    50,
  );
}

/** A TCP proxy in front of Prometheus that a test can cut (connections refused) and restore. */
export class CuttableProxy {
  private server?: Server;
  private sockets = new Set<Socket>();
  port = 0;
  constructor(private readonly target: URL) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(Number(this.target.port), this.target.hostname);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as { port: number }).port;
  }

  async cut(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/** The operator as a real process (operator/main.ts), killable with SIGKILL. */
export class OperatorProcess {
  child?: ChildProcess;
  starts = 0;
  constructor(
    private readonly fx: Fixture,
    private readonly prometheusUrl: string,
    private readonly logFile?: string,
  ) {}

  start(): void {
    const out = this.logFile ? openSync(this.logFile, 'a') : 'ignore';
    this.child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'operator/main.ts',
        '--kubeconfig',
        this.fx.cluster.kubeconfigPath,
        '--prometheus-url',
        this.prometheusUrl,
        '--leader-elect=false',
        '--metrics-port',
        '0',
        '--metrics-host',
        '127.0.0.1',
      ],
      {
        cwd: REPO_ROOT,
        stdio: ['ignore', out, out],
        env: { ...process.env, MODELSHIP_SERVING_IMAGE: 'modelship/serving:e2e' },
      },
    );
    this.starts++;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((resolve) => c.once('exit', resolve));
    c.kill(signal);
    await exited;
  }
}

export interface StatusBrief {
  phase?: string;
  stable?: unknown;
  canary?: unknown;
  analysis?: unknown;
  history?: unknown;
}

export function brief(isvc: InferenceService | undefined): StatusBrief {
  const st = isvc?.status;
  return {
    phase: st?.phase,
    stable: st?.stable,
    canary: st?.canary && { ...st.canary, steps: st.canary.steps?.length },
    analysis: st?.analysis && {
      verdict: st.analysis.verdict,
      notPassed: st.analysis.checks
        ?.filter((c) => c.verdict !== 'Pass')
        .slice(0, 4)
        .map((c) => `${c.check}/${c.head ?? ''}: ${c.message}`),
    },
    history: st?.history?.map((h) => [h.version, h.outcome, h.reason, h.message]),
  };
}

/**
 * Copies the model at `from` to `to` with its reference/ images replaced by shifted ones: the
 * artifact of a model trained on shifted data (its reference profile is the shifted
 * distribution), so normal live traffic is drifted relative to it.
 */
export async function writeShiftedReferenceCopy(from: string, to: string, shift: string, seed = 977): Promise<void> {
  cpSync(from, to, { recursive: true });
  rmSync(join(to, 'reference'), { recursive: true, force: true });
  await generateImages({ count: 120, seed, shift, out: join(to, 'reference') });
}

/**
 * Replaces `dir`/model.onnx by a graph that loads with the same signature but whose `beard`
 * head returns batch+2 columns at run time, so every prediction fails
 * with the server's INFERENCE_FAILED (HTTP 500). Written atomically (rename).
 */
export function breakModelAtInference(dir: string): Promise<void> {
  const script = [
    'import onnx, sys',
    'import numpy as np',
    'from onnx import helper, numpy_helper',
    'm = onnx.load(sys.argv[1] + "/model.onnx")',
    'g = m.graph',
    'for n in g.node:',
    '    n.output[:] = ["beard_raw" if o == "beard" else o for o in n.output]',
    // Width N+2 (batch size + 2): never 1 or 2 at run time, and symbolic for the load-time
    // signature check, which static shape inference would otherwise catch.
    'g.initializer.extend([numpy_helper.from_array(np.array(v, dtype=np.int64), name=k) for k, v in (("brk_0", [0]), ("brk_1", [1]), ("brk_2", [2]))])',
    'g.node.extend([helper.make_node("Shape", ["beard_raw"], ["brk_s"]), helper.make_node("Slice", ["brk_s", "brk_0", "brk_1"], ["brk_n"]),',
    '    helper.make_node("Add", ["brk_n", "brk_2"], ["brk_w"]), helper.make_node("Concat", ["brk_1", "brk_w"], ["brk_r"], axis=0),',
    '    helper.make_node("Tile", ["beard_raw", "brk_r"], ["beard"])])',
    'for o in g.output:',
    '    if o.name == "beard": o.type.tensor_type.shape.dim[1].dim_param = "cols"',
    'onnx.save(m, sys.argv[1] + "/model.onnx.tmp")',
  ].join('\n');
  return new Promise<void>((resolve, reject) => {
    execFile(PYTHON, ['-c', script, dir], { maxBuffer: 8 << 20 }, (err, _out, stderr) => {
      if (err) {
        reject(new Error(`breaking ${dir}/model.onnx failed: ${stderr}`, { cause: err }));
        return;
      }
      try {
        renameSync(join(dir, 'model.onnx.tmp'), join(dir, 'model.onnx'));
        resolve();
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/** The router's routing table (from a router pod's admin port), undefined when it does not answer. */
export const routerTable = (client: KubeClient) => routerUpstreams(client, NS, MODEL);

/** Waits until `version` has a history entry (promoted or rolled back); the last status in the error. */
export async function rolloutEnded(client: KubeClient, version: number, timeoutMs: number): Promise<InferenceService> {
  let last: InferenceService | undefined;
  return waitFor(
    async () => {
      last = await client.get<InferenceService>(Kinds.InferenceService, NS, MODEL);
      return last.status?.history?.some((h) => h.version === version) ? last : undefined;
    },
    timeoutMs,
    `v${version} rollout ended`,
    250,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last status ${JSON.stringify(brief(last))}`, { cause: e });
  });
}

/**
 * Trainer options of the undertrained model: the sample model's data and trainer stopped after
 * 2 epochs (the sample model trains up to 14). Measured on 150 live images of the fixture's generator:
 * 0.75 mean accuracy over the heads against the sample model's 0.94, yet its predicted-class
 * distribution stays close to the sample model's (PSI ≤ 0.13 per head), so the better model's
 * prediction-drift check against it passes on merit. One epoch would be worse still (0.62) but
 * so biased (PSI 0.70 on mustache) that prediction drift would sit next to its usual bound.
 */
export const UNDERTRAINED_TRAIN_ARGS = '--epochs=2 --patience=1';

/** A real but weaker model than the sample model (see UNDERTRAINED_TRAIN_ARGS); about 25 s to build once. */
export function ensureUndertrainedModel(): Promise<string> {
  return ensureImageModelVariant('undertrained', UNDERTRAINED_TRAIN_ARGS);
}

/** One head's accuracyVsStable measurement: canary − stable live accuracy with its interval. */
export interface HeadAccuracyGain {
  head: string;
  value: number;
  lower: number;
  upper: number;
  samples: number;
}

/** The accuracyVsStable results of one analysis, per head, and their mean over the heads. */
export interface AccuracyGain {
  heads: HeadAccuracyGain[];
  /**
   * Mean over the heads of canary − stable: the difference in overall (all-heads) accuracy,
   * since every feedback labels every head.
   */
  mean: number;
  /** Mean of the heads' lower bounds: conservative (heads are correlated, so no tighter bound is claimed). */
  meanLower: number;
}

/**
 * Reads the accuracyVsStable checks of one analysis (a history step or status.analysis); an
 * error when a check lacks its value or interval, so a missing measurement cannot read as a gain.
 */
export function accuracyGain(
  checks:
    | ReadonlyArray<{ check?: string; head?: string; value?: number; lower?: number; upper?: number; samples?: number }>
    | undefined,
): AccuracyGain {
  const heads = (checks ?? [])
    .filter((c) => c.check === 'accuracyVsStable')
    .map((c) => {
      if (c.head === undefined || c.value === undefined || c.lower === undefined || c.upper === undefined)
        throw new Error(`accuracyVsStable without a measurement: ${JSON.stringify(c)}`);
      return { head: c.head, value: c.value, lower: c.lower, upper: c.upper, samples: c.samples ?? 0 };
    });
  if (heads.length === 0) throw new Error('no accuracyVsStable checks in this analysis');
  const mean = (pick: (h: HeadAccuracyGain) => number) => heads.reduce((s, h) => s + pick(h), 0) / heads.length;
  return { heads, mean: mean((h) => h.value), meanLower: mean((h) => h.lower) };
}
