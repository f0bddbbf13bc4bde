// The dev cluster's S3-compatible object store: s3rver 3.7 in-process (it is a Node library,
// unlike Prometheus: a child process would only add a second Node start, ~0.5 s of imports),
// behind front.ts (anonymous requests refused, V4 signatures verified, aws-chunked decoded), on
// 127.0.0.1 with a port kept across restarts of the same dir, data in <dir>/s3/data, its logs
// silent. The buckets Modelship's examples use exist from the start. The endpoint and the key
// pair go where clients look for them: <dir>/s3.env and the Secret default/modelship-s3, both
// with the AWS SDKs' own environment names (`envFrom: [{secretRef: {name: modelship-s3}}]`).
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { s3Front } from './front.js';
import { choosePort } from '../prometheus/index.js';
import type { ClusterHandle, StartedComponent } from '../agent/components.js';

export const S3_BUCKETS = ['modelship-models', 'modelship-datasets'] as const;
export const S3_SECRET = { namespace: 'default', name: 'modelship-s3' } as const;
/** s3rver's built-in key pair (its only account); the region S3 signs for by default. */
export const S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', region: 'us-east-1' } as const;

export interface ObjectStore {
  /** `http://127.0.0.1:<port>`; clients must use path-style addressing. */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_S3_FORCE_PATH_STYLE. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface ObjectStoreOptions {
  /** The cluster dir: the store keeps <dataDir>/s3/data and <dataDir>/s3/port. */
  dataDir: string;
  /** 0 (default): the port of the previous run of this dir when free, else a free one. */
  port?: number;
}

export async function startObjectStore(opts: ObjectStoreOptions): Promise<ObjectStore> {
  const home = join(opts.dataDir, 's3');
  const directory = join(home, 'data');
  mkdirSync(directory, { recursive: true });
  // Imported here: s3rver's dependencies (Koa, lodash, winston…) take ~0.4 s to load, which
  // test clusters without S3 should not pay.
  const { default: S3rver } = await import('s3rver');
  const s3rver = new S3rver({
    silent: true,
    directory,
    // The endpoint is an IP address, so SDKs address buckets by path; never take a Host name
    // for a bucket.
    vhostBuckets: false,
    configureBuckets: S3_BUCKETS.map((name) => ({ name })),
  });
  await s3rver.configureBuckets();
  const server = http.createServer(
    s3Front({
      credentials: S3_CREDENTIALS,
      next: s3rver.callback(),
      uploadsDir: (bucket) => s3rver.store.getResourcePath(bucket, undefined, 'uploads'),
      bucketExists: (bucket) => isDir(s3rver.store.getBucketPath(bucket)),
    }),
  );
  const port = opts.port || (await choosePort(join(home, 'port')));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    ...S3_CREDENTIALS,
    env: s3Env(endpoint),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function s3Env(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: S3_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3_CREDENTIALS.secretAccessKey,
    AWS_REGION: S3_CREDENTIALS.region,
    // No SDK reads this one: clients that honour it set forcePathStyle / addressing_style=path.
    AWS_S3_FORCE_PATH_STYLE: 'true',
  };
}

/** `export K=V` lines for `. <dir>/s3.env`. */
export function s3EnvFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `export ${k}=${v}\n`)
    .join('');
}

/** Creates or replaces the Secret so that its keys are exactly `env`'s. */
export async function applyS3Secret(apiUrl: string, env: Record<string, string>): Promise<void> {
  const { namespace, name } = S3_SECRET;
  const collection = `${apiUrl}/api/v1/namespaces/${namespace}/secrets`;
  const secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'devcluster' } },
    type: 'Opaque',
    stringData: env,
  };
  for (let attempt = 0; ; attempt++) {
    const current = await fetch(`${collection}/${name}`);
    const rv = current.ok ? ((await current.json()) as { metadata: { resourceVersion: string } }).metadata : undefined;
    const res = rv
      ? await fetch(`${collection}/${name}`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ...secret, metadata: { ...secret.metadata, resourceVersion: rv.resourceVersion } }),
        })
      : await fetch(collection, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(secret),
        });
    if (res.ok) return;
    // 409: someone wrote it between our read and write; read again.
    if (res.status !== 409 || attempt >= 3) {
      throw new Error(`writing Secret ${namespace}/${name}: ${res.status} ${await res.text()}`);
    }
  }
}

/** The dev cluster component: the store, <dir>/s3.env and the Secret, stopped with the cluster. */
export async function startS3Component(
  cluster: ClusterHandle,
): Promise<StartedComponent & { note: string; store: ObjectStore }> {
  const store = await startObjectStore({ dataDir: cluster.dir });
  try {
    const envFile = join(cluster.dir, 's3.env');
    writeFileSync(envFile, s3EnvFile(store.env));
    await applyS3Secret(cluster.apiUrl, store.env);
    return {
      name: 'S3 (s3rver)',
      url: store.endpoint,
      note: `credentials in ${envFile} and Secret ${S3_SECRET.namespace}/${S3_SECRET.name}; buckets ${S3_BUCKETS.join(' ')}`,
      store,
      stop: () => store.stop(),
    };
  } catch (err) {
    await store.stop();
    throw err;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
