// `serve fetch` from a web server: the artifact contract's files by name (optional ones may be
// absent), retries, redirects, the size limit, and .tar/.tar.gz data sets unpacked. The server
// is plain HTTP on 127.0.0.1, reached with the explicit --allow-http (without it, http:// is
// refused: a test below says so); the https:// code path is the same but for the TLS socket.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { cpSync, createReadStream, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { runFetch } from '../../serving/lib/cli/storage-steps.js';
import { fixtureModels } from './support/fixtures.js';
import { capture, startHttp, tempDir, treeDigest } from './support/object-store.js';

const test = suite('object storage: https');
const cleanups: Array<() => void> = [];
const root = tempDir('https-root-', cleanups);
/** path → a handler that answers instead of the file (once per entry in the array). */
const overrides = new Map<string, Array<(res: ServerResponse) => void>>();
const hits: string[] = [];
let base: string;
let close: () => Promise<void>;

function serveFile(req: IncomingMessage, res: ServerResponse): void {
  const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
  hits.push(path);
  const override = overrides.get(path)?.shift();
  if (override) return override(res);
  const file = join(root, path);
  if (!existsSync(file) || statSync(file).isDirectory()) {
    res.writeHead(404).end('not found');
    return;
  }
  res.writeHead(200, { 'content-length': statSync(file).size });
  createReadStream(file).pipe(res);
}

test.before(async () => {
  ({ url: base, close } = await startHttp(serveFile));
  // a published model without profile.json
  cpSync(fixtureModels().colours, join(root, 'models', 'colours'), { recursive: true });
  rmSync(join(root, 'models', 'colours', 'profile.json'), { force: true });
  // a data set: nested folders, a name longer than tar's 100-byte field, a binary file
  const data = join(root, 'src', 'dataset');
  const long = 'a-very-long-folder-name-that-does-not-fit-the-ustar-name-field/'.repeat(2);
  mkdirSync(join(data, 'images', long), { recursive: true });
  writeFileSync(join(data, 'labels.csv'), 'file,label\n1.png,red\n');
  writeFileSync(join(data, 'images', '1.png'), randomFillSync(Buffer.alloc(70_000)));
  writeFileSync(join(data, 'images', long, 'deep.txt'), 'deep\n');
  mkdirSync(join(root, 'data'));
  execFileSync('tar', ['-czf', join(root, 'data', 'set.tar.gz'), '-C', data, '.']);
  // GNU long names in the .tar.gz (GNU tar's default format), pax `path` records in the .tar
  execFileSync('tar', ['--format=pax', '-cf', join(root, 'data', 'set.tar'), '-C', data, '.']);
  writeFileSync(join(root, 'data', 'not-a.tar.gz'), '<html>sign in</html>');
});
test.after(async () => {
  await close();
  for (const c of cleanups) c();
});
test.before.each(() => {
  overrides.clear();
  hits.length = 0;
});

async function fetch(from: string, extra: string[] = ['--allow-http']) {
  const dst = tempDir('https-dst-', cleanups);
  const c = capture({});
  const code = await runFetch(['--from', from, '--to', dst, ...extra], c.deps);
  return { code, out: c.out(), err: c.err(), dst };
}

test('a model by name: required and optional files, profile.json absent', async () => {
  const r = await fetch(`${base}/models/colours/`);
  assert.is(r.code, 0, r.err);
  assert.equal(readdirSync(r.dst).sort(), ['metrics.json', 'model.onnx', 'modelship.json']);
  const src = treeDigest(join(root, 'models', 'colours'));
  for (const [file, digest] of Object.entries(treeDigest(r.dst))) assert.is(digest, src[file], file);
  assert.match(r.out, /^fetched model\.onnx \d+ bytes in [\d.]+ s$/m);
  assert.match(r.out, /^absent profile\.json \(optional\)$/m);
  // the folder without its trailing slash is the same folder
  assert.is((await fetch(`${base}/models/colours`)).code, 0);
});

test('plain http:// is refused without --allow-http', async () => {
  const r = await fetch(`${base}/models/colours/`, []);
  assert.is(r.code, 1);
  assert.match(r.err, /^fetch: UnsupportedScheme: .*plain http:\/\/ is refused/);
  assert.is(hits.length, 0);
});

test('a missing required file is ArtifactNotFound naming it; credentials in the URL are not printed', async () => {
  const r = await fetch(`http://user:hunter2secret@${base.slice('http://'.length)}/models/none/`);
  assert.is(r.code, 1);
  assert.match(r.err, /^fetch: ArtifactNotFound: .*modelship\.json.*HTTP 404.*required by the artifact contract/);
  assert.not.ok(r.err.includes('hunter2secret'), r.err);
  assert.ok(r.err.includes('***@'), r.err);
});

test('retries a 503 and a connection cut mid-body; follows a redirect', async () => {
  const model = '/models/colours/model.onnx';
  overrides.set(model, [
    (res) => res.writeHead(503).end('busy'),
    (res) => {
      res.writeHead(200, { 'content-length': 100_000 });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.socket?.destroy(), 20);
    },
  ]);
  const r = await fetch(`${base}/models/colours/`);
  assert.is(r.code, 0, r.err);
  assert.is(hits.filter((h) => h === model).length, 3);
  assert.is(treeDigest(r.dst)['model.onnx'], treeDigest(join(root, 'models', 'colours'))['model.onnx']);

  overrides.set('/old/modelship.json', [
    (res) => res.writeHead(302, { location: '/models/colours/modelship.json' }).end(),
  ]);
  overrides.set('/old/model.onnx', [
    (res) => res.writeHead(301, { location: `${base}/models/colours/model.onnx` }).end(),
  ]);
  const moved = await fetch(`${base}/old/`);
  assert.is(moved.code, 0, moved.err);
  assert.equal(readdirSync(moved.dst).sort(), ['model.onnx', 'modelship.json']);
});

test('a 5xx that persists is StorageRequestFailed after the attempts', async () => {
  overrides.set(
    '/models/colours/modelship.json',
    Array(5).fill((res: ServerResponse) => res.writeHead(500).end()),
  );
  const r = await fetch(`${base}/models/colours/`, ['--allow-http', '--attempts', '2']);
  assert.is(r.code, 1);
  assert.match(r.err, /^fetch: StorageRequestFailed: .*HTTP 500.*\(after 2 attempts\)/);
});

test('size limit: an announced length over --max-bytes fails before the body is read', async () => {
  const r = await fetch(`${base}/models/colours/`, ['--allow-http', '--max-bytes', '500']);
  assert.is(r.code, 1);
  assert.match(r.err, /^fetch: ArtifactTooLarge: .*over the limit of 500 bytes \(--max-bytes\)/);
  assert.not.ok(existsSync(join(r.dst, 'model.onnx')));
});

test('data sets: .tar.gz and .tar are unpacked, byte for byte, long names included', async () => {
  const expected = treeDigest(join(root, 'src', 'dataset'));
  for (const name of ['set.tar.gz', 'set.tar']) {
    const r = await fetch(`${base}/data/${name}`);
    assert.is(r.code, 0, `${name}: ${r.err}`);
    assert.equal(treeDigest(r.dst), expected, name);
    assert.match(r.out, new RegExp(`^unpacked ${name.replace('.', '\\.')} \\(3 files\\) \\d+ bytes in`, 'm'));
  }
});

test('data sets: an unpacked size over --max-bytes, a file that is not gzip', async () => {
  const big = await fetch(`${base}/data/set.tar.gz`, ['--allow-http', '--max-bytes', '50000']);
  assert.is(big.code, 1);
  assert.match(big.err, /^fetch: ArtifactTooLarge: /);
  const html = await fetch(`${base}/data/not-a.tar.gz`);
  assert.is(html.code, 1);
  assert.match(html.err, /^fetch: InvalidArchive: .*not gzip data/);
});

test('data sets: entries outside the folder and links are refused', async () => {
  const py = (script: string, out: string) => execFileSync('/usr/bin/python3', ['-c', script, out]);
  const add = `
import io, sys, tarfile
t = tarfile.open(sys.argv[1], 'w')
def add(name, data=b'x', kind=tarfile.REGTYPE, link=''):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = link; i.size = len(data) if kind == tarfile.REGTYPE else 0
    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)
`;
  py(`${add}add('ok.txt')\nadd('../escape.txt')\nt.close()`, join(root, 'data', 'escape.tar'));
  py(`${add}add('link', kind=tarfile.SYMTYPE, link='/etc')\nt.close()`, join(root, 'data', 'link.tar'));
  const escape = await fetch(`${base}/data/escape.tar`);
  assert.is(escape.code, 1);
  assert.match(escape.err, /^fetch: UnsafeObjectKey: .*"\.\.\/escape\.txt" would be written outside/);
  assert.not.ok(existsSync(join(escape.dst, '..', 'escape.txt')));
  const link = await fetch(`${base}/data/link.tar`);
  assert.is(link.code, 1);
  assert.match(link.err, /^fetch: InvalidArchive: .*link: entries of tar type "2"/);
});

test.run();
