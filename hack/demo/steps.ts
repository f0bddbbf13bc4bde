// The four steps of the walk-through. Each step applies what a user would apply, then waits
// (with a timeout) for what the operator does on its own, printing what it sees and the
// kubectl commands to see it too. What each version did goes into the summary rows.
import { join } from 'node:path';
import type {
  InferenceService,
  InferenceServiceStatusHistory,
  ModelVersion,
  TrainingRun,
} from '../../operator/api/index.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { Endpoints, waitFor, type Kube } from './kube.js';
import type { LabelledSample, LoadGenerator } from './loadgen.js';
import type { Progress } from './progress.js';
import { outcomeOf, type VersionRow } from './summary.js';
import type { Marker } from './timeline.js';

export const NS = 'default';
export const SERVICE = 'face-attributes';

export interface DemoContext {
  kube: Kube;
  progress: Progress;
  loadgen: LoadGenerator;
  samples: { normal: LabelledSample[]; shifted: LabelledSample[] };
  repoRoot: string;
  /** A step timeout, scaled by --timeout-scale. */
  timeout(ms: number): number;
  rows: Map<number, VersionRow>;
  markers: Marker[];
  /** Outcomes that differ from what the step expects (the demo exits non-zero). */
  surprises: string[];
}

const secondsBetween = (a?: string, b?: string): number | undefined =>
  a && b ? (Date.parse(b) - Date.parse(a)) / 1000 : undefined;
const pct = (v: number | undefined): string => (v === undefined ? '?' : v.toFixed(3));

const getIsvc = (ctx: DemoContext) => ctx.kube.client.get<InferenceService>(Kinds.InferenceService, NS, SERVICE);

async function apply(ctx: DemoContext, file: string): Promise<void> {
  const rel = file;
  const out = await ctx.kube.kubectl(['apply', '-f', join(ctx.repoRoot, rel)]);
  ctx.progress.info(`kubectl apply -f ${rel}`);
  for (const line of out.trim().split('\n')) ctx.progress.raw(`        ${line}\n`);
}

function mark(ctx: DemoContext, label: string): void {
  ctx.markers.push({ t: Date.now(), label });
}

/** Waits for a TrainingRun to finish and its ModelVersion to be validated; records the row. */
export async function trainAndValidate(ctx: DemoContext, run: string, trigger: string): Promise<ModelVersion> {
  const { progress: p, kube } = ctx;
  p.hint(`kubectl get tr ${run} -w`);
  const tr = await waitFor(
    `TrainingRun ${run} to finish`,
    ctx.timeout(240_000),
    async () => {
      const r = await kube.client.get<TrainingRun>(Kinds.TrainingRun, NS, run);
      const phase = r.status?.phase ?? 'Pending';
      return phase === 'Succeeded' || phase === 'Failed' ? { value: r } : `TrainingRun ${run} is ${phase}`;
    },
    { onObservation: (s) => p.info(s) },
  );
  if (tr.status?.phase !== 'Succeeded') {
    const c = tr.status?.conditions?.find((x) => x.type === 'Succeeded');
    throw new Error(`TrainingRun ${run} failed: ${c?.reason ?? ''} ${c?.message ?? ''}`);
  }
  p.done(
    `TrainingRun ${run} Succeeded: offline accuracy ${pct(tr.status?.metrics?.accuracy)} (real PyTorch on CPU, ${Math.round(secondsBetween(tr.status?.startTime, tr.status?.completionTime) ?? 0)}s)`,
  );
  const mvName = await waitFor(`TrainingRun ${run} to register a ModelVersion`, ctx.timeout(30_000), async () => {
    const r = await kube.client.get<TrainingRun>(Kinds.TrainingRun, NS, run);
    return r.status?.modelVersion ? { value: r.status.modelVersion } : `not registered yet`;
  });
  p.hint(`kubectl get mv ${mvName} -o yaml`);
  const mv = await waitFor(
    `ModelVersion ${mvName} to be validated`,
    ctx.timeout(120_000),
    async () => {
      const m = await kube.client.get<ModelVersion>(Kinds.ModelVersion, NS, mvName);
      const phase = m.status?.phase ?? 'Pending';
      return phase === 'Ready' || phase === 'Rejected' ? { value: m } : `ModelVersion ${mvName} is ${phase}`;
    },
    { onObservation: (s) => p.info(s) },
  );
  const version = mv.spec.version;
  ctx.rows.set(version, {
    version,
    trainingRun: run,
    trigger,
    offlineAccuracy: mv.spec.metrics?.accuracy,
    validationAccuracy: mv.status?.servingAccuracy,
    outcome: mv.status?.phase === 'Rejected' ? 'Rejected at validation' : 'Ready',
    trainSeconds: secondsBetween(tr.status?.startTime, tr.status?.completionTime),
  });
  if (mv.status?.phase === 'Ready')
    p.done(
      `ModelVersion ${mvName} (v${version}) Ready: serving-path accuracy ${pct(mv.status?.servingAccuracy)}, no training/serving skew`,
    );
  else
    p.warn(
      `ModelVersion ${mvName} Rejected: ${mv.status?.conditions?.find((c) => c.type === 'Validated')?.message ?? ''}`,
    );
  return mv;
}

/** Base URLs of the router's ready endpoints (the user-facing Service's backends). */
export async function routerTargets(kube: Kube): Promise<string[]> {
  const ep = await kube.client.get<
    KubeObject & { subsets?: Array<{ addresses?: Array<{ ip: string }>; ports?: Array<{ port: number }> }> }
  >(Endpoints, NS, SERVICE);
  return (ep.subsets ?? []).flatMap((s) =>
    (s.addresses ?? []).flatMap((a) => (s.ports ?? []).map((port) => `http://${a.ip}:${port.port}`)),
  );
}

function followLiveAccuracy(ctx: DemoContext): void {
  for (const v of ctx.loadgen.versions()) {
    const row = ctx.rows.get(v);
    const s = ctx.loadgen.stats(v);
    if (row && s.judged) {
      row.liveAccuracy = s.correct / s.judged;
      row.liveJudged = s.judged;
    }
  }
}

/** Follows one version's canary until it ends; returns its history entry. */
/** "; joined: beard 0.41 vs stable 0.9 (n=120), …" from status.canary.shadow.heads. */
function shadowHeads(
  heads: Array<{ head: string; accuracy?: number; stableAccuracy?: number; samples?: number }> = [],
) {
  const judged = heads.filter((h) => h.accuracy !== undefined);
  return judged.length
    ? `; joined labels: ${judged.map((h) => `${h.head} ${pct(h.accuracy)} vs stable ${pct(h.stableAccuracy)} (n=${h.samples})`).join(', ')}`
    : '';
}

export async function followCanary(
  ctx: DemoContext,
  version: number,
  expected?: InferenceServiceStatusHistory['outcome'],
): Promise<InferenceServiceStatusHistory> {
  const { progress: p } = ctx;
  p.hint(`kubectl get msvc ${SERVICE} -w`);
  let sawCanary = false;
  const entry = await waitFor(
    `the canary of v${version} to finish`,
    ctx.timeout(300_000),
    async () => {
      const isvc = await getIsvc(ctx);
      const h = isvc.status?.history?.find((x) => x.version === version);
      if (h) return { value: h };
      const c = isvc.status?.canary;
      if (c?.version === version) {
        if (!sawCanary) {
          sawCanary = true;
          mark(ctx, `v${version} canary`);
        }
        const verdict = isvc.status?.analysis?.verdict ? `, last analysis ${isvc.status.analysis.verdict}` : '';
        const where =
          c.shadow && !c.shadow.passedAt
            ? `shadow phase (a copy of every request, no traffic${shadowHeads(c.shadow.heads)})`
            : `step ${(c.step ?? 0) + 1} at ${c.weight ?? 0}%`;
        return `${isvc.status?.phase}: v${version} canary ${where} (${c.readyReplicas ?? 0} ready)${verdict}`;
      }
      return `${isvc.status?.phase}: stable v${isvc.status?.stable?.version ?? '?'}, waiting for v${version} to become the canary`;
    },
    { onObservation: (s) => p.info(s), intervalMs: 1_000 },
  );
  mark(ctx, `v${version} ${entry.outcome}`);
  followLiveAccuracy(ctx);
  const row = ctx.rows.get(version);
  // Input drift against the version's reference profile; prediction drift against stable when
  // input drift could not be measured.
  const driftOf = (check: string) =>
    entry.steps
      ?.flatMap((s) => s.checks ?? [])
      .filter((c) => c.check === check && c.value !== undefined)
      .map((c) => c.value as number) ?? [];
  const drift = driftOf('drift').length ? driftOf('drift') : driftOf('predictionDrift');
  if (row) {
    row.outcome = outcomeOf(entry);
    row.canarySeconds = secondsBetween(entry.startedAt, entry.finishedAt);
    if (drift.length) row.drift = Math.max(...drift);
  }
  const line = `v${version} ${entry.outcome}${entry.message ? `: ${entry.message}` : ''}`;
  if (expected && entry.outcome !== expected) {
    p.warn(`${line} (expected ${expected})`);
    ctx.surprises.push(`v${version}: ${entry.outcome}, expected ${expected}`);
  } else p.done(line);
  for (const s of entry.steps ?? []) {
    const checks = (s.checks ?? [])
      .map(
        (c) =>
          `${c.check}${c.head ? `[${c.head}]` : ''}${c.role ? `/${c.role}` : ''}=${c.value === undefined ? 'n/a' : Number(c.value.toFixed(3))} ${c.verdict}`,
      )
      .join(', ');
    p.raw(`        step ${(s.step ?? 0) + 1} at ${s.weight}%: ${s.verdict} — ${checks}\n`);
  }
  p.hint(`kubectl get msvc ${SERVICE} -o jsonpath='{.status.history}'`);
  if (entry.outcome === 'Promoted') await waitGuard(ctx, version, expected);
  return entry;
}

/** After a promotion the operator keeps analysing the new stable for spec.monitoring.guardWindow. */
async function waitGuard(
  ctx: DemoContext,
  version: number,
  expected?: InferenceServiceStatusHistory['outcome'],
): Promise<void> {
  const { progress: p } = ctx;
  const verdict = await waitFor(
    `the guard window of v${version} to close`,
    ctx.timeout(120_000),
    async () => {
      const st = (await getIsvc(ctx)).status;
      const latest = st?.history?.[0];
      if (latest?.version === version && latest.outcome === 'RolledBack') return { value: latest };
      if (!st?.monitoring?.guard && st?.stable?.version === version) return { value: undefined };
      return `guard window open until ${st?.monitoring?.guard?.until ?? '?'}: v${version} is analysed as the new stable`;
    },
    { onObservation: (s) => p.info(s) },
  );
  const row = ctx.rows.get(version);
  if (!verdict) {
    p.done(`guard window closed: v${version} stays stable`);
    return;
  }
  mark(ctx, `v${version} guard rollback`);
  if (row) row.outcome = `Promoted, then RolledBack (${verdict.reason ?? 'guard'})`;
  p.warn(`v${version} rolled back in its guard window: ${verdict.message ?? verdict.reason ?? ''}`);
  if (expected === 'Promoted') ctx.surprises.push(`v${version}: rolled back in the guard window`);
}

async function waitStable(ctx: DemoContext, version: number): Promise<InferenceService> {
  return waitFor(
    `InferenceService ${SERVICE} to serve v${version}`,
    ctx.timeout(120_000),
    async () => {
      const isvc = await getIsvc(ctx);
      const s = isvc.status?.stable;
      return s?.version === version && (s.readyReplicas ?? 0) > 0 && isvc.status?.phase !== 'Initializing'
        ? { value: isvc }
        : `${isvc.status?.phase ?? 'no status'}: stable v${s?.version ?? '-'} (${s?.readyReplicas ?? 0} ready)`;
    },
    { onObservation: (s) => ctx.progress.info(s) },
  );
}

export async function step1(ctx: DemoContext): Promise<void> {
  const { progress: p } = ctx;
  p.step(1, 'train v1 (real PyTorch, CPU) → validate → serve, with live traffic and feedback');
  await apply(ctx, 'hack/demo/manifests/trainingrun-v1.yaml');
  p.info(
    'models are stored in object storage, as in production: s3://modelship-models/face-attributes/<run>/ ' +
      "(the dev cluster's S3 server; credentials in Secret default/modelship-s3)",
  );
  await apply(ctx, 'hack/demo/manifests/inferenceservice.yaml');
  const mv = await trainAndValidate(ctx, 'face-attributes-cpu', 'kubectl apply');
  if (mv.status?.phase !== 'Ready') throw new Error(`the first version was rejected; nothing to serve`);
  const isvc = await waitStable(ctx, mv.spec.version);
  p.done(`InferenceService ${SERVICE} serves v${mv.spec.version} (phase ${isvc.status?.phase})`);
  const row = ctx.rows.get(mv.spec.version);
  if (row) row.outcome = 'Serving (first version)';
  mark(ctx, `v${mv.spec.version} serving`);
  p.hint(`kubectl get msvc,deploy,svc,pods -l modelship.dev/inference-service=${SERVICE}`);

  await waitFor('a ready router endpoint', ctx.timeout(60_000), async () =>
    (await routerTargets(ctx.kube)).length ? { value: true } : 'no ready endpoint yet',
  );
  ctx.loadgen.use('normal', ctx.samples.normal);
  ctx.loadgen.start();
  p.info(
    `load generator: ${ctx.samples.normal.length} labelled images drawn at random, feedback with the true labels for every prediction`,
  );
  const stats = await waitFor(
    'the first 100 predictions with feedback',
    ctx.timeout(90_000),
    async () => {
      const s = ctx.loadgen.stats(mv.spec.version);
      const f = ctx.loadgen.failuresSoFar();
      return s.feedback >= 100
        ? { value: s }
        : `${s.requests} predictions, ${s.feedback} feedback${f.count ? `, ${f.count} failed (${f.last})` : ''}`;
    },
    { onObservation: (s) => p.info(s), intervalMs: 2_000 },
  );
  followLiveAccuracy(ctx);
  p.done(
    `live traffic: ${stats.requests} predictions, live accuracy ${pct(stats.correct / stats.judged)} over ${stats.judged} head judgements`,
  );
}

export async function step2(ctx: DemoContext): Promise<void> {
  const { progress: p } = ctx;
  p.step(2, 'v2 with better hyperparameters → canary steps → promoted');
  await apply(ctx, 'hack/demo/manifests/trainingrun-v2.yaml');
  const mv = await trainAndValidate(ctx, 'face-attributes-wider', 'kubectl apply (better hyperparameters)');
  if (mv.status?.phase !== 'Ready') {
    ctx.surprises.push(`v${mv.spec.version} rejected at validation`);
    return;
  }
  await followCanary(ctx, mv.spec.version, 'Promoted');
}

export async function step3(ctx: DemoContext): Promise<void> {
  const { progress: p } = ctx;
  p.step(3, 'traffic drifts → drift warn → critical → retraining on fresh data → canary');
  ctx.loadgen.use('shifted', ctx.samples.shifted);
  mark(ctx, 'traffic drifts');
  p.info('load generator now sends darker, blurred images (lighting=0.6, blur=1.5)');
  p.hint(`kubectl get msvc ${SERVICE} -o jsonpath='{.status.monitoring}'`);
  // The operator decides: drift (or live accuracy) goes Warn, then Critical, and it creates a
  // TrainingRun from spec.retrain.template. The demo only watches the levels on the way.
  const seen = new Set<string>();
  const run = await waitFor(
    'the operator to start a retraining TrainingRun (drift or accuracy Critical)',
    ctx.timeout(180_000),
    async () => {
      const st = (await getIsvc(ctx)).status;
      const d = st?.monitoring?.drift;
      const a = st?.monitoring?.accuracy;
      for (const [what, level, text] of [
        ['drift', d?.level, `PSI ${pct(d?.score)} on ${d?.feature ?? '?'}`],
        ['live accuracy', a?.level, `worst head ${pct(a?.value)} over ${a?.samples ?? 0} feedback samples`],
      ] as const) {
        if ((level === 'Warn' || level === 'Critical') && !seen.has(`${what} ${level}`)) {
          seen.add(`${what} ${level}`);
          mark(ctx, `${what} ${level}`);
          p.done(`${what} ${level}: ${text}`);
        }
      }
      if (st?.retrain?.trainingRun) return { value: st.retrain };
      return `drift ${d?.level ?? 'not measured yet'} (PSI ${pct(d?.score)}), live accuracy ${a?.level ?? 'not measured yet'} (${pct(a?.value)})`;
    },
    { onObservation: (s) => p.info(s), intervalMs: 2_000 },
  );
  mark(ctx, `retrain (${run.lastReason})`);
  p.done(
    `the operator created TrainingRun ${run.trainingRun} (reason ${run.lastReason}) from spec.retrain.template, on fresh data`,
  );
  if (run.lastReason !== 'Drift') {
    const why = ((await getIsvc(ctx)).status?.conditions ?? []).find((c) => c.type === 'Drifting')?.message;
    p.warn(`retraining was triggered by ${run.lastReason}, not by drift${why ? ` (drift: ${why})` : ''}`);
    ctx.surprises.push(`step 3: retraining triggered by ${run.lastReason}, not drift`);
  }
  const mv = await trainAndValidate(ctx, run.trainingRun!, `retrain: ${run.lastReason}`);
  if (mv.status?.phase !== 'Ready') return;
  await followCanary(ctx, mv.spec.version);
}

export async function step4(ctx: DemoContext): Promise<void> {
  const { progress: p } = ctx;
  p.step(4, 'a deliberately bad model (shuffled labels) → shadow phase → rolled back before any user saw it');
  // The user turns on a shadow phase for the next candidate: it gets a copy of every request,
  // is judged with the labels users send for stable's answers, and answers no one meanwhile.
  const shadow = '{"spec":{"canary":{"shadow":{}}}}';
  await ctx.kube.kubectl(['patch', 'msvc', SERVICE, '-n', NS, '--type', 'merge', '-p', shadow]);
  p.info(`kubectl patch msvc ${SERVICE} --type merge -p '${shadow}'   # a shadow phase at its defaults`);
  await apply(ctx, 'hack/demo/manifests/trainingrun-v4-bad.yaml');
  const mv = await trainAndValidate(ctx, 'face-attributes-shuffled', 'kubectl apply (--corrupt=labels)');
  if (mv.status?.phase !== 'Ready') {
    ctx.surprises.push(`v${mv.spec.version} rejected at validation, never reached the canary`);
    return;
  }
  const entry = await followCanary(ctx, mv.spec.version, 'RolledBack');
  if (entry.outcome === 'RolledBack') p.info(`reason shown to users: ${entry.reason ?? ''} — ${entry.message ?? ''}`);
  p.hint(`kubectl describe msvc ${SERVICE}   # Events: why it rolled back`);
}

export const STEPS = { 1: step1, 2: step2, 3: step3, 4: step4 } as const;
