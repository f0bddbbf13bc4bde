// Real models and labelled images for tests, built on demand from the example scripts.
//
// ensureSampleModel() / ensureTabularModel() run examples/sample-model.sh once into
// .cache/models/<kind>-<hash of the scripts>/ (git-ignored) and reuse it afterwards; a change
// to any script that shapes the model gives a new hash, so a stale model is never served.
// Concurrent callers (several test files run at once) are safe: one holds a lock file and
// builds into a temporary directory that is renamed into place; the others wait for it.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive } from '../../hack/devcluster/agent/process-guard.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Debian's interpreter with python3-torch (the pyenv `python3` on PATH has no torch). */
export const PYTHON = process.env.MODELSHIP_PYTHON ?? '/usr/bin/python3';
export const MODEL_CACHE_DIR = join(REPO_ROOT, '.cache', 'models');

export type ModelKind = 'image' | 'tabular';

/** One line of a labels.jsonl for images: file relative to the directory, label per head. */
export interface LabelledImage {
  file: string;
  labels: Record<string, string>;
}

/** Drift knobs of examples/datasets/face_attributes.py (see its --shift). */
export interface ImageShift {
  lighting?: number;
  blur?: number;
  noise?: number;
  palette?: 'warm' | 'cool' | 'desaturated';
  contrast?: number;
}

export interface GenerateImagesOptions {
  count: number;
  seed: number;
  out: string;
  /** 'lighting=0.4,palette=warm' or the same as an object. */
  shift?: string | ImageShift;
  /** Width and height in pixels (default 64). */
  size?: number;
  format?: 'png' | 'jpg';
}

export class ModelBuildError extends Error {
  override name = 'ModelBuildError';
}

const SCRIPTS: Record<ModelKind, string[]> = {
  image: [
    'examples/sample-model.sh',
    'examples/datasets/face_attributes.py',
    'examples/trainers/modelship_common.py',
    'examples/trainers/image-classifier/train.py',
  ],
  tabular: [
    'examples/sample-model.sh',
    'examples/datasets/iris_like.py',
    'examples/trainers/modelship_common.py',
    'examples/trainers/tabular/train.py',
  ],
};

/** The multi-head face-attributes image model directory (artifact contract complete). */
export function ensureSampleModel(): Promise<string> {
  return ensureModel('image');
}

/** The iris-like tensor model directory (input "features" [N,4], head "species"). */
export function ensureTabularModel(): Promise<string> {
  return ensureModel('tabular');
}

const inProcess = new Map<ModelKind, Promise<string>>();

export function ensureModel(kind: ModelKind): Promise<string> {
  let pending = inProcess.get(kind);
  if (!pending) {
    pending = scriptsHash(kind).then((hash) =>
      ensureCachedDir(MODEL_CACHE_DIR, `${kind}-${hash}`, (tmp) => buildModel(kind, tmp)),
    );
    pending.catch(() => inProcess.delete(kind)); // a failed build may be retried
    inProcess.set(kind, pending);
  }
  return pending;
}

export async function scriptsHash(kind: ModelKind): Promise<string> {
  const h = createHash('sha256').update(kind);
  for (const rel of SCRIPTS[kind]) {
    h.update(rel)
      .update('\0')
      .update(await readFile(join(REPO_ROOT, rel)))
      .update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

function buildModel(kind: ModelKind, dir: string): Promise<void> {
  return run('bash', [join(REPO_ROOT, 'examples', 'sample-model.sh'), dir, kind], { PYTHON }).then(() => undefined);
}

export interface CacheOptions {
  /** How often a waiter looks again (ms). */
  pollMs?: number;
  /** A lock older than this is abandoned even when its pid looks alive (ms). */
  staleMs?: number;
}

/**
 * Returns root/key, building it with build(tmpDir) exactly once across processes: a lock file
 * (root/key.lock, holding the builder's pid) serialises builders; the result appears by an
 * atomic rename, so a reader never sees a half-written directory. A lock whose pid is gone is
 * taken over.
 */
export async function ensureCachedDir(
  root: string,
  key: string,
  build: (dir: string) => Promise<void>,
  options: CacheOptions = {},
): Promise<string> {
  const finalDir = join(root, key);
  const lockPath = `${finalDir}.lock`;
  const pollMs = options.pollMs ?? 200;
  const staleMs = options.staleMs ?? 15 * 60_000;
  await mkdir(root, { recursive: true });
  while (!existsSync(finalDir)) {
    const lock = await tryLock(lockPath);
    if (!lock) {
      if (await lockIsStale(lockPath, staleMs)) await unlink(lockPath).catch(() => undefined);
      else await sleep(pollMs);
      continue;
    }
    try {
      if (existsSync(finalDir)) break;
      const tmp = join(root, `.tmp-${key}-${process.pid}-${randomBytes(4).toString('hex')}`);
      try {
        await build(tmp);
        await rename(tmp, finalDir).catch((err: NodeJS.ErrnoException) => {
          // Two builders only after a stale-lock takeover race; the first result wins.
          if (!existsSync(finalDir)) throw err;
        });
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    } finally {
      await unlink(lockPath).catch(() => undefined);
    }
  }
  return finalDir;
}

async function tryLock(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx');
    await fh.writeFile(String(process.pid));
    await fh.close();
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

async function lockIsStale(path: string, staleMs: number): Promise<boolean> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    if (Date.now() - st.mtimeMs > staleMs) return true;
    const pid = Number(text.trim());
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - st.mtimeMs > 5_000; // still being written
    return !processAlive(pid);
  } catch {
    return false; // vanished between our attempts: just try again
  }
}

/** Renders labelled face images with examples/datasets/face_attributes.py into opts.out. */
export async function generateImages(opts: GenerateImagesOptions): Promise<{ dir: string; labels: LabelledImage[] }> {
  const dir = resolve(opts.out);
  const args = [
    join(REPO_ROOT, 'examples', 'datasets', 'face_attributes.py'),
    '--out',
    dir,
    '--count',
    String(opts.count),
    '--seed',
    String(opts.seed),
    '--size',
    String(opts.size ?? 64),
    '--format',
    opts.format ?? 'png',
  ];
  const shift = shiftSpec(opts.shift);
  if (shift) args.push('--shift', shift);
  await run(PYTHON, args);
  return { dir, labels: await readLabels(dir) };
}

export function shiftSpec(shift: string | ImageShift | undefined): string {
  if (shift === undefined) return '';
  if (typeof shift === 'string') return shift;
  return Object.entries(shift)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Parses a labels.jsonl (images: {file, labels}; tensor models: {features, labels}). */
export async function readLabels<T = LabelledImage>(dir: string): Promise<T[]> {
  const text = await readFile(join(dir, 'labels.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      cmd,
      args,
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, maxBuffer: 32 << 20 },
      (err, stdout, stderr) => {
        if (err) {
          const tail = `${stdout}\n${stderr}`.trim().split('\n').slice(-15).join('\n');
          reject(new ModelBuildError(`${cmd} ${args.join(' ')} failed:\n${tail}`, { cause: err }));
        } else {
          resolvePromise(stdout);
        }
      },
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * A variant of the image sample model: the same generated data set and trainer, with extra
 * trainer options (e.g. `--epochs=2` for a weaker but honest model, whose metrics say so).
 * Cached like the sample model, under .cache/models/image-<variant>-<hash of the scripts and
 * the options>/, so a change to either gives a fresh build.
 */
export async function ensureImageModelVariant(variant: string, trainArgs: string): Promise<string> {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(variant))
    throw new ModelBuildError(`model variant name must be lowercase letters, digits and '-', got '${variant}'`);
  const hash = createHash('sha256')
    .update(await scriptsHash('image'))
    .update('\0')
    .update(trainArgs)
    .digest('hex')
    .slice(0, 16);
  return ensureCachedDir(MODEL_CACHE_DIR, `image-${variant}-${hash}`, (dir) =>
    run('bash', [join(REPO_ROOT, 'examples', 'sample-model.sh'), dir, 'image'], {
      PYTHON,
      SAMPLE_TRAIN_ARGS: trainArgs,
    }).then(() => undefined),
  );
}
