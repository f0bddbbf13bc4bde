// End to end on the dev cluster: real serving pods (the serving image on real ONNX models), the
// router following the InferenceService status, real Prometheus scraping the pods, the
// operator's controllers in this process, and the load generator sending labelled faces and
// posting ground truth.
//   1. an equally good model is promoted through every step, each step's measurements in history;
//   2. a model trained on shuffled labels is rolled back within failureLimit analyses of having
//      enough feedback, and the router drops it in under a second after the status says so.
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import winston from 'winston';
import * as assert from 'uvu/assert';
import { API_VERSION, type InferenceService, type ModelVersion } from '../../operator/api/index.js';
import { buildControllers } from '../../operator/controllers/registry.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { Manager } from '../../operator/runtime/manager.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { emptyStats, runLoad, type LoadStats } from '../../hack/loadgen/loadgen.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { ensureCachedDir, ensureSampleModel, generateImages, MODEL_CACHE_DIR, REPO_ROOT, scriptsHash } from '../support/models.js';

const NS = 'default';
const MODEL = 'faces';
let cluster: TestCluster;
let client: KubeClient;
let manager: Manager;
let imagesDir: string;
let load: { stop: AbortController; done: Promise<LoadStats>; stats: LoadStats } | undefined;

/** The sample model trained on shuffled labels: loads and serves, but guesses. */
function ensureCorruptModel(): Promise<string> {
  return scriptsHash('image').then((hash) => ensureCachedDir(MODEL_CACHE_DIR, `image-corrupt-${hash}`, (dir) => new Promise<void>((resolve, reject) => {
    execFile('bash', [join(REPO_ROOT, 'examples', 'sample-model.sh'), dir, 'image'], { cwd: REPO_ROOT, env: { ...process.env, SAMPLE_TRAIN_ARGS: '--corrupt=labels --epochs=2 --patience=1' }, maxBuffer: 32 << 20 },
      (err, _out, stderr) => (err ? reject(new Error(`corrupt model build failed: ${stderr}`, { cause: err })) : resolve()));
  })));
}

function modelVersion(version: number, dir: string): ModelVersion {
  return {
    apiVersion: API_VERSION, kind: 'ModelVersion', metadata: { name: `${MODEL}-v${version}`, namespace: NS },
    spec: { model: MODEL, version, artifact: { uri: `pvc://models/${dir}` }, format: 'onnx', validation: { skewTolerance: 0.2, activeDeadlineSeconds: 120 } },
  } as ModelVersion;
}

let lastSeen: InferenceService | undefined;
const getIsvc = async () => (lastSeen = await client.get<InferenceService>(Kinds.InferenceService, NS, MODEL));

/** waitFor, with the last InferenceService status in the error (what the rollout was doing). */
async function waitStatus<T>(fn: () => Promise<T | undefined>, timeoutMs: number, what: string, pollMs: number): Promise<T> {
  try {
    return await waitFor(fn, timeoutMs, what, pollMs);
  } catch (e) {
    const st = lastSeen?.status;
    const brief = { phase: st?.phase, stable: st?.stable, canary: { ...st?.canary, steps: undefined }, analysis: { ...st?.analysis, checks: st?.analysis?.checks?.filter((c) => c.verdict !== 'Pass').sort((a, b) => (a.verdict === 'Fail' ? -1 : 0) - (b.verdict === 'Fail' ? -1 : 0)).slice(0, 6) }, history: st?.history?.map((h) => [h.version, h.outcome, h.message]), conditions: st?.conditions };
    throw new Error(`${(e as Error).message}; last status: ${JSON.stringify(brief)}; load: ${JSON.stringify({ ...load?.stats, latenciesMs: undefined })}`, { cause: e });
  }
}

async function ready(version: number, dir: string): Promise<ModelVersion> {
  await client.create(modelVersion(version, dir));
  return waitFor(async () => {
    const mv = await client.get<ModelVersion>(Kinds.ModelVersion, NS, `${MODEL}-v${version}`);
    if (mv.status?.phase === 'Rejected') throw new Error(`ModelVersion v${version} rejected: ${JSON.stringify(mv.status.conditions)}`);
    return mv.status?.phase === 'Ready' ? mv : undefined;
  }, 90_000, `ModelVersion v${version} Ready`, 250);
}

async function routerUrl(): Promise<string> {
  const svc = await client.get<{ spec?: { clusterIP?: string } } & Record<string, unknown>>(Kinds.Service, NS, MODEL);
  return `http://${svc.spec?.clusterIP}:80`;
}

test.before(async () => {
  const [good, bad] = await Promise.all([ensureSampleModel(), ensureCorruptModel()]);
  cluster = await startTestCluster({ agent: true, prometheus: true });
  const r = await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { timeoutMs: 60_000 });
  assert.is(r.code, 0, r.stderr);
  const pvc = join(cluster.dir, 'volumes', 'pvc', NS, 'models');
  mkdirSync(pvc, { recursive: true });
  for (const [name, dir] of [['good-1', good], ['good-2', good], ['bad', bad]]) cpSync(dir, join(pvc, name), { recursive: true });
  imagesDir = (await generateImages({ count: 150, seed: 4242, out: join(cluster.dir, 'images') })).dir;
  client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
  await waitFor(async () => { await client.list(Kinds.InferenceService, { namespace: NS }); return true; }, 10_000, 'CRDs served');
  manager = new Manager({
    client, log: process.env.CANARY_E2E_LOG ? createLogger({ transports: [new winston.transports.File({ filename: process.env.CANARY_E2E_LOG })] }) : createLogger({ silent: true }), leaderElection: false,
    informer: { backoff: { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 } },
    queueBackoff: { initialMs: 100, maxMs: 2000, factor: 2, jitter: 0.2 },
  });
  for (const c of buildControllers({ namespaces: [], prometheusUrl: cluster.prometheusUrl, servingImage: 'modelship/serving:e2e', pvcRoot: join(cluster.dir, 'volumes', 'pvc') })) manager.add(c);
  await manager.start();
});

test.after(async () => {
  load?.stop.abort();
  await load?.done.catch(() => undefined);
  await manager?.stop();
  await cluster?.stop();
});

test('an equally good version is promoted through every step, with per-step measurements in history', async () => {
  await ready(1, 'good-1');
  await client.create({
    apiVersion: API_VERSION, kind: 'InferenceService', metadata: { name: MODEL, namespace: NS },
    spec: {
      model: MODEL,
      // Windows of 10 s at 40 requests/s give the canary 160+ samples per analysis. At that size
      // a non-inferiority margin of 0.02 cannot be shown (the Newcombe interval is ±0.07 wide),
      // and PSI over ten bins is biased upwards: the bounds here are what the sample can decide.
      canary: { steps: [40, 70], interval: '10s', failureLimit: 2, progressDeadline: '150s', minRequests: 50, minFeedback: 50, checks: { accuracy: { maxDropVsStable: 0.15 }, drift: { max: 0.8 }, latencyP95Ms: { max: 2000 } } },
      monitoring: { interval: '10s', guardWindow: '0s', drift: { warn: 0.5, critical: 1 } },
    },
  } as InferenceService);
  const serving = await waitStatus(async () => { const s = await getIsvc(); return s.status?.phase === 'Serving' ? s : undefined; }, 60_000, 'Serving', 250);
  assert.is(serving.status?.stable?.version, 1);
  assert.is(serving.status?.url, `http://${MODEL}.${NS}.svc.cluster.local`);
  const url = await routerUrl();
  await waitFor(async () => (await fetch(`${url}/-/router/readyz`).then((r) => r.ok, () => false)) || undefined, 60_000, 'router ready', 250);

  const stop = new AbortController();
  const stats = emptyStats();
  load = { stop, stats, done: runLoad({ url, imagesDir, rps: 40, signal: stop.signal, concurrency: 32 }, stats) };

  await ready(2, 'good-2');
  const promoted = await waitStatus(async () => {
    const s = await getIsvc();
    const last = s.status?.history?.[0];
    if (last?.version === 2 && last.outcome !== 'Promoted') throw new Error(`v2 ended ${last.outcome}: ${last.message}`);
    return last?.version === 2 && s.status?.phase === 'Serving' ? s : undefined;
  }, 150_000, 'v2 promoted', 500);
  const entry = promoted.status!.history![0];
  assert.is(promoted.status?.stable?.version, 2);
  assert.is(promoted.status?.canary, undefined);
  assert.equal(entry.steps?.map((s) => [s.weight, s.verdict]), [[40, 'Pass'], [70, 'Pass']]);
  for (const step of entry.steps ?? []) {
    const acc = step.checks?.filter((c) => c.check === 'accuracyVsStable') ?? [];
    assert.ok(acc.length >= 5, 'one non-inferiority check per head');
    assert.ok(acc.every((c) => (c.samples ?? 0) >= 50 && c.lower !== undefined), JSON.stringify(acc[0]));
    assert.ok(step.checks?.some((c) => c.check === 'errorRate' && c.verdict === 'Pass'));
    assert.ok(step.checks?.some((c) => c.check === 'drift' && c.value !== undefined));
  }
  assert.ok((stats.byVersion['2'] ?? 0) > 0 && (stats.byVersion['1'] ?? 0) > 0, JSON.stringify(stats.byVersion));
  assert.ok(stats.feedbackSent > 100, `feedback ${stats.feedbackSent}`);
  // servedBy follows the InferenceService status (written right after it).
  await waitFor(async () => {
    const mv2 = await client.get<ModelVersion>(Kinds.ModelVersion, NS, `${MODEL}-v2`);
    return mv2.status?.servedBy?.length === 1 && mv2.status.servedBy[0].role === 'stable' ? true : undefined;
  }, 10_000, 'v2 servedBy stable', 200);
  const mv1 = await client.get<ModelVersion>(Kinds.ModelVersion, NS, `${MODEL}-v1`);
  assert.equal(mv1.status?.servedBy ?? [], [], 'the retired version serves no more');
});

test('a worse version is rolled back within failureLimit analyses of enough feedback; the router drops it in < 1 s', async () => {
  const url = await routerUrl();
  await ready(3, 'bad');
  const analyses = new Map<string, { enough: boolean; verdict: string }>();
  let statusSawRollback = 0;
  let routerSawRollback = 0;
  await waitStatus(async () => {
    const [s, table] = await Promise.all([getIsvc(), fetch(`${url}/-/router/config`).then((r) => r.json() as Promise<{ upstreams: Array<{ role: string; version: string; weight: number }> }>, () => undefined)]);
    const t = performance.now();
    const a = s.status?.analysis;
    if (s.status?.canary?.version === 3 && a?.time) {
      const acc = a.checks?.filter((c) => c.check === 'accuracyVsStable') ?? [];
      analyses.set(a.time, { enough: acc.length > 0 && acc.every((c) => (c.samples ?? 0) >= 50), verdict: a.verdict ?? '' });
    }
    const last = s.status?.history?.[0];
    if (!statusSawRollback && last?.version === 3) statusSawRollback = t;
    const canaryInRouter = table?.upstreams.some((u) => u.version === '3' && u.weight > 0);
    if (statusSawRollback && !routerSawRollback && table && !canaryInRouter) routerSawRollback = t;
    return statusSawRollback && routerSawRollback ? true : undefined;
  }, 150_000, 'v3 rolled back', 20);
  const s = await getIsvc();
  const entry = s.status!.history![0];
  assert.is(entry.outcome, 'RolledBack', entry.message);
  assert.is(entry.reason, 'FailureLimitReached', entry.message);
  assert.match(entry.message ?? '', /accuracyVsStable/);
  assert.is(s.status?.stable?.version, 2);
  assert.is(s.status?.phase, 'RolledBack');
  assert.ok(s.status?.failedVersions?.some((f) => f.version === 3));
  const afterEnough = [...analyses.values()].filter((a) => a.enough);
  assert.ok(afterEnough.length >= 1 && afterEnough.length <= 2, `analyses with enough feedback before rollback: ${JSON.stringify([...analyses.values()])}`);
  const delay = routerSawRollback - statusSawRollback;
  assert.ok(delay < 1000, `router followed the rollback after ${delay.toFixed(0)} ms`);
  // The version stays rolled back (not retried at this generation).
  await new Promise((r) => setTimeout(r, 3000));
  assert.is((await getIsvc()).status?.canary, undefined);
  process.stderr.write(`canary e2e: router dropped the canary ${delay.toFixed(0)} ms after the status; load ${JSON.stringify(load?.stats.byVersion)}\n`);
});

test.run();
