// Validation of a model directory: load the model (its signature checked against the graph),
// run reference/ one item at a time through the exact serving pre-processing, and build
// profile.json and the report from what it measured. The same code paths as /predict, so
// the profile and the serving-path accuracy measure exactly what production does.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServingError } from '../errors.js';
import { readArtifact } from '../model/artifact.js';
import type { ItemPrediction } from '../model/heads.js';
import { checkDigest } from '../storage/digest.js';
import { Model } from '../model/onnx-model.js';
import { parseProfile, type Profile, type Signature } from '../model/schema.js';
import { buildProfile } from '../monitoring/profile.js';
import { featureNames, prepareImages, prepareRows, type PreparedBatch } from '../pipeline/prepare.js';
import { parseReferenceLabels, type ReferenceItem } from './reference.js';
import { buildReport, type ReferenceRun, type ValidationReport } from './report.js';

export interface ValidateOptions {
  bins?: number;
  maxPixels?: number;
  maxAccuracyGap?: number;
  profileOut?: string;
  /** "sha256:<hex>" model.onnx must have (DigestMismatch before the session is created). */
  expectDigest?: string;
}

async function readReference(dir: string, sig: Signature): Promise<ReferenceItem[]> {
  const labelsPath = join(dir, 'reference', 'labels.jsonl');
  if (!existsSync(labelsPath)) throw new ServingError('INVALID_ARTIFACT', `reference/labels.jsonl: missing in ${dir}`);
  return parseReferenceLabels(await readFile(labelsPath, 'utf8'), sig);
}

async function readItemImage(refDir: string, item: ReferenceItem): Promise<Buffer> {
  return readFile(join(refDir, item.file!)).catch((err) => {
    throw new ServingError(
      'INVALID_ARTIFACT',
      `reference/labels.jsonl line ${item.line}: cannot read ${item.file}: ${err.message}`,
      { cause: err },
    );
  });
}

/** One item through pre-processing and inference, timed from its bytes (file reading excluded). */
async function runItem(
  model: Model,
  refDir: string,
  item: ReferenceItem,
  maxPixels: number,
): Promise<{ prediction: ItemPrediction; features: number[]; ms: number }> {
  const sig = model.signature;
  const bytes = sig.input.kind === 'image' ? await readItemImage(refDir, item) : undefined;
  const started = performance.now();
  const batch: PreparedBatch =
    sig.input.kind === 'image'
      ? await prepareImages(sig.input, [bytes!], maxPixels).catch((err) => {
          throw new ServingError('INVALID_ARTIFACT', `reference/${item.file}: ${(err as Error).message}`, {
            cause: err,
          });
        })
      : prepareRows(sig.input, [item.features]);
  const [prediction] = await model.predict(batch.input, batch.dims);
  return { prediction, features: batch.features[0], ms: performance.now() - started };
}

/** The reference items one at a time, in order (the latencies are those of single requests). */
async function runReference(
  model: Model,
  refDir: string,
  items: ReferenceItem[],
  maxPixels: number,
): Promise<ReferenceRun> {
  const run: ReferenceRun = { predictions: [], features: [], latencies: [] };
  for (const item of items) {
    const { prediction, features, ms } = await runItem(model, refDir, item, maxPixels);
    run.latencies.push(ms);
    run.predictions.push(prediction);
    run.features.push(features);
  }
  return run;
}

/** Runs the reference sample one item at a time through the serving path; returns profile and report. */
export async function validateModelDir(
  dir: string,
  opts: ValidateOptions = {},
): Promise<{ profile: Profile; report: ValidationReport }> {
  const artifact = await readArtifact(dir, { profile: false });
  checkDigest(opts.expectDigest, artifact.digest, join(dir, 'model.onnx'));
  const model = await Model.fromArtifact(artifact);
  try {
    const sig = model.signature;
    const items = await readReference(dir, sig);
    const run = await runReference(model, join(dir, 'reference'), items, opts.maxPixels ?? 25_000_000);
    const bins = opts.bins ?? 10;
    const profile = parseProfile(
      buildProfile({
        model: sig.name,
        digest: model.artifact.digest,
        bins,
        featureNames: featureNames(sig),
        features: run.features,
        heads: sig.heads,
        predictions: run.predictions,
        labels: items.map((item) => item.labels),
      }),
    );
    const report = buildReport(model.artifact, items, run, {
      maxAccuracyGap: opts.maxAccuracyGap,
      profile: {
        path: opts.profileOut ?? join(dir, 'profile.json'),
        bins,
        features: Object.keys(profile.features).length,
      },
    });
    return { profile, report };
  } finally {
    await model.close();
  }
}
