// `validate` (alias `profile`) mode: load the model, check its signature against the graph,
// run reference/ through the exact serving pre-processing, write profile.json and a report.
// The operator's validation Job reads the compact report from the termination message.
import { accessSync, constants, existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseFlags, UsageError } from './args.js';
import { ServingError } from '../errors.js';
import type { ItemPrediction } from '../model/heads.js';
import { Model } from '../model/onnx-model.js';
import { featureNames, prepareImages, prepareRows } from '../pipeline/prepare.js';
import { buildProfile } from '../monitoring/profile.js';
import { parseProfile, type Profile, type Signature } from '../model/schema.js';

export const VALIDATE_FLAGS = {
  'model-dir': 'string',
  report: 'string',
  'profile-out': 'string',
  bins: 'number',
  'max-accuracy-gap': 'number',
  'max-pixels': 'number',
  'termination-message-path': 'string',
} as const;

const TERMINATION_LIMIT = 4096;

export interface ReferenceItem {
  line: number;
  file?: string;
  features?: unknown[];
  labels: Record<string, string>;
}

export interface ValidationReport {
  schemaVersion: 1;
  ok: boolean;
  error?: string;
  model: string;
  digest: string;
  signature: { input: Record<string, unknown>; heads: { name: string; type: string; labels: string[] }[] };
  samples: number;
  heads: Record<string, { accuracy: number; samples: number; trainingAccuracy: number | null }>;
  accuracy: number;
  trainingAccuracy: number | null;
  /** trainingAccuracy − serving accuracy: positive means the serving path does worse (skew) */
  accuracyGap: number | null;
  maxAccuracyGap: number | null;
  latencyMs: { mean: number; p50: number; p95: number; p99: number };
  profile: { path: string; bins: number; features: number };
}

export function parseReferenceLabels(text: string, sig: Signature): ReferenceItem[] {
  const items: ReferenceItem[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let entry: { file?: unknown; features?: unknown; labels?: unknown };
    try { entry = JSON.parse(line); } catch { throw new ServingError('INVALID_ARTIFACT', `reference/labels.jsonl line ${i + 1}: not JSON`); }
    const where = `reference/labels.jsonl line ${i + 1}`;
    if (!entry || typeof entry.labels !== 'object' || entry.labels === null) throw new ServingError('INVALID_ARTIFACT', `${where}: labels must be an object`);
    const labels = entry.labels as Record<string, unknown>;
    for (const [head, label] of Object.entries(labels)) {
      const h = sig.heads.find((x) => x.name === head);
      if (!h) throw new ServingError('INVALID_ARTIFACT', `${where}: labels.${head} is not a head of the signature`);
      if (typeof label !== 'string' || !h.labels.includes(label)) throw new ServingError('INVALID_ARTIFACT', `${where}: labels.${head} ${JSON.stringify(label)} is not one of ${h.labels.join(', ')}`);
    }
    if (sig.input.kind === 'image' && typeof entry.file !== 'string') throw new ServingError('INVALID_ARTIFACT', `${where}: file must be a path relative to reference/`);
    if (sig.input.kind === 'tensor' && !Array.isArray(entry.features)) throw new ServingError('INVALID_ARTIFACT', `${where}: features must be an array`);
    items.push({ line: i + 1, file: entry.file as string | undefined, features: entry.features as unknown[] | undefined, labels: labels as Record<string, string> });
  });
  if (items.length === 0) throw new ServingError('INVALID_ARTIFACT', 'reference/labels.jsonl has no samples');
  return items;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const r4 = (v: number) => Math.round(v * 10_000) / 10_000;

export interface ValidateOptions {
  bins?: number;
  maxPixels?: number;
  maxAccuracyGap?: number;
  profileOut?: string;
}

/** Runs the reference sample one item at a time through the serving path; returns profile and report. */
export async function validateModelDir(dir: string, opts: ValidateOptions = {}): Promise<{ profile: Profile; report: ValidationReport }> {
  const model = await Model.load(dir, { profile: false });
  try {
    const sig = model.signature;
    const refDir = join(dir, 'reference');
    const labelsPath = join(refDir, 'labels.jsonl');
    if (!existsSync(labelsPath)) throw new ServingError('INVALID_ARTIFACT', `reference/labels.jsonl: missing in ${dir}`);
    const items = parseReferenceLabels(await readFile(labelsPath, 'utf8'), sig);
    const predictions: ItemPrediction[] = [];
    const features: number[][] = [];
    const latencies: number[] = [];
    for (const item of items) {
      const bytes = sig.input.kind === 'image' ? await readFile(join(refDir, item.file!)).catch((err) => {
        throw new ServingError('INVALID_ARTIFACT', `reference/labels.jsonl line ${item.line}: cannot read ${item.file}: ${err.message}`, { cause: err });
      }) : undefined;
      const started = performance.now();
      const batch = sig.input.kind === 'image'
        ? await prepareImages(sig.input, [bytes!], opts.maxPixels ?? 25_000_000).catch((err) => {
          throw new ServingError('INVALID_ARTIFACT', `reference/${item.file}: ${(err as Error).message}`, { cause: err });
        })
        : prepareRows(sig.input, [item.features]);
      const [prediction] = await model.predict(batch.input, batch.dims);
      latencies.push(performance.now() - started);
      predictions.push(prediction);
      features.push(batch.features[0]);
    }
    const bins = opts.bins ?? 10;
    const profile = parseProfile(buildProfile({ model: sig.name, digest: model.artifact.digest, bins, featureNames: featureNames(sig), features, heads: sig.heads, predictions }));
    const heads: ValidationReport['heads'] = {};
    for (const head of sig.heads) {
      const labelled = items.map((it, i) => ({ truth: it.labels[head.name], predicted: predictions[i][head.name].label })).filter((x) => x.truth !== undefined);
      const correct = labelled.filter((x) => x.truth === x.predicted).length;
      heads[head.name] = { accuracy: labelled.length ? r4(correct / labelled.length) : 0, samples: labelled.length, trainingAccuracy: model.artifact.metrics?.heads[head.name]?.accuracy ?? null };
    }
    const accuracies = Object.values(heads).filter((h) => h.samples > 0).map((h) => h.accuracy);
    const accuracy = r4(accuracies.reduce((a, b) => a + b, 0) / Math.max(1, accuracies.length));
    const trainingAccuracy = model.artifact.metrics?.accuracy ?? null;
    const accuracyGap = trainingAccuracy === null ? null : r4(trainingAccuracy - accuracy);
    const sorted = [...latencies].sort((a, b) => a - b);
    const input = sig.input;
    const report: ValidationReport = {
      schemaVersion: 1,
      ok: true,
      model: sig.name,
      digest: model.artifact.digest,
      signature: {
        input: input.kind === 'image'
          ? { kind: 'image', tensor: input.tensor, width: input.width, height: input.height, channels: input.channels, layout: input.layout, resize: input.resize }
          : { kind: 'tensor', tensor: input.tensor, features: input.features },
        heads: sig.heads.map((h) => ({ name: h.name, type: h.type, labels: h.labels })),
      },
      samples: items.length,
      heads,
      accuracy,
      trainingAccuracy,
      accuracyGap,
      maxAccuracyGap: opts.maxAccuracyGap ?? null,
      latencyMs: { mean: r4(latencies.reduce((a, b) => a + b, 0) / latencies.length), p50: r4(quantile(sorted, 0.5)), p95: r4(quantile(sorted, 0.95)), p99: r4(quantile(sorted, 0.99)) },
      profile: { path: opts.profileOut ?? join(dir, 'profile.json'), bins, features: Object.keys(profile.features).length },
    };
    if (opts.maxAccuracyGap !== undefined && accuracyGap !== null && accuracyGap > opts.maxAccuracyGap) {
      report.ok = false;
      report.error = `training/serving skew: serving-path accuracy ${accuracy} is ${accuracyGap} below the training accuracy ${trainingAccuracy} (allowed gap ${opts.maxAccuracyGap})`;
    }
    return { profile, report };
  } finally {
    await model.close();
  }
}

/** The ≤ 4 KiB summary for the termination message; drops detail until it fits. */
/** Rounds to n significant digits so the termination message stays small. */
const sig = (v: number, n = 4): number => Number(v.toPrecision(n));
const share = (counts: number[]): number[] => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? Math.round((c / total) * 1e4) / 1e4 : 0));
};

/**
 * The reference distributions in the compact form the operator records in
 * ModelVersion.status.profile, so that drift can be measured without reading the artifact store.
 */
export function profileSummary(profile: Profile): ProfileSummary {
  return {
    bins: profile.bins,
    features: Object.entries(profile.features).map(([name, f]) => ({ name, edges: f.edges.map((e) => sig(e)), proportions: share(f.counts) })),
    predictions: Object.entries(profile.heads).map(([head, h]) => ({ head, labels: Object.keys(h.classes), proportions: share(Object.values(h.classes)) })),
  };
}

export interface ProfileSummary {
  bins: number;
  features: { name: string; edges: number[]; proportions: number[] }[];
  predictions: { head: string; labels: string[]; proportions: number[] }[];
}

/**
 * The termination-message form of the report (≤ 4 KiB). What does not fit is dropped in order
 * of least use to the operator: the signature, then the profile distributions, then per-head detail.
 */
export function compactReport(report: Partial<ValidationReport> & { ok: boolean; error?: string }, profile?: Profile): string {
  const full = {
    ok: report.ok,
    ...(report.error ? { error: report.error.slice(0, 2000) } : {}),
    model: report.model,
    digest: report.digest,
    samples: report.samples,
    accuracy: report.accuracy,
    trainingAccuracy: report.trainingAccuracy,
    accuracyGap: report.accuracyGap,
    heads: report.heads ? Object.fromEntries(Object.entries(report.heads).map(([h, v]) => [h, v.accuracy])) : undefined,
    latencyMs: report.latencyMs ? { p50: report.latencyMs.p50, p95: report.latencyMs.p95 } : undefined,
    profile: report.profile?.path,
    signature: report.signature,
    distributions: profile ? profileSummary(profile) : undefined,
  };
  const attempts = [
    full,
    { ...full, signature: undefined },
    { ...full, signature: undefined, distributions: undefined },
    { ...full, signature: undefined, distributions: undefined, heads: undefined, profile: undefined },
    { ok: full.ok, error: full.error?.slice(0, 1000), digest: full.digest, accuracy: full.accuracy },
  ];
  for (const attempt of attempts) {
    const text = JSON.stringify(attempt);
    if (text.length <= TERMINATION_LIMIT) return text;
  }
  return JSON.stringify({ ok: full.ok, error: 'the validation report did not fit in the termination message' });
}

export function terminationPath(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag) return flag;
  if (env.TERMINATION_MESSAGE_PATH) return env.TERMINATION_MESSAGE_PATH;
  const fallback = '/dev/termination-log';
  try {
    accessSync(existsSync(fallback) ? fallback : dirname(fallback), constants.W_OK);
    return existsSync(fallback) ? fallback : undefined;
  } catch {
    return undefined;
  }
}

/** CLI entry; returns the process exit code. Prints the full report on stdout. */
export async function runValidate(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let termination: string | undefined;
  try {
    const flags = parseFlags(argv, VALIDATE_FLAGS);
    termination = terminationPath(flags['termination-message-path'], env);
    const dir = flags['model-dir'];
    if (!dir) throw new UsageError('validate needs --model-dir DIR');
    const profileOut = flags['profile-out'] ?? join(dir, 'profile.json');
    const { profile, report } = await validateModelDir(dir, { bins: flags.bins, maxPixels: flags['max-pixels'], maxAccuracyGap: flags['max-accuracy-gap'], profileOut });
    if (report.ok) await writeFile(profileOut, JSON.stringify(profile, null, 2) + '\n');
    const text = JSON.stringify(report, null, 2) + '\n';
    if (flags.report) await writeFile(flags.report, text);
    if (termination) await writeFile(termination, compactReport(report, report.ok ? profile : undefined));
    process.stdout.write(text);
    if (!report.ok) process.stderr.write(`validate: ${report.error}\n`);
    return report.ok ? 0 : 1;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`validate: ${message}\n`);
    if (termination) await writeFile(termination, compactReport({ ok: false, error: message })).catch(() => undefined);
    return err instanceof UsageError ? 2 : 1;
  }
}
