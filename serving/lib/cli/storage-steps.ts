// `fetch` and `upload` modes: the object-storage steps the operator runs as init containers
// (fetch before serve and validate, upload after training). One progress line per file and a
// summary on stdout; on failure the reason and message on stderr and in the termination
// message. Exit codes: 0 done, 1 failed, 2 usage.
import { fetchArtifact } from '../storage/fetch.js';
import { DEFAULT_RETRY, type RetryPolicy } from '../storage/retry.js';
import { DEFAULT_MAX_BYTES } from '../storage/transfer.js';
import { redactUri } from '../storage/uri.js';
import { parseFlags, UsageError, type FlagKind } from './args.js';
import { asStepFailure, expectedDigest, reportFailure, terminationPath } from './termination.js';

export const FETCH_FLAGS = {
  from: 'string',
  to: 'string',
  'expect-digest': 'string',
  'max-bytes': 'number',
  'allow-http': 'boolean',
  attempts: 'number',
  'termination-message-path': 'string',
} as const;

export const UPLOAD_FLAGS = {
  from: 'string',
  to: 'string',
  attempts: 'number',
  'termination-message-path': 'string',
} as const;

export interface StepDeps {
  env?: NodeJS.ProcessEnv;
  out?: (line: string) => void;
  err?: (line: string) => void;
  /** Tests shorten the back-off; the attempts come from --attempts. */
  retry?: Partial<RetryPolicy>;
  /** ListObjectsV2 page size, for tests of pagination. */
  pageSize?: number;
}

function positiveInteger(value: number | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${flag} must be a positive integer, got ${value}`);
  return value;
}

function required(value: string | undefined, usage: string): string {
  if (!value) throw new UsageError(usage);
  return value;
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

type Flags<T extends Record<string, FlagKind>> = ReturnType<typeof parseFlags<T>>;

interface StepRun<T extends Record<string, FlagKind>> {
  mode: string;
  argv: string[];
  spec: T;
  deps: StepDeps;
  /** Does the work; returns the summary line. */
  work: (flags: Flags<T>, env: NodeJS.ProcessEnv, out: (line: string) => void) => Promise<string>;
}

/** What both modes share: flags, the termination path, the summary, the failure path. */
async function runStep<T extends Record<string, FlagKind>>(step: StepRun<T>): Promise<number> {
  const env = step.deps.env ?? process.env;
  const out = step.deps.out ?? ((line: string) => process.stdout.write(line));
  let termination = terminationPath(undefined, env);
  let target = step.mode;
  try {
    const flags = parseFlags(step.argv, step.spec);
    const named = flags as { from?: string; 'termination-message-path'?: string };
    termination = terminationPath(named['termination-message-path'], env);
    if (named.from) target = redactUri(named.from);
    out(await step.work(flags, env, out));
    return 0;
  } catch (e) {
    const err = step.deps.err ?? ((line: string) => process.stderr.write(line));
    return reportFailure(step.mode, asStepFailure(e, target), termination, err);
  }
}

function retryPolicy(attempts: number | undefined, deps: StepDeps): RetryPolicy {
  return { ...DEFAULT_RETRY, ...deps.retry, attempts: positiveInteger(attempts, 'attempts', DEFAULT_RETRY.attempts) };
}

export function runFetch(argv: string[], deps: StepDeps = {}): Promise<number> {
  return runStep({
    mode: 'fetch',
    argv,
    spec: FETCH_FLAGS,
    deps,
    work: async (flags, env, out) => {
      const usage = 'fetch needs --from s3://bucket/prefix|https://host/path/ and --to DIR';
      const result = await fetchArtifact({
        from: required(flags.from, usage),
        to: required(flags.to, usage),
        expectDigest: expectedDigest(flags['expect-digest'], env),
        maxBytes: positiveInteger(flags['max-bytes'], 'max-bytes', DEFAULT_MAX_BYTES),
        allowHttp: flags['allow-http'] ?? false,
        retry: retryPolicy(flags.attempts, deps),
        env,
        out,
        pageSize: deps.pageSize,
      });
      const digest = result.digest ? `, model.onnx ${result.digest} as expected` : '';
      return `fetched ${result.files.length} files, ${result.bytes} bytes (${mib(result.bytes)} MiB) in ${result.seconds.toFixed(3)} s into ${flags.to}${digest}\n`;
    },
  });
}

export function runUpload(argv: string[], deps: StepDeps = {}): Promise<number> {
  return runStep({
    mode: 'upload',
    argv,
    spec: UPLOAD_FLAGS,
    deps,
    work: async (flags, env, out) => {
      const usage = 'upload needs --from DIR and --to s3://bucket/prefix';
      const { uploadArtifact } = await import('../storage/upload.js');
      const result = await uploadArtifact({
        from: required(flags.from, usage),
        to: required(flags.to, usage),
        retry: retryPolicy(flags.attempts, deps),
        env,
        out,
      });
      return `uploaded ${result.files.length} files, ${result.bytes} bytes (${mib(result.bytes)} MiB) in ${result.seconds.toFixed(3)} s to ${flags.to}\n`;
    },
  });
}
