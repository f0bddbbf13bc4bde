// `serve` and `validate` with --expect-digest (or MODELSHIP_EXPECTED_DIGEST): the operator
// passes the registered digest for every artifact URI, pvc:// and file:// included, so a
// model.onnx of another digest must be refused before anything is served or validated.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runServe } from '../../serving/lib/cli/serve.js';
import { silentLogger } from '../../serving/lib/log.js';
import { sha256Digest } from '../../serving/lib/model/artifact.js';
import { copyModel, fixtureModels } from './support/fixtures.js';

const test = suite('expected digest in serve and validate');
const cleanups: Array<() => void> = [];
test.after(() => {
  for (const c of cleanups) c();
});

function model(): { dir: string; digest: string; term: string } {
  const copy = copyModel(fixtureModels().iris);
  cleanups.push(copy.cleanup);
  const digest = sha256Digest(readFileSync(join(copy.dir, 'model.onnx')));
  return { dir: copy.dir, digest, term: join(copy.dir, '..', 'termination-log') };
}

const OTHER = 'sha256:' + 'e3'.repeat(32);

function serving(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'serving/main.ts', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
}

test('serve refuses a model.onnx of another digest: exit 1, both digests, termination line', () => {
  const m = model();
  const r = serving(['--model-dir', m.dir, '--port', '0', '--host', '127.0.0.1', '--expect-digest', OTHER], {
    MODELSHIP_TERMINATION_LOG: m.term,
  });
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /serve: DigestMismatch: .*model\.onnx: digest mismatch/);
  assert.ok(r.stderr.includes(`expected ${OTHER}`) && r.stderr.includes(`actual ${m.digest}`), r.stderr);
  assert.not.match(r.stderr, /Listening/);
  const line = JSON.parse(readFileSync(m.term, 'utf8'));
  assert.equal(Object.keys(line), ['reason', 'message']);
  assert.is(line.reason, 'DigestMismatch');
  assert.ok(line.message.includes(OTHER) && line.message.includes(m.digest), line.message);
});

test('serve takes MODELSHIP_EXPECTED_DIGEST too, and starts when the digest matches', async () => {
  const m = model();
  const bad = serving(['--model-dir', m.dir, '--port', '0', '--host', '127.0.0.1'], {
    MODELSHIP_EXPECTED_DIGEST: OTHER,
    MODELSHIP_TERMINATION_LOG: m.term,
  });
  assert.is(bad.status, 1);
  assert.is(JSON.parse(readFileSync(m.term, 'utf8')).reason, 'DigestMismatch');
  const app = await runServe(['--model-dir', m.dir, '--port', '0', '--host', '127.0.0.1'], {
    logger: silentLogger,
    env: { MODELSHIP_EXPECTED_DIGEST: m.digest.toUpperCase().replace('SHA256', 'sha256') },
  });
  try {
    assert.is(app.name, 'iris');
  } finally {
    await app.drain(1000);
  }
});

test('a malformed expected digest is a usage error (exit 2)', () => {
  const m = model();
  const r = serving(['--model-dir', m.dir, '--port', '0', '--expect-digest', 'md5:abc']);
  assert.is(r.status, 2);
  assert.match(r.stderr, /--expect-digest must be sha256:<64 hex digits>/);
});

test('validate refuses the model before validating: ok false, reason and message, no profile', () => {
  const m = model();
  const r = serving(['validate', '--model-dir', m.dir, '--termination-message-path', m.term, '--expect-digest', OTHER]);
  assert.is(r.status, 1, r.stderr);
  assert.match(r.stderr, /validate: .*digest mismatch: expected sha256:e3e3.* actual sha256:/);
  const message = JSON.parse(readFileSync(m.term, 'utf8'));
  assert.is(message.ok, false);
  assert.is(message.reason, 'DigestMismatch');
  assert.ok(message.message.includes(OTHER) && message.message.includes(m.digest));
  assert.is(message.error, message.message);
  assert.not.ok(existsSync(join(m.dir, 'profile.json')));

  const good = serving(['validate', '--model-dir', m.dir, '--termination-message-path', m.term], {
    MODELSHIP_EXPECTED_DIGEST: m.digest,
  });
  assert.is(good.status, 0, good.stderr);
  assert.is(JSON.parse(readFileSync(m.term, 'utf8')).digest, m.digest);
});

test.run();
