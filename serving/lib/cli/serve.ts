// `serve` mode: read the artifact, listen at once (readiness 503 until the model is loaded),
// load the model, serve; drain in-flight requests on SIGTERM.
import { availableParallelism } from 'node:os';
import sharp from 'sharp';
import { join } from 'node:path';
import { checkDigest } from '../storage/digest.js';
import { failureLine, StorageError } from '../storage/errors.js';
import { parseFlags, UsageError } from './args.js';
import { expectedDigest, terminationPath, writeTermination } from './termination.js';
import { readArtifact } from '../model/artifact.js';
import { createLogger, type Logger } from '../log.js';
import { Model } from '../model/onnx-model.js';
import { DEFAULT_LIMITS, DEFAULT_SHUTDOWN_DELAY_MS, type Limits, type WebPage } from '../protocol/options.js';
import { ServingApp } from '../protocol/server.js';
import { feedbackSecrets } from './feedback-keys.js';
import {
  admissionLimitsFor,
  DEFAULT_MEMORY_LIMIT,
  memoryLimitFromEnv,
  type AdmissionLimits,
} from '../protocol/admission.js';

export const SERVE_FLAGS = {
  'model-dir': 'string',
  port: 'number',
  host: 'string',
  name: 'string',
  'model-version': 'string',
  'feedback-keys-dir': 'string',
  'feedback-key-file': 'string',
  'feedback-credentials-dir': 'string',
  'feedback-ttl': 'number',
  'seen-capacity': 'number',
  'replay-journal': 'string',
  'max-body-bytes': 'number',
  'max-pixels': 'number',
  'max-images': 'number',
  'request-timeout-ms': 'number',
  'max-json-bytes': 'number',
  'max-json-depth': 'number',
  'max-in-flight': 'number',
  'max-buffered-bytes': 'number',
  'shutdown-delay-ms': 'number',
  'drain-timeout-ms': 'number',
  'intra-op-threads': 'number',
  'intra-op-spinning': 'boolean',
  'expect-digest': 'string',
  'termination-message-path': 'string',
} as const;

/** The request limits from the flags, each flag unset taking its default. */
function limitsOf(flags: Partial<Record<string, unknown>>): Limits {
  const pick = (flag: string, fallback: number) =>
    typeof flags[flag] === 'number' ? (flags[flag] as number) : fallback;
  return {
    maxBodyBytes: pick('max-body-bytes', DEFAULT_LIMITS.maxBodyBytes),
    maxPixels: pick('max-pixels', DEFAULT_LIMITS.maxPixels),
    maxImages: pick('max-images', DEFAULT_LIMITS.maxImages),
    requestTimeoutMs: pick('request-timeout-ms', DEFAULT_LIMITS.requestTimeoutMs),
    maxJsonBytes: pick('max-json-bytes', DEFAULT_LIMITS.maxJsonBytes),
    maxJsonDepth: pick('max-json-depth', DEFAULT_LIMITS.maxJsonDepth),
  };
}

/**
 * Admission budgets: sized from the memory limit (MODELSHIP_MEMORY_LIMIT, the downward API's
 * limits.memory in bytes; else 1 GiB), each overridable by its flag.
 */
function admissionOf(flags: Partial<Record<string, unknown>>, env: NodeJS.ProcessEnv): AdmissionLimits {
  const sized = admissionLimitsFor(memoryLimitFromEnv(env) ?? DEFAULT_MEMORY_LIMIT);
  const pick = (flag: string, fallback: number) =>
    typeof flags[flag] === 'number' ? (flags[flag] as number) : fallback;
  return {
    maxInFlight: pick('max-in-flight', sized.maxInFlight),
    maxBufferedBytes: pick('max-buffered-bytes', sized.maxBufferedBytes),
  };
}

export interface ServeDeps {
  webPage?: WebPage;
  logger?: Logger;
  env?: NodeJS.ProcessEnv;
}

/**
 * With --expect-digest (or MODELSHIP_EXPECTED_DIGEST), a model.onnx of another digest is never
 * served: DigestMismatch in the termination message, and the error ends the process (exit 1).
 */
async function refuseUnexpectedModel(
  expected: string | undefined,
  artifact: { dir: string; digest: string },
  terminationFlag: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  try {
    checkDigest(expected, artifact.digest, join(artifact.dir, 'model.onnx'));
  } catch (err) {
    if (err instanceof StorageError) await writeTermination(terminationPath(terminationFlag, env), failureLine(err));
    throw err;
  }
}

/**
 * SIGTERM/SIGINT: readiness 503 at once, requests still answered for `delayMs` (while the pod
 * leaves the endpoints), then stop accepting, finish in-flight requests (up to `timeoutMs`) and
 * exit 0.
 */
function drainOnSignals(app: ServingApp, log: Logger, delayMs: number, timeoutMs: number): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('Draining: not ready, still answering', { signal, shutdownDelayMs: delayMs, drainTimeoutMs: timeoutMs });
    app.startDraining();
    setTimeout(() => {
      void app.drain(timeoutMs).then(() => {
        log.info('Stopped');
        process.exit(0);
      });
    }, delayMs);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

export async function runServe(argv: string[], deps: ServeDeps = {}): Promise<ServingApp> {
  const env = deps.env ?? process.env;
  const log = deps.logger ?? createLogger();
  const flags = parseFlags(argv, SERVE_FLAGS);
  const modelDir = flags['model-dir'];
  if (!modelDir) throw new UsageError('serve needs --model-dir DIR');
  const expected = expectedDigest(flags['expect-digest'], env);
  const artifact = await readArtifact(modelDir);
  await refuseUnexpectedModel(expected, artifact, flags['termination-message-path'], env);
  for (const warning of artifact.warnings) log.warn(warning);
  if (!artifact.profile)
    log.warn(
      'No usable profile.json: input-feature bins (modelship_feature_bin_total) are not counted; run `serve validate` to write one',
    );
  const secrets = feedbackSecrets(flags, env, log);
  const app = new ServingApp({
    artifact,
    name: flags.name,
    version: flags['model-version'] ?? env.MODELSHIP_MODEL_VERSION ?? 'unversioned',
    feedbackKey: secrets.signing,
    ...(secrets.credentials ? { feedbackCredentials: secrets.credentials } : {}),
    feedbackTtlSeconds: flags['feedback-ttl'],
    seenCapacity: flags['seen-capacity'],
    replayJournal: flags['replay-journal'],
    limits: limitsOf(flags),
    admission: admissionOf(flags, env),
    webPage: deps.webPage,
    logger: log,
  });
  // No --host: all addresses of the pod (IPv6 and IPv4), so that the kubelet's probes, the
  // Service and `kubectl port-forward` (which connects to the pod's localhost) all reach it.
  const address = await app.listen(flags.port ?? 8080, flags.host);
  log.info('Listening', {
    address: `${address.address}:${address.port}`,
    model: app.name,
    version: app.version,
    digest: artifact.digest,
  });
  drainOnSignals(
    app,
    log,
    flags['shutdown-delay-ms'] ?? DEFAULT_SHUTDOWN_DELAY_MS,
    flags['drain-timeout-ms'] ?? 20_000,
  );
  // Every upload is new: sharp's operation cache only costs memory and lookups here.
  sharp.cache(false);
  // One onnxruntime thread per run: requests already run concurrently, and the benchmark
  // (hack/bench/serving.bench.ts) shows intra-op parallelism losing to that on small CNNs.
  const model = await Model.fromArtifact(artifact, {
    intraOpThreads: flags['intra-op-threads'] ?? 1,
    intraOpSpinning: flags['intra-op-spinning'] ?? false,
  });
  app.setModel(model);
  // sharp decodes on libuv's pool; it is sized before any of our code runs, so the
  // operator sets UV_THREADPOOL_SIZE per pod (one thread per core). Logged to tell a tuned pod
  // from one on libuv's default.
  log.info('Model loaded; ready', {
    model: app.name,
    inputs: artifact.signature.input.kind,
    heads: artifact.signature.heads.map((h) => h.name),
    threadpool: Number(process.env.UV_THREADPOOL_SIZE) || 4,
    cores: availableParallelism(),
  });
  return app;
}
