// Where the feedback secrets come from. Signing keys: a mounted Secret directory
// (--feedback-keys-dir, rotatable), a single key file, MODELSHIP_FEEDBACK_KEY, or (with a
// warning) a random per-process key. Credentials: a mounted Secret directory
// (--feedback-credentials-dir); without one, feedback needs no credential.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import { DirectoryKeyRing, KeyRingError, type KeyRing } from '../protocol/keys.js';
import { UsageError } from './args.js';

export function feedbackKey(file: string | undefined, env: NodeJS.ProcessEnv, log: Logger): Buffer {
  let key: Buffer | undefined;
  if (file) key = readFileSync(file);
  else if (env.MODELSHIP_FEEDBACK_KEY) key = Buffer.from(env.MODELSHIP_FEEDBACK_KEY, 'utf8');
  if (key) {
    const trimmed = Buffer.from(key.toString('utf8').trim(), 'utf8');
    if (trimmed.length < 16) throw new UsageError('the feedback key must be at least 16 bytes');
    return trimmed;
  }
  log.warn(
    'No feedback key given (--feedback-keys-dir, --feedback-key-file or MODELSHIP_FEEDBACK_KEY): using a random per-process key, so feedback is only accepted by this replica until it restarts',
  );
  return randomBytes(32);
}

/** A key directory, its problems at startup a usage error and later ones logged. */
export function keyDirectory(dir: string, what: string, log: Logger, signing = false): DirectoryKeyRing {
  try {
    return new DirectoryKeyRing(dir, {
      signing,
      onError: (err) => log.warn(`${what}: keeping the last good keys`, { error: err.message }),
    });
  } catch (err) {
    if (err instanceof KeyRingError || (err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(`${what}: ${(err as Error).message}`, { cause: err });
    throw err;
  }
}

export interface FeedbackSecrets {
  signing: KeyRing | Buffer;
  credentials?: DirectoryKeyRing;
}

export function feedbackSecrets(
  flags: { 'feedback-keys-dir'?: string; 'feedback-key-file'?: string; 'feedback-credentials-dir'?: string },
  env: NodeJS.ProcessEnv,
  log: Logger,
): FeedbackSecrets {
  const keysDir = flags['feedback-keys-dir'];
  const signing = keysDir
    ? keyDirectory(keysDir, '--feedback-keys-dir', log, true)
    : feedbackKey(flags['feedback-key-file'], env, log);
  const credentialsDir = flags['feedback-credentials-dir'];
  return {
    signing,
    ...(credentialsDir ? { credentials: keyDirectory(credentialsDir, '--feedback-credentials-dir', log) } : {}),
  };
}
