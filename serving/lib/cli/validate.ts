// `validate` (alias `profile`) mode: validate the model directory (validation/), write
// profile.json and the report, and leave the compact report as the termination message,
// where the operator's validation Job reads it. Exit codes: 0 ok, 1 invalid or skewed, 2 usage.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactReport } from '../validation/compact-report.js';
import { validateModelDir } from '../validation/validate-model.js';
import { StorageError } from '../storage/errors.js';
import { uploadArtifact } from '../storage/upload.js';
import { parseFlags, UsageError } from './args.js';
import { expectedDigest, terminationPath, writeTermination } from './termination.js';

export const VALIDATE_FLAGS = {
  'model-dir': 'string',
  report: 'string',
  'profile-out': 'string',
  bins: 'number',
  'max-accuracy-gap': 'number',
  'max-pixels': 'number',
  'termination-message-path': 'string',
  'expect-digest': 'string',
} as const;

/**
 * profile.json next to model.onnx, where serve mode reads it: a local path, or for an artifact
 * in object storage `s3://bucket/prefix/profile.json`, uploaded with the step's credentials.
 */
async function writeProfile(out: string, text: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (!out.startsWith('s3://')) return writeFile(out, text);
  if (!out.endsWith('/profile.json'))
    throw new UsageError(`--profile-out ${out}: an s3:// profile must end in /profile.json`);
  const dir = await mkdtemp(join(tmpdir(), 'modelship-profile-'));
  try {
    await writeFile(join(dir, 'profile.json'), text);
    // Progress lines go to stderr: stdout carries the report.
    const progress = (line: string) => void process.stderr.write(line);
    await uploadArtifact({ from: dir, to: out.slice(0, -'/profile.json'.length), env, out: progress });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** CLI entry; returns the process exit code. Prints the full report on stdout. */
export async function runValidate(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let termination: string | undefined;
  try {
    const flags = parseFlags(argv, VALIDATE_FLAGS);
    termination = terminationPath(flags['termination-message-path'], env);
    const dir = flags['model-dir'];
    if (!dir) throw new UsageError('validate needs --model-dir DIR');
    const profileOut = flags['profile-out'] ?? join(dir, 'profile.json');
    const { profile, report } = await validateModelDir(dir, {
      bins: flags.bins,
      maxPixels: flags['max-pixels'],
      maxAccuracyGap: flags['max-accuracy-gap'],
      profileOut,
      expectDigest: expectedDigest(flags['expect-digest'], env),
    });
    if (report.ok) await writeProfile(profileOut, JSON.stringify(profile, null, 2) + '\n', env);
    const text = JSON.stringify(report, null, 2) + '\n';
    if (flags.report) await writeFile(flags.report, text);
    if (termination) await writeFile(termination, compactReport(report, report.ok ? profile : undefined));
    process.stdout.write(text);
    if (!report.ok) process.stderr.write(`validate: ${report.error}\n`);
    return report.ok ? 0 : 1;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`validate: ${message}\n`);
    // A typed step failure (DigestMismatch) also carries the `reason`/`message` pair of the
    // storage steps' termination line, next to the compact report's `ok`/`error`.
    const typed = err instanceof StorageError ? { reason: err.reason, message: err.message.slice(0, 1500) } : {};
    const compact = JSON.parse(compactReport({ ok: false, error: message })) as object;
    await writeTermination(termination, JSON.stringify({ ...compact, ...typed }));
    return err instanceof UsageError ? 2 : 1;
  }
}
