// Canary scenarios' shared setup: a cluster with agent and Prometheus, the operator as a
// process, the sample model (and variants) on a claim, labelled images and the load generator.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION, type InferenceService, type ModelVersion } from '../../operator/api/index.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { emptyStats, runLoad, type LoadStats } from '../../hack/loadgen/loadgen.js';
import { ensureSampleModel, generateImages } from '../support/models.js';
import { NS, startEnv, type Env } from './support.js';

export const MODEL = 'faces';

export interface CanaryEnv extends Env {
  claimDir: string;
  imagesDir: string;
  modelDir: string;
  load?: { stop: AbortController; done: Promise<LoadStats>; stats: LoadStats };
}

export async function startCanaryEnv(): Promise<CanaryEnv> {
  const modelDir = await ensureSampleModel();
  const env = await startEnv({ agent: true, prometheus: true });
  const claimDir = join(env.cluster.dir, 'volumes', 'pvc', NS, 'models');
  mkdirSync(claimDir, { recursive: true });
  const imagesDir = (await generateImages({ count: 150, seed: 4242, out: join(env.cluster.dir, 'images') })).dir;
  const c: CanaryEnv = { ...env, claimDir, imagesDir, modelDir };
  c.stop = async () => {
    c.load?.stop.abort();
    await c.load?.done.catch(() => undefined);
    await env.stop();
  };
  return c;
}

/** Copies the sample model to the claim as `dir` and registers it; resolves when Ready. */
export async function readyVersion(env: CanaryEnv, version: number, dir: string): Promise<ModelVersion> {
  cpSync(env.modelDir, join(env.claimDir, dir), { recursive: true });
  await waitFor(() => env.client.create({
    apiVersion: API_VERSION, kind: 'ModelVersion', metadata: { name: `${MODEL}-v${version}`, namespace: NS },
    spec: { model: MODEL, version, artifact: { uri: `pvc://models/${dir}` }, format: 'onnx', validation: { skewTolerance: 0.2, activeDeadlineSeconds: 120 } },
  } as ModelVersion).then(() => true), 30_000, `create v${version}`, 300);
  return waitFor(async () => {
    const mv = await env.client.get<ModelVersion>(Kinds.ModelVersion, NS, `${MODEL}-v${version}`);
    if (mv.status?.phase === 'Rejected') throw new Error(`v${version} rejected: ${JSON.stringify(mv.status.conditions)}`);
    return mv.status?.phase === 'Ready' ? mv : undefined;
  }, 120_000, `v${version} Ready`, 300);
}

export function inferenceService(progressDeadline = '150s'): InferenceService {
  return {
    apiVersion: API_VERSION, kind: 'InferenceService', metadata: { name: MODEL, namespace: NS },
    spec: {
      model: MODEL,
      canary: { steps: [25, 50], interval: '8s', failureLimit: 2, progressDeadline, minRequests: 20, minFeedback: 20, checks: { drift: { max: 0.6 }, latencyP95Ms: { max: 3000 } } },
      monitoring: { interval: '10s', guardWindow: '0s' },
    },
  } as InferenceService;
}

export const getIsvc = (env: Env) => env.client.get<InferenceService>(Kinds.InferenceService, NS, MODEL);

/** Brief status for assertion messages. */
export function brief(s: InferenceService | undefined): string {
  const st = s?.status;
  return JSON.stringify({ phase: st?.phase, stable: st?.stable?.version, canary: st?.canary?.version, verdict: st?.analysis?.verdict, notPassing: st?.analysis?.checks?.filter((c) => c.verdict !== 'Pass').slice(0, 4).map((c) => [c.check, c.role, c.verdict, c.samples, c.value]), history: st?.history?.map((h) => [h.version, h.outcome, h.reason, h.message?.slice(0, 160)]) });
}

/** Waits until the service is Serving with the router reachable, then starts labelled load. */
export async function serveAndLoad(env: CanaryEnv): Promise<string> {
  await waitFor(async () => ((await getIsvc(env)).status?.phase === 'Serving' ? true : undefined), 90_000, 'Serving', 300);
  const svc = await env.client.get<{ spec?: { clusterIP?: string } } & Record<string, unknown>>(Kinds.Service, NS, MODEL);
  const url = `http://${svc.spec?.clusterIP}:80`;
  await waitFor(async () => (await fetch(`${url}/-/router/readyz`).then((r) => r.ok, () => false)) || undefined, 60_000, 'router ready', 300);
  const stop = new AbortController();
  const stats = emptyStats();
  env.load = { stop, stats, done: runLoad({ url, imagesDir: env.imagesDir, rps: 30, signal: stop.signal, concurrency: 24 }, stats) };
  return url;
}

/** Waits for the rollout of `version` to end (history entry for it); returns the status then. */
export async function rolloutEnded(env: CanaryEnv, version: number, timeoutMs: number, onPoll?: (s: InferenceService) => void): Promise<InferenceService> {
  let last: InferenceService | undefined;
  try {
    return await waitFor(async () => {
      const s = last = await getIsvc(env);
      onPoll?.(s);
      return s.status?.history?.some((h) => h.version === version) && !s.status.canary ? s : undefined;
    }, timeoutMs, `rollout of v${version} ended`, 300);
  } catch (e) {
    throw new Error(`${(e as Error).message}; last status ${brief(last)}; load ${JSON.stringify({ ...env.load?.stats, latenciesMs: undefined })}`, { cause: e });
  }
}
