// Where the feedback key comes from: a mounted Secret file, the environment, or (with a
// warning) a random per-process key.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../serving/lib/log.js';
import { feedbackKey, feedbackSecrets } from '../../serving/lib/cli/feedback-keys.js';
import { UsageError } from '../../serving/lib/cli/args.js';

function recorder(): { log: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const log = {
    info: () => log,
    debug: () => log,
    error: () => log,
    warn: (m: string) => {
      warnings.push(m);
      return log;
    },
  } as unknown as Logger;
  return { log, warnings };
}

test('file (trimmed) beats env; env is used as UTF-8; short keys are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-key-'));
  try {
    const file = join(dir, 'key');
    writeFileSync(file, 'file-key-0123456789abcdef\n');
    const { log, warnings } = recorder();
    assert.is(
      feedbackKey(file, { MODELSHIP_FEEDBACK_KEY: 'env-key-0123456789abcdef' }, log).toString(),
      'file-key-0123456789abcdef',
    );
    assert.is(
      feedbackKey(undefined, { MODELSHIP_FEEDBACK_KEY: 'env-key-0123456789abcdef' }, log).toString(),
      'env-key-0123456789abcdef',
    );
    assert.throws(() => feedbackKey(undefined, { MODELSHIP_FEEDBACK_KEY: 'short' }, log), /at least 16 bytes/);
    assert.equal(warnings, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no key: a random 32-byte key per call, with a warning', () => {
  const { log, warnings } = recorder();
  const a = feedbackKey(undefined, {}, log);
  const b = feedbackKey(undefined, {}, log);
  assert.is(a.length, 32);
  assert.not.ok(a.equals(b));
  assert.is(warnings.length, 2);
  assert.match(warnings[0], /random per-process key/);
});

test('a keys directory signs with its primary; a broken one is a usage error naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-keys-'));
  try {
    const { log } = recorder();
    writeFileSync(join(dir, 'k1'), 'first-key-0123456789abcdef');
    writeFileSync(join(dir, 'k2'), 'second-key-0123456789abcdef');
    assert.throws(
      () => feedbackSecrets({ 'feedback-keys-dir': dir }, {}, log),
      (err: Error) => err instanceof UsageError && /--feedback-keys-dir: .*2 keys and no "primary"/.test(err.message),
    );
    writeFileSync(join(dir, 'primary'), 'k2\n');
    const { signing, credentials } = feedbackSecrets({ 'feedback-keys-dir': dir }, {}, log);
    assert.is((signing as { primary(): { id: string } }).primary().id, 'k2');
    assert.is(credentials, undefined, 'no credential directory: feedback needs none');
    assert.throws(
      () => feedbackSecrets({ 'feedback-credentials-dir': join(dir, 'missing') }, {}, log),
      (err: Error) => err instanceof UsageError && /--feedback-credentials-dir: ENOENT/.test(err.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
