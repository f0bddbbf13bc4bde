// The trainer's termination message (pure parsing). The contract (examples/trainers/README.md):
//   success: {"artifact": {"uri": "...", "digest": "sha256:..."}, "metrics": {"accuracy": 0.9, ...}}
//   failure: {"error": "<why>"}
// Anything else — no message, not JSON, wrong types — is reported as a clear failure reason
// instead of crashing the reconcile or writing a status the schema would refuse.

export interface TrainerSummary {
  ok: true;
  artifact: { uri: string; digest?: string };
  metrics: Record<string, number>;
}

export type TrainerMessageProblem = 'MissingTerminationMessage' | 'InvalidTerminationMessage' | 'TrainerError';

export interface TrainerFailure {
  ok: false;
  reason: TrainerMessageProblem;
  message: string;
}

export type TrainerMessage = TrainerSummary | TrainerFailure;

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_METRICS = 128;
const MAX_QUOTE = 300;

const quote = (text: string) => JSON.stringify(text.length > MAX_QUOTE ? `${text.slice(0, MAX_QUOTE)}…` : text);
const invalid = (why: string): TrainerFailure => ({
  ok: false,
  reason: 'InvalidTerminationMessage',
  message: `the trainer's termination message ${why}`,
});

export function parseTrainerMessage(text: string | undefined): TrainerMessage {
  if (text === undefined || text.trim() === '') {
    return {
      ok: false,
      reason: 'MissingTerminationMessage',
      message: 'the trainer exited without writing its summary to the termination message (terminationMessagePath)',
    };
  }
  const parsed = parseObject(text);
  if (!parsed.ok) return parsed;
  const obj = parsed.value;
  if (typeof obj.error === 'string')
    return { ok: false, reason: 'TrainerError', message: `the trainer failed: ${obj.error}` };
  const artifact = parseArtifact(obj.artifact);
  if (!artifact.ok) return artifact;
  const metrics = parseMetrics(obj.metrics ?? {});
  if (!metrics.ok) return metrics;
  return { ok: true, artifact: artifact.value, metrics: Object.fromEntries(metrics.value) as Record<string, number> };
}

/** A part of the message that passed its checks, or why it did not. */
type Checked<T> = { ok: true; value: T } | TrainerFailure;

/** The message as a JSON object, or why it is not one. */
function parseObject(text: string): Checked<Record<string, unknown>> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid(`is not JSON: ${quote(text.trim())}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('is not a JSON object');
  return { ok: true, value: value as Record<string, unknown> };
}

function parseArtifact(value: unknown): Checked<TrainerSummary['artifact']> {
  const artifact = value as Record<string, unknown> | undefined;
  if (typeof artifact !== 'object' || artifact === null || typeof artifact.uri !== 'string' || !artifact.uri)
    return invalid('has no artifact.uri');
  if (artifact.digest !== undefined && (typeof artifact.digest !== 'string' || !DIGEST.test(artifact.digest))) {
    return invalid(`has an artifact.digest that is not sha256:<64 hex digits>: ${quote(String(artifact.digest))}`);
  }
  return { ok: true, value: { uri: artifact.uri, ...(artifact.digest ? { digest: artifact.digest as string } : {}) } };
}

/** The metrics' entries when they are at most MAX_METRICS finite numbers. */
function parseMetrics(metrics: unknown): Checked<[string, unknown][]> {
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics))
    return invalid('has metrics that are not an object of numbers');
  const entries = Object.entries(metrics as Record<string, unknown>);
  if (entries.length > MAX_METRICS) return invalid(`has ${entries.length} metrics (at most ${MAX_METRICS})`);
  const bad = entries.find(([, v]) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad) return invalid(`has metric ${quote(bad[0])} that is not a finite number`);
  return { ok: true, value: entries };
}
