// `make demo` / `npx tsx hack/demo/main.ts [--steps 1,2] [--no-wait]`: the closed loop end to
// end on the dev cluster. Starts the dev cluster and the operator as child processes, applies
// the CRDs and the face-attributes example, walks through the steps (steps.ts), prints the
// summary, draws the canary timeline from Prometheus, then serves until Ctrl-C (or exits with
// --no-wait). Everything it starts is stopped on the way out.
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { InferenceService } from '../../operator/api/index.js';
import { Kinds, type KubeObject } from '../../operator/runtime/kinds.js';
import { ArgsError, parseArgs, usage, type DemoArgs } from './args.js';
import { connect, diagnostics, installChart, operatorLog, RELEASE, waitFor, type Kube } from './kube.js';
import { LoadGenerator, loadSamples } from './loadgen.js';
import { startDevCluster, type DevCluster } from './processes.js';
import { Progress, formatElapsed } from './progress.js';
import { NS, SERVICE, STEPS, routerTargets, type DemoContext } from './steps.js';
import { renderSummary } from './summary.js';
import { readFeedbackCredential } from '../loadgen/credential.js';
import { fetchTimeline, renderTimelineSvg } from './timeline.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN_DIR = join(REPO_ROOT, 'hack', 'bin');
const PYTHON = process.env.MODELSHIP_PYTHON ?? '/usr/bin/python3';

/** A path as the user typed it would be: relative below the current folder, else absolute. */
const shown = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
};
export const LOAD_SHIFT = 'lighting=0.6,blur=1.5';

/**
 * Fresh faces per image set: the load generator draws from them at random, so live traffic is
 * close to independent draws (a small pool sent again and again is a sample of its own, which
 * accumulating drift statistics would in time tell apart from the reference).
 */
const LOAD_IMAGES = 2000;

/** Labelled images for the load generator, from the same synthetic generator the trainer uses. */
async function generateLoadImages(dir: string, shift: string): Promise<string> {
  await promisify(execFile)(PYTHON, [
    join(REPO_ROOT, 'examples/datasets/face_attributes.py'),
    '--out',
    dir,
    '--count',
    String(LOAD_IMAGES),
    '--seed',
    '901',
    ...(shift ? ['--shift', shift] : []),
  ]);
  return dir;
}

interface Started {
  cluster?: DevCluster;
  loadgen?: LoadGenerator;
}

// The operator is a pod of the dev cluster: it stops with it.
async function stopAll(s: Started, progress: Progress): Promise<void> {
  await s.loadgen?.stop();
  await s.cluster?.stop();
  progress.info('stopped the load generator, the operator and the dev cluster');
}

async function userServiceUrl(kube: Kube): Promise<string | undefined> {
  const svc = await kube.client
    .get<KubeObject & { spec?: { clusterIP?: string; ports?: Array<{ port: number }> } }>(Kinds.Service, NS, SERVICE)
    .catch(() => undefined);
  const ip = svc?.spec?.clusterIP;
  return ip ? `http://${ip}:${svc?.spec?.ports?.[0]?.port ?? 80}/` : undefined;
}

/** How long the timeline waits for Prometheus to have both traffic and accuracy. */
const TIMELINE_WAIT_MS = 20_000;

async function finish(ctx: DemoContext, args: DemoArgs, prometheusUrl: string, startedAt: number): Promise<void> {
  const { progress: p } = ctx;
  p.step('summary', `${formatElapsed(p.elapsedMs())} in all`);
  p.raw(renderSummary([...ctx.rows.values()]));
  const isvc = await ctx.kube.client.get<InferenceService>(Kinds.InferenceService, NS, SERVICE);
  p.raw(
    `InferenceService ${SERVICE}: phase ${isvc.status?.phase}, stable v${isvc.status?.stable?.version}, drift ${isvc.status?.monitoring?.drift?.level ?? '-'}\n`,
  );
  if (!args.svgOut) return;
  try {
    // An accuracy point needs two scrapes (2 s apart) of the feedback counters: right after a
    // short run (step 1 alone, on a busy machine) they may not be in yet. Wait for both panels a
    // little; draw what there is if they do not come.
    let timeline = await fetchTimeline(prometheusUrl, 'face-attributes', startedAt, Date.now(), ctx.markers);
    for (
      const until = Date.now() + TIMELINE_WAIT_MS;
      !(timeline.traffic.length && timeline.accuracy.length) && Date.now() < until;
    ) {
      await new Promise((r) => setTimeout(r, 2_000));
      timeline = await fetchTimeline(prometheusUrl, 'face-attributes', startedAt, Date.now(), ctx.markers);
    }
    const out = resolve(REPO_ROOT, args.svgOut);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, renderTimelineSvg(timeline));
    p.done(
      `canary timeline from Prometheus → ${shown(out)} (${timeline.traffic.length} traffic and ${timeline.accuracy.length} accuracy series)`,
    );
  } catch (err) {
    p.warn(`no timeline picture: ${(err as Error).message}`);
  }
}

async function main(args: DemoArgs): Promise<number> {
  const progress = new Progress({ write: (t) => process.stdout.write(t), color: process.stdout.isTTY });
  const dir = resolve(REPO_ROOT, args.dir);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started: Started = {};
  let stopping: Promise<void> | undefined;
  const onSignal = () => {
    if (stopping) process.exit(130);
    progress.warn('interrupted: stopping everything');
    stopping = stopAll(started, progress);
    void stopping.then(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  progress.step(
    0,
    `start the dev cluster and the operator (steps ${args.steps.join(', ')}; working folder ${shown(dir)})`,
  );
  const imagesReady = Promise.all([
    generateLoadImages(join(dir, 'load', 'normal'), ''),
    generateLoadImages(join(dir, 'load', 'shifted'), LOAD_SHIFT),
  ]);
  started.cluster = await startDevCluster(REPO_ROOT, join(dir, 'cluster'));
  const { info } = started.cluster;
  progress.done(
    `dev cluster up: API server ${info.apiUrl}, Prometheus ${info.prometheusUrl} (log ${shown(started.cluster.logFile)})`,
  );
  const kube = connect(info.kubeconfig, BIN_DIR);
  progress.environment(info.kubeconfig, BIN_DIR);
  let ctx: DemoContext | undefined;
  try {
    progress.info(
      `helm install ${RELEASE.name} charts/modelship -n ${RELEASE.namespace} --create-namespace --set prometheusUrl=${info.prometheusUrl} --set podMonitor.enabled=true --set serviceMonitor.enabled=true --set metrics.service.enabled=true --set prometheusRule.enabled=true --set podMonitor.interval=2s --set podMonitor.scrapeTimeout=1s --set trainingRunAllowlist.secrets={modelship-s3} --wait`,
    );
    await installChart(kube, join(REPO_ROOT, 'charts', 'modelship'), info.prometheusUrl);
    await waitFor('the Modelship CRDs to be served', 30_000, async () => {
      await kube.client.list(Kinds.InferenceService, { namespace: NS });
      return { value: true };
    });
    await waitFor('the operator to start', 90_000, async () =>
      (await operatorLog(kube, 50)).includes('Operator starting') ? { value: true } : 'starting',
    );
    progress.done(
      `Modelship installed with its Helm chart: the operator runs as Deployment ${RELEASE.namespace}/${RELEASE.deployment} (kubectl logs -n ${RELEASE.namespace} deploy/${RELEASE.deployment})`,
    );
    const [normal, shifted] = await Promise.all((await imagesReady).map((d) => loadSamples(d)));
    started.loadgen = new LoadGenerator({
      resolveTargets: () => routerTargets(kube),
      requestsPerSecond: 20,
      feedbackCredential: () => readFeedbackCredential(kube.client, NS, SERVICE),
    });
    ctx = {
      kube,
      progress,
      loadgen: started.loadgen,
      samples: { normal, shifted },
      repoRoot: REPO_ROOT,
      timeout: (ms) => ms * args.timeoutScale,
      rows: new Map(),
      markers: [],
      surprises: [],
    };
    const startedAt = Date.now();
    for (const n of args.steps) await STEPS[n](ctx);
    await finish(ctx, args, info.prometheusUrl, startedAt);
  } catch (err) {
    if (stopping) {
      await stopping;
      return 130;
    }
    progress.warn(`the demo failed: ${(err as Error).message}`);
    progress.raw(await diagnostics(kube));
    await stopAll(started, progress);
    return 1;
  }
  if (ctx.surprises.length) progress.warn(`outcomes that differ from the script: ${ctx.surprises.join('; ')}`);
  if (args.wait) {
    const url = await userServiceUrl(kube);
    const pods = await routerTargets(kube).catch(() => []);
    progress.raw('\nThe cluster keeps running; the load generator keeps sending traffic. Ctrl-C stops everything.\n');
    if (url) progress.raw(`  web page (router Service):  ${url}\n`);
    if (pods[0]) progress.raw(`  web page (router pod):      ${pods[0]}/\n`);
    progress.raw(
      `  Prometheus:                 ${info.prometheusUrl}/graph?g0.expr=${encodeURIComponent('sum by (version) (rate(modelship_requests_total{handler="predict"}[1m]))')}\n`,
    );
    progress.hint(`export KUBECONFIG=${info.kubeconfig} PATH=${BIN_DIR}:$PATH; kubectl get modelship -o wide`);
    await new Promise<never>(() => undefined); // until a signal
  }
  await stopAll(started, progress);
  return ctx.surprises.length ? 2 : 0;
}

let args: DemoArgs;
try {
  args = parseArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof ArgsError)) throw err;
  process.stderr.write(`${err.message}\n${usage}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
main(args).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
