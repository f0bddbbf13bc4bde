// The pure parts of the object-storage steps, table-driven: URIs, the one error → reason map,
// back-off and retries, the digest flag, safe paths, the termination path and line.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { UsageError } from '../../serving/lib/cli/args.js';
import { expectedDigest, terminationPath } from '../../serving/lib/cli/termination.js';
import {
  classifyError,
  failureLine,
  HttpStatusError,
  StorageError,
  type StorageReason,
} from '../../serving/lib/storage/errors.js';
import { backoffDelay, withRetry, type RetryPolicy } from '../../serving/lib/storage/retry.js';
import { s3Settings } from '../../serving/lib/storage/s3-client.js';
import { safeJoin } from '../../serving/lib/storage/transfer.js';
import { parseStorageUri, redactUri } from '../../serving/lib/storage/uri.js';

const test = suite('object storage: units');

test('URIs: s3 and https parsed; everything else UnsupportedScheme', () => {
  const ok: Array<[string, unknown]> = [
    ['s3://models/a/b', { kind: 's3', bucket: 'models', prefix: 'a/b' }],
    ['s3://models/a/b/', { kind: 's3', bucket: 'models', prefix: 'a/b' }],
    ['s3://models', { kind: 's3', bucket: 'models', prefix: '' }],
    ['s3://models/', { kind: 's3', bucket: 'models', prefix: '' }],
  ];
  for (const [uri, want] of ok) assert.equal(parseStorageUri(uri), want, uri);
  const web: Array<[string, string, string | undefined]> = [
    ['https://h.example/m/v1', 'https://h.example/m/v1/', undefined],
    ['https://h.example/m/v1/', 'https://h.example/m/v1/', undefined],
    ['https://h.example/d/set.tar.gz', 'https://h.example/d/set.tar.gz', 'tar.gz'],
    ['https://h.example/d/set.tgz', 'https://h.example/d/set.tgz', 'tar.gz'],
    ['https://h.example/d/set.tar', 'https://h.example/d/set.tar', 'tar'],
  ];
  for (const [uri, url, archive] of web) {
    const loc = parseStorageUri(uri);
    assert.is(loc.kind, 'https', uri);
    if (loc.kind === 'https') {
      assert.is(String(loc.url), url, uri);
      assert.is(loc.archive, archive, uri);
    }
  }
  const bad: Array<[string, RegExp]> = [
    ['gs://b/p', /scheme gs:\/\/ is not supported/],
    ['pvc://claim/path', /scheme pvc:\/\/ is not supported/],
    ['file:///models', /scheme file:\/\/ is not supported/],
    ['/models/m', /not a URI/],
    ['http://h.example/m/', /plain http:\/\/ is refused/],
    ['s3://a/m', /not a valid bucket name/],
    ['s3://models/a/../b', /"\." or "\.\." segments/],
  ];
  for (const [uri, message] of bad) {
    try {
      parseStorageUri(uri);
      assert.unreachable(uri);
    } catch (err) {
      assert.instance(err, StorageError, uri);
      assert.is((err as StorageError).reason, 'UnsupportedScheme', uri);
      assert.match((err as Error).message, message, uri);
    }
  }
  assert.is(parseStorageUri('http://h/m/', { allowHttp: true }).kind, 'https');
});

test('redactUri drops user:password and the query (signed URLs)', () => {
  assert.is(redactUri('https://u:p@h.example/m/?X-Amz-Signature=abc'), 'https://***@h.example/m/?…');
  assert.is(redactUri('https://h.example/m/'), 'https://h.example/m/');
  assert.is(redactUri('s3://b/p'), 's3://b/p');
});

const sdkError = (name: string, status: number) =>
  Object.assign(new Error('x'), { name, $metadata: { httpStatusCode: status } });
const sysError = (code: string) => Object.assign(new Error(`connect ${code} secret-host-detail`), { code });

test('one map from failure to reason, with retryable where another attempt may help', () => {
  const rows: Array<[string, unknown, StorageReason, boolean]> = [
    ['S3 AccessDenied', sdkError('AccessDenied', 403), 'StorageAccessDenied', false],
    ['S3 InvalidAccessKeyId', sdkError('InvalidAccessKeyId', 403), 'StorageAccessDenied', false],
    ['S3 SignatureDoesNotMatch', sdkError('SignatureDoesNotMatch', 403), 'StorageAccessDenied', false],
    ['S3 ExpiredToken', sdkError('ExpiredToken', 400), 'StorageAccessDenied', false],
    ['HEAD 403 without a body', sdkError('Unknown', 403), 'StorageAccessDenied', false],
    ['S3 NoSuchBucket', sdkError('NoSuchBucket', 404), 'NoSuchBucket', false],
    ['S3 NoSuchKey', sdkError('NoSuchKey', 404), 'ArtifactNotFound', false],
    ['S3 SlowDown', sdkError('SlowDown', 503), 'StorageRequestFailed', true],
    ['S3 InternalError', sdkError('InternalError', 500), 'StorageRequestFailed', true],
    ['S3 RequestTimeout (400)', sdkError('RequestTimeout', 400), 'StorageRequestFailed', true],
    ['S3 wrong region', sdkError('PermanentRedirect', 301), 'StorageRequestFailed', false],
    ['HTTP 401', new HttpStatusError(401, 'https://h/m'), 'StorageAccessDenied', false],
    ['HTTP 404', new HttpStatusError(404, 'https://h/m'), 'ArtifactNotFound', false],
    ['HTTP 429', new HttpStatusError(429, 'https://h/m'), 'StorageRequestFailed', true],
    ['HTTP 502', new HttpStatusError(502, 'https://h/m'), 'StorageRequestFailed', true],
    ['HTTP 400', new HttpStatusError(400, 'https://h/m'), 'StorageRequestFailed', false],
    ['connection refused', sysError('ECONNREFUSED'), 'StorageUnreachable', true],
    ['DNS', sysError('ENOTFOUND'), 'StorageUnreachable', true],
    ['DNS, try again', sysError('EAI_AGAIN'), 'StorageUnreachable', true],
    ['reset mid-body', sysError('ECONNRESET'), 'StorageUnreachable', true],
    ['socket timeout', sysError('ETIMEDOUT'), 'StorageUnreachable', true],
    ['SDK connect timeout', Object.assign(new Error('x'), { name: 'TimeoutError' }), 'StorageUnreachable', true],
    [
      'both address families refused',
      Object.assign(new AggregateError([sysError('ECONNREFUSED')]), { code: undefined }),
      'StorageUnreachable',
      true,
    ],
    ['disk full', sysError('ENOSPC'), 'LocalIOError', false],
    [
      'a certificate the image does not trust',
      sysError('UNABLE_TO_VERIFY_LEAF_SIGNATURE'),
      'StorageCertificateUntrusted',
      false,
    ],
    ['a certificate for another host', sysError('ERR_TLS_CERT_ALTNAME_INVALID'), 'StorageCertificateUntrusted', false],
    ['read-only folder', sysError('EROFS'), 'LocalIOError', false],
    [
      'no credentials anywhere',
      Object.assign(new Error('x'), { name: 'CredentialsProviderError' }),
      'StorageAccessDenied',
      false,
    ],
    ['a bug', new TypeError('boom'), 'Internal', false],
  ];
  for (const [name, raw, reason, retryable] of rows) {
    const err = classifyError(raw, { target: 's3://b/p', endpoint: 'http://127.0.0.1:9000' });
    assert.is(err.reason, reason, name);
    assert.is(err.retryable, retryable, name);
    assert.ok(err.message.startsWith('s3://b/p: '), `${name}: ${err.message}`);
    // classified messages are built from codes, never from the raw text
    if (reason !== 'Internal') assert.not.ok(err.message.includes('secret-host-detail'), name);
  }
  const typed = new StorageError('DigestMismatch', 'm');
  assert.is(classifyError(typed, { target: 'x' }), typed);
});

test('back-off doubles from the base, is capped, and keeps half of it fixed', () => {
  const policy: RetryPolicy = { attempts: 6, baseDelayMs: 100, maxDelayMs: 1000 };
  const rows: Array<[number, number, number]> = [
    [1, 50, 100],
    [2, 100, 200],
    [3, 200, 400],
    [4, 400, 800],
    [5, 500, 1000],
  ];
  for (const [attempt, low, high] of rows) {
    assert.is(
      backoffDelay(policy, attempt, () => 0),
      low,
      `attempt ${attempt} low`,
    );
    assert.is(
      backoffDelay(policy, attempt, () => 1),
      high,
      `attempt ${attempt} high`,
    );
  }
});

test('withRetry: retries retryable failures, stops at once on others, counts attempts', async () => {
  const slept: number[] = [];
  const policy: RetryPolicy = {
    attempts: 3,
    baseDelayMs: 10,
    maxDelayMs: 100,
    sleep: async (ms) => void slept.push(ms),
  };
  let calls = 0;
  const flaky = await withRetry(
    async () => {
      if (++calls < 3) throw sysError('ECONNRESET');
      return 'ok';
    },
    { target: 't' },
    policy,
  );
  assert.is(flaky, 'ok');
  assert.is(calls, 3);
  assert.is(slept.length, 2);
  calls = 0;
  try {
    await withRetry(
      async () => {
        calls++;
        throw sdkError('AccessDenied', 403);
      },
      { target: 't' },
      policy,
    );
    assert.unreachable();
  } catch (err) {
    assert.is((err as StorageError).reason, 'StorageAccessDenied');
    assert.is(calls, 1);
  }
  try {
    await withRetry(() => Promise.reject(sysError('ECONNREFUSED')), { target: 't' }, policy);
    assert.unreachable();
  } catch (err) {
    assert.match((err as Error).message, /ECONNREFUSED \(after 3 attempts\)$/);
  }
});

test('--expect-digest / MODELSHIP_EXPECTED_DIGEST: sha256 only, lower-cased; flag wins', () => {
  const hex = 'ab'.repeat(32);
  assert.is(expectedDigest(`sha256:${hex.toUpperCase()}`, {}), `sha256:${hex}`);
  assert.is(expectedDigest(undefined, { MODELSHIP_EXPECTED_DIGEST: `sha256:${hex}` }), `sha256:${hex}`);
  assert.is(
    expectedDigest(`sha256:${hex}`, { MODELSHIP_EXPECTED_DIGEST: 'sha256:' + 'cd'.repeat(32) }),
    `sha256:${hex}`,
  );
  assert.is(expectedDigest(undefined, {}), undefined);
  for (const bad of ['md5:abc', hex, 'sha256:abc', `sha256:${hex}00`])
    assert.throws(
      () => expectedDigest(bad, {}),
      (e: unknown) => e instanceof UsageError,
      bad,
    );
});

test('safeJoin keeps every key inside the folder', () => {
  assert.is(safeJoin('/d', 'a/b.txt', 's'), '/d/a/b.txt');
  assert.is(safeJoin('/d', 'a//b.txt', 's'), '/d/a/b.txt');
  for (const rel of ['../x', 'a/../../x', '/etc/passwd', '', '.', 'a/..'])
    assert.throws(
      () => safeJoin('/d', rel, 's'),
      (e: unknown) => (e as StorageError).reason === 'UnsafeObjectKey',
      rel,
    );
});

test('S3 settings from the environment; a bad path-style value is a usage error', () => {
  assert.equal(s3Settings({}), { region: 'us-east-1', endpoint: undefined, forcePathStyle: false });
  assert.equal(
    s3Settings({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://minio:9000', AWS_S3_FORCE_PATH_STYLE: 'TRUE' }),
    { region: 'eu-west-1', endpoint: 'http://minio:9000', forcePathStyle: true },
  );
  assert.is(s3Settings({ AWS_ENDPOINT_URL: 'http://a', AWS_ENDPOINT_URL_S3: 'http://b' }).endpoint, 'http://b');
  assert.throws(() => s3Settings({ AWS_S3_FORCE_PATH_STYLE: 'yes' }), /must be true or false/);
  assert.throws(() => s3Settings({ AWS_ENDPOINT_URL: 'minio:9000' }), /must be an http\(s\):\/\/ URL/);
});

test('termination path: flag, MODELSHIP_TERMINATION_LOG, TERMINATION_MESSAGE_PATH; one line under 4 KiB', () => {
  const env = { MODELSHIP_TERMINATION_LOG: '/m', TERMINATION_MESSAGE_PATH: '/t' };
  assert.is(terminationPath('/f', env), '/f');
  assert.is(terminationPath(undefined, env), '/m');
  assert.is(terminationPath(undefined, { TERMINATION_MESSAGE_PATH: '/t' }), '/t');
  const line = failureLine(new StorageError('ArtifactTooLarge', 'x'.repeat(10_000)));
  assert.ok(line.length < 4096);
  assert.is(line.split('\n').length, 2);
  assert.equal(Object.keys(JSON.parse(line)), ['reason', 'message']);
});

test.run();
