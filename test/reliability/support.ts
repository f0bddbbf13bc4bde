// Shared parts of the reliability suite: a dev cluster with the CRDs, the operator as a
// separate process (so it can be SIGKILLed), a fast stand-in trainer, and the invariants every
// scenario checks at the end (one ModelVersion per run, nothing lost, everything settled).
import { copyFileSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { API_VERSION, type ModelVersion, type TrainingRun } from '../../operator/api/index.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { operatorProcess } from '../../hack/chaos/components.js';
import type { ChaosProcess } from '../../hack/chaos/process.js';
import { IMAGE_ROOT } from '../../hack/devcluster/agent/sandbox.js';
import { startTestCluster, type TestCluster, type TestClusterOptions } from '../support/devcluster.js';
import { REPO_ROOT } from '../support/models.js';

export const NS = 'default';

export interface Env {
  cluster: TestCluster;
  client: KubeClient;
  operator: ChaosProcess;
  stop(): Promise<void>;
}

/** A dev cluster with the CRDs served and the operator running as its own process. */
export async function startEnv(opts: TestClusterOptions = { agent: true }): Promise<Env> {
  const cluster = await startTestCluster(opts);
  let operator: ChaosProcess | undefined;
  try {
    const r = await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`kubectl apply -f crds failed: ${r.stderr}`);
    const client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
    await waitFor(
      async () => {
        for (const k of [Kinds.TrainingRun, Kinds.ModelVersion, Kinds.InferenceService])
          await client.list(k, { namespace: NS });
        return true;
      },
      10_000,
      'CRDs served',
    );
    operator = operatorProcess({
      kubeconfig: cluster.kubeconfigPath,
      logDir: cluster.dir,
      prometheusUrl: cluster.prometheusUrl,
    });
    operator.start();
    const op = operator;
    return {
      cluster,
      client,
      operator,
      stop: async () => {
        await op.stop();
        if (process.env.RELIABILITY_LOGS) process.stderr.write(readFileSync(op.spec.logFile, 'utf8').slice(-20_000));
        // The whole operator log, kept past the cluster's removal for a failed run's post-mortem.
        if (process.env.RELIABILITY_KEEP_LOG) copyFileSync(op.spec.logFile, process.env.RELIABILITY_KEEP_LOG);
        await cluster.stop();
      },
    };
  } catch (e) {
    await operator?.stop();
    await cluster.stop();
    throw e;
  }
}

/** Offline accuracy recorded with a pre-built model (its metrics.json). */
export function modelAccuracy(modelDir: string): number {
  return (JSON.parse(readFileSync(join(modelDir, 'metrics.json'), 'utf8')) as { accuracy: number }).accuracy;
}

export interface FastTrainer {
  /** A pre-built artifact directory on the host, copied as the "trained" model. */
  modelDir: string;
  accuracy: number;
  /** Seconds the trainer "trains" before it writes its result. */
  seconds?: number;
  /** Replaces the termination message (e.g. garbage) when set. */
  message?: string;
  /** A shell command whose output replaces the termination message (for texts too long for a spec). */
  messageCommand?: string;
}

/**
 * A trainer that does no training: a shell (image "busybox" in the dev cluster) that
 * sleeps, copies a pre-built artifact into $OUTPUT_URI and writes the summary JSON to the
 * termination message. Training is not what these scenarios test, so each trial takes seconds.
 */
export function fastTrainingRun(name: string, model: string, t: FastTrainer): TrainingRun {
  const message =
    t.messageCommand !== undefined
      ? `${t.messageCommand} > /dev/termination-log`
      : t.message !== undefined
        ? `printf '%s' '${t.message.replace(/'/g, `'"'"'`)}' > /dev/termination-log`
        : `printf '{"artifact":{"uri":"%s"},"metrics":{"accuracy":${t.accuracy}}}' "$ARTIFACT_URI" > /dev/termination-log`;
  // The pre-built artifact is in the repository's model cache, which containers see at IMAGE_ROOT.
  const modelDir = join(IMAGE_ROOT, relative(REPO_ROOT, t.modelDir));
  const script = `sleep ${t.seconds ?? 1} && mkdir -p "$OUTPUT_URI" && cp -r '${modelDir}'/. "$OUTPUT_URI"/ && ${message}`;
  return {
    apiVersion: API_VERSION,
    kind: 'TrainingRun',
    metadata: { name, namespace: NS },
    spec: {
      model,
      image: 'busybox:1.36',
      command: ['sh', '-c', script],
      // busybox's image user is root, which the operator's restricted pod security refuses as a
      // kubelet would (runAsNonRoot): the stand-in runs as 65532, as a real trainer image does.
      securityContext: { runAsUser: 65532 },
      // A node path is passed to the stand-in trainer as written: nothing to download.
      dataset: { uri: 'file:///var/tmp/reliability-data' },
      output: { uri: `pvc://reliability-models/${model}` },
      resources: { gpus: 0 },
      backoffLimit: 0,
      registration: { enabled: true, validation: { skewTolerance: 0.2, activeDeadlineSeconds: 120 } },
    },
  } as TrainingRun;
}

export const cond = (
  obj: { status?: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } },
  type: string,
) => obj.status?.conditions?.find((c) => c.type === type);

export interface RunOutcome {
  run: TrainingRun;
  versions: ModelVersion[];
}

/** Every run finished, and each successful run's ModelVersion finished validating. */
export async function runsSettled(client: KubeClient, names: string[]): Promise<RunOutcome[] | undefined> {
  const out: RunOutcome[] = [];
  for (const name of names) {
    const run = await client.get<TrainingRun>(Kinds.TrainingRun, NS, name);
    const phase = run.status?.phase;
    if (phase !== 'Succeeded' && phase !== 'Failed') return undefined;
    const versions = (
      await client.list<ModelVersion>(Kinds.ModelVersion, {
        namespace: NS,
        labelSelector: `modelship.dev/training-run-uid=${run.metadata.uid}`,
      })
    ).items;
    if (phase === 'Succeeded') {
      if (cond(run, 'Registered')?.status !== 'True') return undefined;
      if (versions.some((v) => v.status?.phase !== 'Ready' && v.status?.phase !== 'Rejected')) return undefined;
    }
    out.push({ run, versions });
  }
  return out;
}

/** A compact picture of runs and versions for assertion messages. */
export function picture(outcomes: RunOutcome[]): string {
  return JSON.stringify(
    outcomes.map(({ run, versions }) => [
      run.metadata.name,
      run.status?.phase,
      run.status?.modelVersion,
      versions.map((v) => `${v.metadata.name}:${v.status?.phase}:${cond(v, 'Validated')?.reason ?? ''}`),
    ]),
  );
}

export async function jobsOf(client: KubeClient, ownerUid: string): Promise<number> {
  const jobs = await client.list(Kinds.Job, { namespace: NS });
  return jobs.items.filter((j) => j.metadata?.ownerReferences?.some((o) => o.uid === ownerUid)).length;
}
