// `serve upload` / `serve fetch` against a real s3rver on 127.0.0.1: round trips byte for byte,
// prefixes and pagination, the digest check, each failure's reason, retries of a 503 and of
// a body cut halfway, and the termination-message line of the real CLI process.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runFetch, runUpload } from '../../serving/lib/cli/storage-steps.js';
import { sha256Digest } from '../../serving/lib/model/artifact.js';
import { fixtureModels } from './support/fixtures.js';
import { capture, closedPort, startS3rver, tempDir, treeDigest, type TestStore } from './support/object-store.js';

const test = suite('object storage: s3');
const cleanups: Array<() => void> = [];
let store: TestStore;

test.before(async () => {
  store = await startS3rver(['models', 'datasets']);
});
test.after(async () => {
  await store.close();
  for (const c of cleanups) c();
});
test.before.each(() => {
  store.faults.length = 0;
  store.requests.length = 0;
});

/** A model folder: the colours fixture, a nested reference/ and a 9 MiB file (two multipart parts). */
function modelDir(): string {
  const dir = join(tempDir('s3-model-', cleanups), 'model');
  cpSync(fixtureModels().colours, dir, { recursive: true });
  mkdirSync(join(dir, 'reference', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'reference', 'deep', 'note.txt'), 'nested\n');
  writeFileSync(join(dir, 'big.bin'), randomFillSync(Buffer.alloc(9 * 1024 * 1024)));
  return dir;
}

async function upload(from: string, to: string, env = store.env) {
  const c = capture(env);
  const code = await runUpload(['--from', from, '--to', to], c.deps);
  return { code, out: c.out(), err: c.err() };
}

async function fetch(args: string[], env = store.env, extra = {}) {
  const c = capture(env, extra);
  const code = await runFetch(args, c.deps);
  return { code, out: c.out(), err: c.err() };
}

test('round trip: upload then fetch gives the same files, byte for byte, with progress lines', async () => {
  const src = modelDir();
  const up = await upload(src, 's3://models/runs/r1');
  assert.is(up.code, 0, up.err);
  assert.match(up.out, /^uploaded big\.bin 9437184 bytes in [\d.]+ s$/m);
  assert.match(up.out, /^uploaded reference\/deep\/note\.txt 7 bytes in [\d.]+ s$/m);
  const dst = tempDir('s3-fetch-', cleanups);
  const got = await fetch(['--from', 's3://models/runs/r1', '--to', dst]);
  assert.is(got.code, 0, got.err);
  assert.equal(treeDigest(dst), treeDigest(src));
  const files = Object.keys(treeDigest(src)).length;
  assert.is(got.out.match(/^fetched \S+ \d+ bytes in [\d.]+ s$/gm)?.length, files);
  assert.match(got.out, new RegExp(`^fetched ${files} files, \\d+ bytes`, 'm'));
  assert.not.ok(readdirSync(dst).some((f) => f.endsWith('.part')));
});

test('prefixes: a sibling with the same leading characters is not fetched; a parent keeps nesting', async () => {
  const a = tempDir('s3-a-', cleanups);
  writeFileSync(join(a, 'model.onnx'), 'A');
  const b = tempDir('s3-b-', cleanups);
  writeFileSync(join(b, 'model.onnx'), 'B');
  assert.is((await upload(a, 's3://models/team/m/v1')).code, 0);
  assert.is((await upload(b, 's3://models/team/m/v10')).code, 0);
  for (const from of ['s3://models/team/m/v1', 's3://models/team/m/v1/']) {
    const dst = tempDir('s3-nested-', cleanups);
    assert.is((await fetch(['--from', from, '--to', dst])).code, 0);
    assert.equal(readdirSync(dst), ['model.onnx']);
    assert.is(readFileSync(join(dst, 'model.onnx'), 'utf8'), 'A');
  }
  const parent = tempDir('s3-parent-', cleanups);
  assert.is((await fetch(['--from', 's3://models/team', '--to', parent])).code, 0);
  assert.is(readFileSync(join(parent, 'm', 'v10', 'model.onnx'), 'utf8'), 'B');
  assert.is(readFileSync(join(parent, 'm', 'v1', 'model.onnx'), 'utf8'), 'A');
});

test('pagination: every page of ListObjectsV2 is read', async () => {
  const src = tempDir('s3-pages-', cleanups);
  for (let i = 0; i < 5; i++) writeFileSync(join(src, `part-${i}.csv`), `row ${i}\n`);
  assert.is((await upload(src, 's3://datasets/pages')).code, 0);
  store.requests.length = 0;
  const dst = tempDir('s3-pages-dst-', cleanups);
  const got = await fetch(['--from', 's3://datasets/pages', '--to', dst], store.env, { pageSize: 2 });
  assert.is(got.code, 0, got.err);
  assert.equal(treeDigest(dst), treeDigest(src));
  assert.is(store.requests.filter((r) => r.includes('list-type=2')).length, 3);
});

test('--expect-digest: a match passes and is reported; a mismatch names both digests', async () => {
  const src = modelDir();
  assert.is((await upload(src, 's3://models/digest/m')).code, 0);
  const digest = sha256Digest(readFileSync(join(src, 'model.onnx')));
  const ok = await fetch([
    '--from',
    's3://models/digest/m',
    '--to',
    tempDir('s3-d-', cleanups),
    '--expect-digest',
    digest,
  ]);
  assert.is(ok.code, 0, ok.err);
  assert.ok(ok.out.includes(`model.onnx ${digest} as expected`), ok.out);
  const wrong = 'sha256:' + '0'.repeat(64);
  const bad = await fetch([
    '--from',
    's3://models/digest/m',
    '--to',
    tempDir('s3-d-', cleanups),
    '--expect-digest',
    wrong,
  ]);
  assert.is(bad.code, 1);
  assert.match(bad.err, /^fetch: DigestMismatch: /);
  assert.ok(bad.err.includes(`expected ${wrong}`) && bad.err.includes(`actual ${digest}`), bad.err);
});

test('failures carry their reason; secrets never appear in the output', async () => {
  const secret = 'wJalrXUtnFEMI-very-secret-value';
  const port = await closedPort();
  const cases: Array<[string, string[], NodeJS.ProcessEnv, string, RegExp]> = [
    [
      'unknown access key',
      ['--from', 's3://models/runs/r1'],
      { ...store.env, AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY', AWS_SECRET_ACCESS_KEY: secret },
      'StorageAccessDenied',
      /InvalidAccessKeyId \(HTTP 403\)/,
    ],
    ['missing bucket', ['--from', 's3://no-such-bucket/m'], store.env, 'NoSuchBucket', /bucket does not exist/],
    ['empty prefix', ['--from', 's3://models/nothing/here'], store.env, 'ArtifactNotFound', /no objects under/],
    [
      'connection refused',
      ['--from', 's3://models/runs/r1'],
      { ...store.env, AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`, AWS_SECRET_ACCESS_KEY: secret },
      'StorageUnreachable',
      /ECONNREFUSED \(after 4 attempts\)/,
    ],
    ['scheme', ['--from', 'gs://models/m'], store.env, 'UnsupportedScheme', /gs:\/\/ is not supported/],
    [
      'size limit',
      ['--from', 's3://models/runs/r1', '--max-bytes', '1000'],
      store.env,
      'ArtifactTooLarge',
      /over the limit of 1000 bytes/,
    ],
  ];
  for (const [name, args, env, reason, message] of cases) {
    const dst = tempDir('s3-fail-', cleanups);
    const r = await fetch([...args, '--to', dst], env);
    assert.is(r.code, 1, name);
    assert.ok(r.err.startsWith(`fetch: ${reason}: `), `${name}: ${r.err}`);
    assert.match(r.err, message, name);
    assert.not.ok((r.out + r.err).includes(secret), name);
    if (reason === 'ArtifactTooLarge') assert.equal(readdirSync(dst), [], 'nothing downloaded past the listing');
  }
});

test('upload failures: missing folder, empty folder, missing bucket, not s3://', async () => {
  const empty = tempDir('s3-empty-', cleanups);
  const cases: Array<[string, string, string]> = [
    [join(empty, 'absent'), 's3://models/x', 'ArtifactNotFound'],
    [empty, 's3://models/x', 'ArtifactNotFound'],
    [modelDir(), 's3://no-such-bucket/x', 'NoSuchBucket'],
    [empty, 'https://example.com/x/', 'UnsupportedScheme'],
  ];
  for (const [from, to, reason] of cases) {
    const r = await upload(from, to);
    assert.is(r.code, 1, `${from} → ${to}`);
    assert.ok(r.err.startsWith(`upload: ${reason}: `), r.err);
  }
});

test('retries: a 503 SlowDown and a body cut halfway are retried; the file arrives whole', async () => {
  const src = tempDir('s3-retry-', cleanups);
  writeFileSync(join(src, 'model.onnx'), randomFillSync(Buffer.alloc(256 * 1024)));
  assert.is((await upload(src, 's3://models/retry')).code, 0);
  let slowDowns = 1;
  let cuts = 1;
  store.faults.push(
    (req, res) => {
      if (req.method !== 'GET' || req.url!.includes('list-type') || slowDowns-- <= 0) return false;
      res.writeHead(503, { 'content-type': 'application/xml' });
      res.end('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
      return true;
    },
    (req, res) => {
      if (req.method !== 'GET' || req.url!.includes('list-type') || cuts-- <= 0) return false;
      let sent = 0;
      const write = res.write.bind(res) as (...a: unknown[]) => boolean;
      res.write = ((chunk: Buffer, ...rest: unknown[]) => {
        sent += chunk.length;
        if (sent > 64 * 1024) {
          res.socket?.destroy();
          return false;
        }
        return write(chunk, ...rest);
      }) as typeof res.write;
      return false;
    },
  );
  const dst = tempDir('s3-retry-dst-', cleanups);
  const r = await fetch(['--from', 's3://models/retry', '--to', dst]);
  assert.is(r.code, 0, r.err);
  assert.equal(treeDigest(dst), treeDigest(src));
  assert.is(store.requests.filter((q) => q.startsWith('GET /models/retry/model.onnx')).length, 3);
});

test('a 503 that persists fails after the attempts with StorageRequestFailed', async () => {
  store.faults.push((req, res) => {
    res.writeHead(503, { 'content-type': 'application/xml' });
    res.end('<Error><Code>ServiceUnavailable</Code><Message>down</Message></Error>');
    return true;
  });
  const r = await fetch(['--from', 's3://models/runs/r1', '--to', tempDir('s3-503-', cleanups), '--attempts', '3']);
  assert.is(r.code, 1);
  assert.match(r.err, /^fetch: StorageRequestFailed: .*ServiceUnavailable \(HTTP 503\).*\(after 3 attempts\)/);
  assert.is(store.requests.length, 3);
});

/** `serve <args>` as a real process (async: the store answers from this process's event loop). */
function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'serving/main.ts', ...args], {
    env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

test('the real process: exit codes and the one-line termination message', async () => {
  const dir = tempDir('s3-cli-', cleanups);
  const term = join(dir, 'termination-log');
  const env = { ...store.env, MODELSHIP_TERMINATION_LOG: term };
  const missing = await run(['fetch', '--from', 's3://no-such-bucket/m', '--to', join(dir, 'out')], env);
  assert.is(missing.status, 1, missing.stderr);
  assert.match(missing.stderr, /fetch: NoSuchBucket: s3:\/\/no-such-bucket\/m: NoSuchBucket \(HTTP 404\)/);
  const line = readFileSync(term, 'utf8');
  assert.is(line.trim().split('\n').length, 1);
  const parsed = JSON.parse(line);
  assert.equal(Object.keys(parsed), ['reason', 'message']);
  assert.is(parsed.reason, 'NoSuchBucket');
  assert.match(parsed.message, /the bucket does not exist/);

  const usage = await run(['fetch', '--from', 's3://models/m'], env);
  assert.is(usage.status, 2);
  assert.is(JSON.parse(readFileSync(term, 'utf8')).reason, 'InvalidArguments');

  const ok = await run(['fetch', '--from', 's3://models/runs/r1', '--to', join(dir, 'model')], env);
  assert.is(ok.status, 0, ok.stderr);
  assert.ok(existsSync(join(dir, 'model', 'model.onnx')));
  assert.match(ok.stdout, /^fetched model\.onnx \d+ bytes in [\d.]+ s$/m);
});

test.run();
