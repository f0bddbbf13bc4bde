// `fetch` from s3://bucket/prefix: every object under `prefix/` into the target folder, keys
// relative to the prefix becoming relative paths. Listed page by page (ListObjectsV2), each
// body streamed to disk; the listed sizes are checked against --max-bytes before any download.
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { StorageError, type FailureContext } from './errors.js';
import { withRetry } from './retry.js';
import { createS3Client } from './s3-client.js';
import type { FetchContext } from './fetch.js';
import { mapLimit, progressLine, safeJoin, streamToFile, TRANSFER_CONCURRENCY } from './transfer.js';
import type { S3Location } from './uri.js';

interface ListedObject {
  key: string;
  rel: string;
  size: number;
}

async function listObjects(client: S3Client, loc: S3Location, fc: FetchContext, ctx: FailureContext) {
  const prefix = loc.prefix ? `${loc.prefix}/` : '';
  const objects: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await withRetry(
      () =>
        client.send(
          new ListObjectsV2Command({
            Bucket: loc.bucket,
            Prefix: prefix || undefined,
            ContinuationToken: token,
            MaxKeys: fc.pageSize,
          }),
        ),
      ctx,
      fc.retry,
    );
    for (const o of page.Contents ?? []) {
      // "folder/" placeholder objects (made by consoles) hold no data
      if (!o.Key || o.Key.endsWith('/')) continue;
      objects.push({ key: o.Key, rel: o.Key.slice(prefix.length), size: o.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects;
}

async function download(client: S3Client, loc: S3Location, object: ListedObject, fc: FetchContext): Promise<number> {
  const path = safeJoin(fc.dir, object.rel, `s3://${loc.bucket}/${object.key}`);
  const started = performance.now();
  const ctx = { target: `s3://${loc.bucket}/${object.key}`, endpoint: fc.endpoint };
  const bytes = await withRetry(
    async () => {
      const res = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: object.key }));
      return streamToFile(res.Body as Readable, path, fc.budget);
    },
    ctx,
    fc.retry,
  );
  fc.out(progressLine('fetched', object.rel, bytes, started));
  return bytes;
}

/** Downloads every object under the prefix; returns the relative paths written. */
export async function fetchFromS3(loc: S3Location, fc: FetchContext): Promise<{ files: string[]; bytes: number }> {
  const { client, settings } = createS3Client(fc.env);
  fc.endpoint = settings.endpoint ?? `s3.${settings.region}.amazonaws.com`;
  const source = `s3://${loc.bucket}/${loc.prefix}`;
  try {
    const objects = await listObjects(client, loc, fc, { target: source, endpoint: fc.endpoint });
    if (objects.length === 0)
      throw new StorageError(
        'ArtifactNotFound',
        `${source}: no objects under this prefix (endpoint ${fc.endpoint}); check the URI and that the upload finished`,
      );
    for (const o of objects) safeJoin(fc.dir, o.rel, `s3://${loc.bucket}/${o.key}`);
    fc.budget.precheck(objects.reduce((sum, o) => sum + o.size, 0));
    const sizes = await mapLimit(objects, TRANSFER_CONCURRENCY, (o) => download(client, loc, o, fc));
    return { files: objects.map((o) => o.rel), bytes: sizes.reduce((a, b) => a + b, 0) };
  } finally {
    client.destroy();
  }
}
