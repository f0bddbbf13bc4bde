// The `upload` step: every file under a local folder to s3://bucket/prefix/<relative path>,
// each streamed from disk as a multipart upload (lib-storage's Upload: parts of PART_SIZE, a
// few in flight, so memory stays at a few parts whatever the file size). A failed file is
// retried from its start; a multipart upload that failed is aborted, not left to be billed.
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { classifyError, StorageError } from './errors.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from './retry.js';
import { createS3Client } from './s3-client.js';
import { joinKey, mapLimit, progressLine, TRANSFER_CONCURRENCY } from './transfer.js';
import { parseStorageUri, type S3Location } from './uri.js';

/** Parts of 8 MiB, 4 in flight per file: ~32 MiB of buffers per file at most. */
const PART_SIZE = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;
/** Files at once: with 4 parts each, bounded at ~64 MiB of part buffers. */
const FILES_IN_FLIGHT = Math.min(2, TRANSFER_CONCURRENCY);

export interface UploadOptions {
  from: string;
  to: string;
  retry?: RetryPolicy;
  env?: NodeJS.ProcessEnv;
  out?: (line: string) => void;
}

interface LocalFile {
  path: string;
  rel: string;
  size: number;
}

async function listFiles(root: string): Promise<LocalFile[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files: LocalFile[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    files.push({ path, rel: relative(root, path).split(sep).join('/'), size: (await stat(path)).size });
  }
  return files.sort((a, b) => a.rel.localeCompare(b.rel));
}

async function localFiles(dir: string): Promise<LocalFile[]> {
  let files: LocalFile[];
  try {
    files = await listFiles(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT' || (err as { code?: string }).code === 'ENOTDIR')
      throw new StorageError('ArtifactNotFound', `${dir}: no such folder to upload`, { cause: err });
    throw classifyError(err, { target: dir });
  }
  if (files.length === 0) throw new StorageError('ArtifactNotFound', `${dir}: no files to upload`);
  return files;
}

export async function uploadArtifact(
  opts: UploadOptions,
): Promise<{ files: string[]; bytes: number; seconds: number }> {
  const started = performance.now();
  const loc = parseStorageUri(opts.to);
  if (loc.kind !== 's3')
    throw new StorageError('UnsupportedScheme', `${opts.to}: upload writes to s3://bucket/prefix only`);
  const files = await localFiles(opts.from);
  const { client, settings } = createS3Client(opts.env ?? process.env);
  const endpoint = settings.endpoint ?? `s3.${settings.region}.amazonaws.com`;
  const out = opts.out ?? ((line: string) => process.stdout.write(line));
  const one = async (file: LocalFile) => {
    const key = joinKey(loc.prefix, file.rel);
    const fileStarted = performance.now();
    const ctx = { target: `s3://${loc.bucket}/${key}`, endpoint };
    await withRetry(() => putFile(client, loc, key, file), ctx, opts.retry ?? DEFAULT_RETRY);
    out(progressLine('uploaded', file.rel, file.size, fileStarted));
  };
  try {
    await mapLimit(files, FILES_IN_FLIGHT, one);
  } finally {
    client.destroy();
  }
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  return { files: files.map((f) => f.rel), bytes, seconds: (performance.now() - started) / 1000 };
}

async function putFile(
  client: ReturnType<typeof createS3Client>['client'],
  loc: S3Location,
  key: string,
  file: LocalFile,
): Promise<void> {
  const upload = new Upload({
    client,
    params: { Bucket: loc.bucket, Key: key, Body: createReadStream(file.path), ContentLength: file.size },
    partSize: PART_SIZE,
    queueSize: PARTS_IN_FLIGHT,
    leavePartsOnError: false,
  });
  await upload.done();
}
