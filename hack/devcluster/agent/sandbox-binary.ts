// The container runtime binary (sandbox.c), compiled with the machine's C compiler on first use
// and kept under .cache/ by a hash of its source, so an edited source is rebuilt and concurrent
// agents (parallel test files) never run a half-written binary.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SANDBOX_SOURCE = join(here, 'sandbox.c');

export class SandboxBuildError extends Error {
  override name = 'SandboxBuildError';
}

/** Path of the compiled sandbox for the current source, building it when missing. */
export function sandboxBinary(cacheDir = join(here, '..', '..', '..', '.cache', 'devcluster')): string {
  const source = readFileSync(SANDBOX_SOURCE);
  const binary = join(cacheDir, `sandbox-${createHash('sha256').update(source).digest('hex').slice(0, 12)}`);
  if (existsSync(binary)) return binary;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${binary}.${process.pid}.tmp`;
  try {
    execFileSync('cc', ['-O2', '-Wall', '-o', tmp, SANDBOX_SOURCE], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new SandboxBuildError(
      `cannot build the dev cluster's container runtime from ${SANDBOX_SOURCE} with cc: ${e.stderr?.toString() || e.message}`,
      { cause: err },
    );
  }
  renameSync(tmp, binary);
  return binary;
}
