// Where a mode leaves its termination message (the kubelet copies the file into the Pod
// status, where the operator reads it), the `{"reason","message"}` line of a failed step, and
// the expected-digest flag that fetch, serve and validate share.
import { accessSync, constants, existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { classifyError, failureLine, StorageError } from '../storage/errors.js';
import { UsageError } from './args.js';

const KUBELET_DEFAULT = '/dev/termination-log';

/**
 * The flag, else env MODELSHIP_TERMINATION_LOG, else env TERMINATION_MESSAGE_PATH, else
 * /dev/termination-log when it exists and is writable; undefined when there is none.
 */
export function terminationPath(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const explicit = flag || env.MODELSHIP_TERMINATION_LOG || env.TERMINATION_MESSAGE_PATH;
  if (explicit) return explicit;
  try {
    if (!existsSync(KUBELET_DEFAULT)) return undefined;
    accessSync(KUBELET_DEFAULT, constants.W_OK);
    return KUBELET_DEFAULT;
  } catch {
    return undefined;
  }
}

/** Writes the termination message; a failure to write must not hide the failure being reported. */
export async function writeTermination(path: string | undefined, content: string): Promise<void> {
  if (path) await writeFile(path, content).catch(() => undefined);
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `--expect-digest`, else env MODELSHIP_EXPECTED_DIGEST, lower-cased; a malformed one is a usage error. */
export function expectedDigest(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const value = (flag ?? env.MODELSHIP_EXPECTED_DIGEST ?? '').trim().toLowerCase();
  if (!value) return undefined;
  if (!DIGEST.test(value))
    throw new UsageError(`--expect-digest must be sha256:<64 hex digits>, got "${value.slice(0, 80)}"`);
  return value;
}

/** Any failure as the StorageError its termination line reports (usage errors: InvalidArguments). */
export function asStepFailure(err: unknown, target: string): StorageError {
  if (err instanceof UsageError) return new StorageError('InvalidArguments', err.message, { cause: err });
  return classifyError(err, { target });
}

/**
 * The failure path of a step: `<mode>: <Reason>: <message>` on stderr, the one-line
 * `{"reason","message"}` termination message, and the exit code (2 usage, 1 anything else).
 */
export async function reportFailure(
  mode: string,
  failure: StorageError,
  termination: string | undefined,
  stderr: (line: string) => void,
): Promise<number> {
  stderr(`${mode}: ${failure.reason}: ${failure.message}\n`);
  await writeTermination(termination, failureLine(failure));
  return failure.reason === 'InvalidArguments' ? 2 : 1;
}
