// The dev cluster's S3-compatible object store (hack/devcluster/s3/) through the clients
// Modelship and its users run: @aws-sdk/client-s3 (plain, streaming and multipart uploads,
// presigned URLs), Debian's python3-boto3 on the host and in a pod that takes the Secret
// `modelship-s3` with envFrom; wrong or missing credentials refused as S3 refuses them; the
// Secret and <dir>/s3.env; buckets, data and port kept across a restart of the same dir.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { run, startTestCluster, type TestCluster } from '../support/devcluster.js';
import { eventually, kubectlOk } from './helpers.js';
import { applyS3Secret, S3_BUCKETS, startObjectStore } from '../../hack/devcluster/s3/index.js';

/** Debian's interpreter: python3-boto3 (hack/install-deps.sh) is installed for it. */
const DEBIAN_PYTHON = '/usr/bin/python3';
const BUCKET = 'modelship-models';
const ENV_NAMES = [
  'AWS_ACCESS_KEY_ID',
  'AWS_ENDPOINT_URL',
  'AWS_REGION',
  'AWS_S3_FORCE_PATH_STYLE',
  'AWS_SECRET_ACCESS_KEY',
];

// Presigned GET URLs (SigV4 query authentication): one with the env's secret, one with another.
const BOTO3_PRESIGN = `
import os, sys, boto3, botocore.config
for secret in (os.environ["AWS_SECRET_ACCESS_KEY"], "wrong"):
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"],
                      aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=secret,
                      config=botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    print(s3.generate_presigned_url("get_object", Params={"Bucket": sys.argv[1], "Key": sys.argv[2]}, ExpiresIn=60))
`;

// Lists a bucket with nothing but the environment; Debian's boto3 1.26 predates
// AWS_ENDPOINT_URL and no SDK reads AWS_S3_FORCE_PATH_STYLE, so both are passed on explicitly,
// as a user's script for older SDKs would.
const BOTO3_LIST = `
import os, sys, boto3, botocore.config
path = os.environ.get("AWS_S3_FORCE_PATH_STYLE") == "true"
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"],
                  config=botocore.config.Config(s3={"addressing_style": "path" if path else "auto"}))
for o in s3.list_objects_v2(Bucket=sys.argv[1]).get("Contents", []):
    print(o["Key"], o["Size"])
`;

let cluster: TestCluster;

const kubectl = (args: string[], input?: string): Promise<string> => kubectlOk(cluster, args, input);

function client(overrides: { accessKeyId?: string; secretAccessKey?: string } = {}): S3Client {
  const s3 = cluster.s3!;
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, ...overrides },
    maxAttempts: 1,
  });
}

/** Runs Debian's python3 with nothing but <dir>/s3.env sourced into a bare environment. */
function python(script: string, args: string[]) {
  return run(
    'sh',
    ['-c', `. "$1" && shift && exec ${DEBIAN_PYTHON} "$@"`, 'sh', join(cluster.dir, 's3.env'), '-c', script, ...args],
    { PATH: '/usr/bin:/bin', HOME: cluster.dir },
  );
}

async function refusal(p: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, S3ServiceException);
    const e = err as S3ServiceException;
    return { name: e.name, status: e.$metadata.httpStatusCode };
  }
  throw new Error('the request was accepted');
}

test.before(async () => {
  cluster = await startTestCluster({ agent: true, s3: true });
});

test.after(async () => {
  await cluster?.stop();
});

test('the two buckets exist at start', async () => {
  const s3 = client();
  const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
  assert.equal(names, [...S3_BUCKETS].sort());
  for (const bucket of S3_BUCKETS) {
    assert.is((await s3.send(new HeadBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 200);
  }
  assert.equal(await refusal(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' }))), {
    name: 'NotFound',
    status: 404,
  });
});

test('put, get and list round trip: plain, streamed (aws-chunked) and multipart bodies', async () => {
  const s3 = client();
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'rt/plain.txt', Body: 'hello' }));
  // A stream of known length goes out aws-chunked with a CRC32 trailer (the SDK's default).
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'rt/streamed.txt',
      Body: Readable.from([Buffer.from('hello '), Buffer.from('stream')]),
      ContentLength: 12,
      ContentType: 'text/plain',
    }),
  );
  const big = Buffer.alloc(6 * 1024 * 1024 + 5, 7);
  await new Upload({
    client: s3,
    params: { Bucket: BUCKET, Key: 'rt/multipart.bin', Body: Readable.from([big]) },
  }).done();

  const get = async (key: string) => s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.is(await (await get('rt/plain.txt')).Body!.transformToString(), 'hello');
  const streamed = await get('rt/streamed.txt');
  assert.is(await streamed.Body!.transformToString(), 'hello stream');
  assert.equal([streamed.ContentLength, streamed.ContentType, streamed.ContentEncoding], [12, 'text/plain', undefined]);
  assert.ok(Buffer.from(await (await get('rt/multipart.bin')).Body!.transformToByteArray()).equals(big));

  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'rt/' }));
  assert.equal(
    listed.Contents?.map((o) => [o.Key, o.Size]),
    [
      ['rt/multipart.bin', big.length],
      ['rt/plain.txt', 5],
      ['rt/streamed.txt', 12],
    ],
  );
  assert.equal(await refusal(get('rt/missing')), { name: 'NoSuchKey', status: 404 });

  // Keys and query values that need percent-encoding are signed as the SDK encodes them.
  const odd = "rt/odd dir/a b+c~!(x)*'=&.txt";
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: odd, Body: 'odd' }));
  assert.is(await (await get(odd)).Body!.transformToString(), 'odd');
  const prefixed = await s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'rt/odd dir/a b+', Delimiter: '/' }),
  );
  assert.equal(
    prefixed.Contents?.map((o) => o.Key),
    [odd],
  );
});

test('an aborted multipart upload is gone (204, then NoSuchUpload)', async () => {
  const s3 = client();
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'aborted' }));
  await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'aborted', UploadId, PartNumber: 1, Body: 'part' }));
  const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'aborted', UploadId }));
  assert.is(aborted.$metadata.httpStatusCode, 204);
  assert.equal(await refusal(s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: 'aborted', UploadId }))), {
    name: 'NoSuchUpload',
    status: 404,
  });
});

test('wrong, missing or anonymous credentials are refused as S3 refuses them', async () => {
  const list = (s3: S3Client) => s3.send(new ListObjectsV2Command({ Bucket: BUCKET }));
  assert.equal(await refusal(list(client({ accessKeyId: 'AKIAWRONG' }))), { name: 'InvalidAccessKeyId', status: 403 });
  // s3rver alone accepts any secret with the right key id; the front verifies the signature.
  assert.equal(await refusal(list(client({ secretAccessKey: 'wrong' }))), {
    name: 'SignatureDoesNotMatch',
    status: 403,
  });
  const anonymous = await fetch(`${cluster.s3!.endpoint}/${BUCKET}?list-type=2`);
  assert.is(anonymous.status, 403);
  assert.match(await anonymous.text(), /<Code>AccessDenied<\/Code>/);

  await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt', Body: 'signed' }));
  const r = await python(BOTO3_PRESIGN, [BUCKET, 'presigned.txt']);
  assert.is(r.code, 0, r.stderr);
  const [goodUrl, badUrl] = r.stdout.trim().split('\n');
  assert.match(goodUrl, /X-Amz-Signature=/);
  const good = await fetch(goodUrl);
  assert.equal([good.status, await good.text()], [200, 'signed']);
  const bad = await fetch(badUrl);
  assert.is(bad.status, 403);
  assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
});

test('<dir>/s3.env and the Secret default/modelship-s3 hold the AWS SDKs environment names', async () => {
  const s3 = cluster.s3!;
  const expected = {
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_ENDPOINT_URL: s3.endpoint,
    AWS_REGION: 'us-east-1',
    AWS_S3_FORCE_PATH_STYLE: 'true',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
  };
  assert.match(s3.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal([s3.accessKeyId, s3.secretAccessKey, s3.region], ['S3RVER', 'S3RVER', 'us-east-1']);
  const envFile = readFileSync(join(cluster.dir, 's3.env'), 'utf8');
  assert.equal(
    envFile.trimEnd().split('\n').sort(),
    Object.entries(expected).map(([k, v]) => `export ${k}=${v}`),
  );
  const sourced = await run('sh', ['-c', `. "$1" && env`, 'sh', join(cluster.dir, 's3.env')], {
    PATH: '/usr/bin:/bin',
  });
  const lines = sourced.stdout.split('\n');
  for (const [k, v] of Object.entries(expected)) assert.ok(lines.includes(`${k}=${v}`), k);

  const secret = JSON.parse(await kubectl(['get', 'secret', 'modelship-s3', '-n', 'default', '-o', 'json']));
  assert.is(secret.type, 'Opaque');
  const data = Object.fromEntries(
    Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
  );
  assert.equal(data, expected);

  // Create-or-update leaves exactly these keys, whatever was added to the Secret meanwhile.
  await kubectl(['patch', 'secret', 'modelship-s3', '--type=merge', '-p', '{"stringData":{"EXTRA":"x"}}']);
  await applyS3Secret(cluster.url, expected);
  const again = JSON.parse(await kubectl(['get', 'secret', 'modelship-s3', '-o', 'json']));
  assert.equal(Object.keys(again.data).sort(), ENV_NAMES);
});

test("Debian's python3-boto3 lists the bucket through the s3.env environment", async () => {
  const s3 = client();
  await s3.send(new PutObjectCommand({ Bucket: 'modelship-datasets', Key: 'from-node.csv', Body: 'a,b\n1,2\n' }));
  const r = await python(BOTO3_LIST, ['modelship-datasets']);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, 'from-node.csv 8\n');
});

test('a pod with envFrom the Secret lists the bucket with boto3', async () => {
  await client().send(new PutObjectCommand({ Bucket: BUCKET, Key: 'for-the-pod/model.onnx', Body: 'onnx' }));
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 's3-lister' },
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'list',
            image: 'debian:12',
            command: [DEBIAN_PYTHON, '-c', BOTO3_LIST, BUCKET],
            envFrom: [{ secretRef: { name: 'modelship-s3' } }],
          },
        ],
      },
    }),
  );
  const phase = await eventually(
    'the pod to finish',
    async () => {
      const p = (await kubectl(['get', 'pod', 's3-lister', '-o', 'jsonpath={.status.phase}'])).trim();
      return p === 'Succeeded' || p === 'Failed' ? p : undefined;
    },
    60_000,
  );
  const logs = await kubectl(['logs', 's3-lister']);
  assert.is(phase, 'Succeeded', logs);
  assert.ok(logs.split('\n').includes('for-the-pod/model.onnx 4'), logs);
});

test('a restart on the same dir keeps the buckets, the objects and the port', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'modelship-s3-'));
  try {
    const first = await startObjectStore({ dataDir: dir });
    const s3 = new S3Client({
      endpoint: first.endpoint,
      region: first.region,
      forcePathStyle: true,
      credentials: first,
      maxAttempts: 1,
    });
    await s3.send(new PutObjectCommand({ Bucket: 'modelship-datasets', Key: 'kept', Body: 'kept' }));
    await first.stop();
    const second = await startObjectStore({ dataDir: dir });
    try {
      assert.is(second.endpoint, first.endpoint, 'same port');
      const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name);
      assert.equal(names, [...S3_BUCKETS].sort());
      const kept = await s3.send(new GetObjectCommand({ Bucket: 'modelship-datasets', Key: 'kept' }));
      assert.is(await kept.Body!.transformToString(), 'kept');
    } finally {
      await second.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
