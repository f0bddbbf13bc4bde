// The full validation report: serving-path accuracy per head against the trainer's,
// latency, and the training/serving skew verdict. Pure: built from what the reference run
// measured.
import type { Artifact } from '../model/artifact.js';
import type { ItemPrediction } from '../model/heads.js';
import type { Signature } from '../model/schema.js';
import type { ReferenceItem } from './reference.js';

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

/** What running the reference sample through the serving path measured, per item. */
export interface ReferenceRun {
  predictions: ItemPrediction[];
  /** per item, values in featureNames(signature) order */
  features: number[][];
  latencies: number[];
}

export interface ReportOptions {
  maxAccuracyGap?: number;
  /** where profile.json is written, and its shape */
  profile: ValidationReport['profile'];
}

const r4 = (v: number) => Math.round(v * 10_000) / 10_000;

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function latencySummary(latencies: number[]): ValidationReport['latencyMs'] {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    mean: r4(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    p50: r4(quantile(sorted, 0.5)),
    p95: r4(quantile(sorted, 0.95)),
    p99: r4(quantile(sorted, 0.99)),
  };
}

function signatureSummary(sig: Signature): ValidationReport['signature'] {
  const input = sig.input;
  return {
    input:
      input.kind === 'image'
        ? {
            kind: 'image',
            tensor: input.tensor,
            width: input.width,
            height: input.height,
            channels: input.channels,
            layout: input.layout,
            resize: input.resize,
          }
        : { kind: 'tensor', tensor: input.tensor, features: input.features },
    heads: sig.heads.map((h) => ({ name: h.name, type: h.type, labels: h.labels })),
  };
}

/** Accuracy per head over the items labelled for it, beside the trainer's figure. */
function headAccuracies(
  artifact: Artifact,
  items: ReferenceItem[],
  predictions: ItemPrediction[],
): ValidationReport['heads'] {
  const heads: ValidationReport['heads'] = {};
  for (const head of artifact.signature.heads) {
    const labelled = items
      .map((it, i) => ({ truth: it.labels[head.name], predicted: predictions[i][head.name].label }))
      .filter((x) => x.truth !== undefined);
    const correct = labelled.filter((x) => x.truth === x.predicted).length;
    heads[head.name] = {
      accuracy: labelled.length ? r4(correct / labelled.length) : 0,
      samples: labelled.length,
      trainingAccuracy: artifact.metrics?.heads[head.name]?.accuracy ?? null,
    };
  }
  return heads;
}

export function buildReport(
  artifact: Artifact,
  items: ReferenceItem[],
  run: ReferenceRun,
  opts: ReportOptions,
): ValidationReport {
  const heads = headAccuracies(artifact, items, run.predictions);
  const accuracies = Object.values(heads)
    .filter((h) => h.samples > 0)
    .map((h) => h.accuracy);
  const accuracy = r4(accuracies.reduce((a, b) => a + b, 0) / Math.max(1, accuracies.length));
  const trainingAccuracy = artifact.metrics?.accuracy ?? null;
  const accuracyGap = trainingAccuracy === null ? null : r4(trainingAccuracy - accuracy);
  const report: ValidationReport = {
    schemaVersion: 1,
    ok: true,
    model: artifact.signature.name,
    digest: artifact.digest,
    signature: signatureSummary(artifact.signature),
    samples: items.length,
    heads,
    accuracy,
    trainingAccuracy,
    accuracyGap,
    maxAccuracyGap: opts.maxAccuracyGap ?? null,
    latencyMs: latencySummary(run.latencies),
    profile: opts.profile,
  };
  if (opts.maxAccuracyGap !== undefined && accuracyGap !== null && accuracyGap > opts.maxAccuracyGap) {
    report.ok = false;
    report.error = `training/serving skew: serving-path accuracy ${accuracy} is ${accuracyGap} below the training accuracy ${trainingAccuracy} (allowed gap ${opts.maxAccuracyGap})`;
  }
  return report;
}
