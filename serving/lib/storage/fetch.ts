// The `fetch` step: an artifact (or data set) from object storage into a local folder, the
// size limit kept while bytes arrive, and model.onnx's digest checked against the one the
// operator registered. The operator runs it as an init container before serve and validate.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDigest, fileDigest } from './digest.js';
import { classifyError, StorageError } from './errors.js';
import { fetchArchive, fetchHttpModel } from './fetch-http.js';
import { DEFAULT_RETRY, type RetryPolicy } from './retry.js';
import { ByteBudget, DEFAULT_MAX_BYTES } from './transfer.js';
import { describeLocation, parseStorageUri } from './uri.js';

export interface FetchOptions {
  from: string;
  to: string;
  expectDigest?: string;
  maxBytes?: number;
  allowHttp?: boolean;
  retry?: RetryPolicy;
  env?: NodeJS.ProcessEnv;
  /** Where progress lines go (stdout by default). */
  out?: (line: string) => void;
  /** ListObjectsV2 page size (the store's default, 1000, when unset); tests page with less. */
  pageSize?: number;
}

/** What the s3 and https fetchers share for one run. */
export interface FetchContext {
  dir: string;
  env: NodeJS.ProcessEnv;
  budget: ByteBudget;
  retry: RetryPolicy;
  allowHttp: boolean;
  out: (line: string) => void;
  pageSize?: number;
  /** The S3 endpoint in use, for messages. */
  endpoint?: string;
}

export interface FetchResult {
  files: string[];
  bytes: number;
  seconds: number;
  /** model.onnx's digest when it was checked. */
  digest?: string;
}

async function verify(dir: string, expected: string, source: string): Promise<string> {
  const model = join(dir, 'model.onnx');
  if (!existsSync(model))
    throw new StorageError('ArtifactNotFound', `${source}: no model.onnx was fetched, so its digest cannot be checked`);
  const actual = await fileDigest(model);
  checkDigest(expected, actual, `${source}/model.onnx`);
  return actual;
}

export async function fetchArtifact(opts: FetchOptions): Promise<FetchResult> {
  const started = performance.now();
  const loc = parseStorageUri(opts.from, { allowHttp: opts.allowHttp });
  const source = describeLocation(loc);
  await mkdir(opts.to, { recursive: true }).catch((err: unknown) => {
    throw classifyError(err, { target: opts.to });
  });
  const fc: FetchContext = {
    dir: opts.to,
    env: opts.env ?? process.env,
    budget: new ByteBudget(opts.maxBytes ?? DEFAULT_MAX_BYTES, source),
    retry: opts.retry ?? DEFAULT_RETRY,
    allowHttp: opts.allowHttp ?? false,
    out: opts.out ?? ((line) => process.stdout.write(line)),
    pageSize: opts.pageSize,
  };
  let got: { files: string[]; bytes: number };
  if (loc.kind === 's3') {
    // the SDK is loaded only by the step that needs it
    const { fetchFromS3 } = await import('./fetch-s3.js');
    got = await fetchFromS3(loc, fc);
  } else got = loc.archive ? await fetchArchive(loc, fc) : await fetchHttpModel(loc, fc);
  const digest = opts.expectDigest ? await verify(opts.to, opts.expectDigest, source) : undefined;
  return { ...got, seconds: (performance.now() - started) / 1000, digest };
}
