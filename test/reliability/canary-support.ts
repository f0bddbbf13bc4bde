// Canary scenarios' shared setup: a cluster with agent and Prometheus, the operator as a
// process, the sample model (and variants) on a claim, labelled images and the load generator.
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { API_VERSION, type InferenceService, type ModelVersion } from '../../operator/api/index.js';
import { AlreadyExistsError } from '../../operator/runtime/errors.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { readFeedbackCredential } from '../../hack/loadgen/credential.js';
import { routerUpstreams } from '../../hack/loadgen/router-admin.js';
import { emptyStats, runLoad, type LoadStats } from '../../hack/loadgen/loadgen.js';
import { ensureSampleModel, generateImages } from '../support/models.js';
import { ensureCorruptModel, routerUrl } from '../e2e/canary-support.js';
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
  const imagesDir = (await generateImages({ count: 1000, seed: 4242, out: join(env.cluster.dir, 'images') })).dir;
  const c: CanaryEnv = { ...env, claimDir, imagesDir, modelDir };
  c.stop = async () => {
    c.load?.stop.abort();
    await c.load?.done.catch(() => undefined);
    await env.stop();
  };
  return c;
}

/** Copies a model (the sample model by default) to the claim as `dir` and registers it; resolves when Ready. */
export async function readyVersion(
  env: CanaryEnv,
  version: number,
  dir: string,
  from = env.modelDir,
): Promise<ModelVersion> {
  cpSync(from, join(env.claimDir, dir), { recursive: true });
  await waitFor(
    () =>
      env.client
        .create({
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
        } as ModelVersion)
        .then(
          () => true,
          (e: unknown) => {
            // A create that reached the store before an injected fault or a lost answer: it is there.
            if (e instanceof AlreadyExistsError) return true;
            throw e;
          },
        ),
    30_000,
    `create v${version}`,
    300,
  );
  return waitFor(
    async () => {
      const mv = await env.client.get<ModelVersion>(Kinds.ModelVersion, NS, `${MODEL}-v${version}`);
      if (mv.status?.phase === 'Rejected')
        throw new Error(`v${version} rejected: ${JSON.stringify(mv.status.conditions)}`);
      return mv.status?.phase === 'Ready' ? mv : undefined;
    },
    120_000,
    `v${version} Ready`,
    300,
  );
}

/**
 * The scenarios' InferenceService: the CRD defaults but the analysis interval, 15 s instead of
 * 1 m, so that a scenario takes minutes (the accuracy and drift evidence accumulates since the
 * canary began whatever the interval; 15 s at 30 requests/s still gives a 20 % step its
 * minRequests of 50 latency and error samples), plus what a scenario is about: a short progress
 * deadline (a crash loop fails safe at it), or more steps (chaos needs a longer canary). No guard
 * window: the guard after a promotion has tests of its own.
 */
export function inferenceService(progressDeadline?: string, steps?: number[]): InferenceService {
  return {
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: MODEL, namespace: NS },
    spec: {
      model: MODEL,
      canary: { interval: '15s', ...(progressDeadline ? { progressDeadline } : {}), ...(steps ? { steps } : {}) },
      monitoring: { guardWindow: '0s' },
    },
  } as InferenceService;
}

export const getIsvc = (env: Env) => env.client.get<InferenceService>(Kinds.InferenceService, NS, MODEL);

/** Brief status for assertion messages. */
export function brief(s: InferenceService | undefined): string {
  const st = s?.status;
  return JSON.stringify({
    phase: st?.phase,
    stable: st?.stable?.version,
    canary: st?.canary?.version,
    verdict: st?.analysis?.verdict,
    notPassing: st?.analysis?.checks
      ?.filter((c) => c.verdict !== 'Pass')
      .slice(0, 4)
      .map((c) => [c.check, c.role, c.verdict, c.samples, c.value]),
    history: st?.history?.map((h) => [h.version, h.outcome, h.reason, h.message?.slice(0, 160)]),
  });
}

/** Waits until the service is Serving with the router reachable, then starts labelled load. */
export async function serveAndLoad(env: CanaryEnv): Promise<string> {
  await waitFor(
    async () => ((await getIsvc(env)).status?.phase === 'Serving' ? true : undefined),
    90_000,
    'Serving',
    300,
  );
  const url = await routerUrl(env.client);
  const stop = new AbortController();
  const stats = emptyStats();
  env.load = {
    stop,
    stats,
    done: readFeedbackCredential(env.client, NS, MODEL).then((feedbackCredential) =>
      runLoad(
        { url, imagesDir: env.imagesDir, rps: 30, signal: stop.signal, concurrency: 24, feedbackCredential },
        stats,
      ),
    ),
  };
  return url;
}

/** Waits for the rollout of `version` to end (history entry for it); returns the status then. */
export async function rolloutEnded(
  env: CanaryEnv,
  version: number,
  timeoutMs: number,
  onPoll?: (s: InferenceService) => void,
): Promise<InferenceService> {
  let last: InferenceService | undefined;
  try {
    return await waitFor(
      async () => {
        const s = (last = await getIsvc(env));
        onPoll?.(s);
        return s.status?.history?.some((h) => h.version === version) && !s.status.canary ? s : undefined;
      },
      timeoutMs,
      `rollout of v${version} ended`,
      300,
    );
  } catch (e) {
    throw new Error(
      `${(e as Error).message}; last status ${brief(last)}; load ${JSON.stringify({ ...env.load?.stats, latenciesMs: undefined })}`,
      { cause: e },
    );
  }
}

/**
 * The two-canary scenarios' start: the shuffled-labels model built, the environment up, v1
 * Ready and served by an InferenceService with these canary steps.
 */
export async function startServedV1(steps?: number[]): Promise<{ env: CanaryEnv; corrupt: string }> {
  const corrupt = await ensureCorruptModel();
  const env = await startCanaryEnv();
  await readyVersion(env, 1, 'v1');
  await env.client.create(inferenceService(undefined, steps));
  return { env, corrupt };
}

/** Something hostile that runs while a canary is analysed (faults, kills), stopped when it ends. */
export interface CanaryChaos {
  start(): void;
  stop(): Promise<void>;
}

/**
 * Two canaries under `chaos`: v2, the same model as stable (must be promoted), then v3, a model
 * trained on shuffled labels (must be rolled back). Asserts, after each: exactly one decision,
 * the right one, stable consistent with it, no canary left; at the end the router sends every
 * request to v2, history holds v2 Promoted and v3 RolledBack once each, phase RolledBack. Returns the final
 * status for scenario-specific checks.
 */
export async function goodThenBadUnderChaos(
  env: CanaryEnv,
  url: string,
  corruptModelDir: string,
  chaos: CanaryChaos,
  assertOk: (ok: unknown, msg: string) => void,
): Promise<InferenceService> {
  const decided = async (
    version: number,
    dir: string,
    from: string,
    outcome: 'Promoted' | 'RolledBack',
    stable: number,
  ) => {
    chaos.start();
    try {
      await readyVersion(env, version, dir, from);
      // Every analysis seen, for the failure message: what the rollout was waiting for.
      const seen = new Map<string, string>();
      const s = await rolloutEnded(env, version, 480_000, (st) => {
        const a = st.status?.analysis;
        if (a?.time && !seen.has(a.time))
          seen.set(
            a.time,
            `${a.time.slice(11, 19)} step ${a.step} ${a.verdict}: ${(a.checks ?? [])
              .filter((c) => c.verdict !== 'Pass')
              .map(
                (c) =>
                  `${c.check}${c.head ? `/${c.head}` : ''}=${c.verdict}(${c.value === undefined ? '-' : Number(c.value.toPrecision(3))}, n=${c.samples ?? 0})`,
              )
              .join(' ')}`,
          );
      });
      const why = `${brief(s)}; analyses: ${[...seen.values()].join(' | ')}`;
      const entries = s.status?.history?.filter((h) => h.version === version) ?? [];
      assertOk(entries.length === 1, `v${version}: exactly one decision: ${why}`);
      assertOk(entries[0].outcome === outcome, `v${version} ${outcome}: ${why}`);
      assertOk(s.status?.stable?.version === stable, `v${version}: stable is v${stable}: ${why}`);
    } finally {
      await chaos.stop();
    }
  };
  await decided(2, 'v2', env.modelDir, 'Promoted', 2);
  await decided(3, 'v3', corruptModelDir, 'RolledBack', 2);
  // The data path converges on the status: all traffic to v2, v3 gone from the table.
  const table = await waitFor(
    async () => {
      const t = await routerUpstreams(env.client, NS, MODEL);
      return t && t.length > 0 && t.every((u) => u.version === '2' || u.weight === 0) ? t : undefined;
    },
    30_000,
    'router table: every request to v2',
    300,
  );
  const s = await getIsvc(env);
  const outcomes = (s.status?.history ?? [])
    .filter((h) => h.version >= 2)
    .sort((a, b) => a.version - b.version)
    .map((h) => `${h.version}:${h.outcome}`);
  assertOk(
    JSON.stringify(outcomes) === JSON.stringify(['2:Promoted', '3:RolledBack']),
    `history once each: ${JSON.stringify(outcomes)}; table ${JSON.stringify(table)}`,
  );
  // RolledBack stays the phase until the next version (v2 serves meanwhile).
  assertOk(
    s.status?.phase === 'RolledBack' && s.status.stable?.version === 2 && !s.status.canary,
    `v2 serving, v3 rolled back, no canary: ${brief(s)}`,
  );
  return s;
}
