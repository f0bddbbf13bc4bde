// Reading a model directory (the artifact contract): every file parsed and validated,
// optional files absent or well-formed, and the digest that names the model. The check of
// modelship.json against the ONNX graph is in graph-check.ts.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ServingError } from '../errors.js';
import {
  parseMetrics,
  parseProfile,
  parseSignature,
  type Profile,
  type Signature,
  type TrainingMetrics,
} from './schema.js';

export interface Artifact {
  dir: string;
  signature: Signature;
  metrics?: TrainingMetrics;
  profile?: Profile;
  modelBytes: Buffer;
  /** "sha256:<hex of model.onnx>" */
  digest: string;
  /** problems that did not stop loading, e.g. a profile.json left from another model */
  warnings: string[];
}

async function readJson(dir: string, file: string): Promise<unknown> {
  const path = join(dir, file);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ServingError('INVALID_ARTIFACT', `${file}: cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ServingError('INVALID_ARTIFACT', `${file}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

export function sha256Digest(bytes: Buffer): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

/** Reads and validates every file of the contract; optional files may be absent, never malformed. */
export async function readArtifact(dir: string, opts: { profile?: boolean } = {}): Promise<Artifact> {
  const signature = parseSignature(await readJson(dir, 'modelship.json'));
  let modelBytes: Buffer;
  try {
    modelBytes = await readFile(join(dir, 'model.onnx'));
  } catch (err) {
    throw new ServingError(
      'INVALID_ARTIFACT',
      `model.onnx: cannot read ${join(dir, 'model.onnx')}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const metrics = existsSync(join(dir, 'metrics.json')) ? parseMetrics(await readJson(dir, 'metrics.json')) : undefined;
  const wantProfile = opts.profile ?? true;
  let profile =
    wantProfile && existsSync(join(dir, 'profile.json'))
      ? parseProfile(await readJson(dir, 'profile.json'))
      : undefined;
  const digest = sha256Digest(modelBytes);
  const warnings: string[] = [];
  if (profile && profile.digest !== digest) {
    // Bins computed for another model would make every drift figure wrong: better none.
    warnings.push(
      `profile.json was computed for ${profile.digest}, not this model.onnx (${digest}); ignoring it, so no feature bins are counted until validate rewrites it`,
    );
    profile = undefined;
  }
  return { dir, signature, metrics, profile, modelBytes, digest, warnings };
}
