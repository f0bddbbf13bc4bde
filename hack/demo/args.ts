// Command line of the demo (pure): `make demo` / `npx tsx hack/demo/main.ts [flags]`.

export const ALL_STEPS = [1, 2, 3, 4] as const;
export type StepNumber = (typeof ALL_STEPS)[number];

export interface DemoArgs {
  /** Steps to run, ascending. Step 1 (train, validate, serve v1) is always included: the others build on it. */
  steps: StepNumber[];
  /** Leave the cluster running after the summary until Ctrl-C. */
  wait: boolean;
  /** Working folder of the cluster, logs and generated images (emptied at start). */
  dir: string;
  /** Multiplies every wait timeout (slow machines). */
  timeoutScale: number;
  /** Where the canary timeline SVG goes ('' = do not write one). */
  svgOut: string;
  help: boolean;
}

export const usage = `usage: npx tsx hack/demo/main.ts [flags]   (or: make demo)
  --steps 1,2,3,4      steps to run (default all; step 1 always runs, the others build on it)
                         1 train v1 (real PyTorch, CPU) → validate → serve, with load and feedback
                         2 train v2 with better hyperparameters → canary → promoted
                         3 traffic drifts → retraining on fresh data → v3 → canary → outcome
                         4 a model trained on shuffled labels → canary → rolled back
  --no-wait            exit after the summary (tests, CI) instead of serving until Ctrl-C
  --dir DIR            working folder, emptied at start (default .devcluster/demo)
  --timeout-scale F    multiply every wait timeout by F (default 1)
  --svg FILE           canary timeline picture (default DIR/canary-timeline.svg; "" = none)
  -h, --help           this help`;

/** Stands for DIR/canary-timeline.svg until --dir is known. */
const DEFAULT_SVG = '\0default';

export class ArgsError extends Error {
  override name = 'ArgsError';
}

export function parseSteps(text: string): StepNumber[] {
  const wanted = new Set<StepNumber>([1]);
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const n = Number(part);
    if (!(ALL_STEPS as readonly number[]).includes(n))
      throw new ArgsError(`--steps: "${part}" is not one of ${ALL_STEPS.join(', ')}`);
    wanted.add(n as StepNumber);
  }
  return [...wanted].sort((a, b) => a - b);
}

export function parseArgs(argv: string[]): DemoArgs {
  // The picture goes into the demo's own folder by default: a run leaves the work tree as it was.
  const args: DemoArgs = {
    steps: [...ALL_STEPS],
    wait: true,
    dir: '.devcluster/demo',
    timeoutScale: 1,
    svgOut: DEFAULT_SVG,
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new ArgsError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--steps':
        args.steps = parseSteps(value());
        break;
      case '--no-wait':
        args.wait = false;
        break;
      case '--dir':
        args.dir = value();
        break;
      case '--svg':
        args.svgOut = value();
        break;
      case '--timeout-scale': {
        const f = Number(value());
        if (!(f > 0)) throw new ArgsError('--timeout-scale must be a positive number');
        args.timeoutScale = f;
        break;
      }
      case '-h':
      case '--help':
        args.help = true;
        break;
      default:
        throw new ArgsError(`unknown argument ${argv[i]}`);
    }
  }
  if (!args.dir) throw new ArgsError('--dir must not be empty');
  if (args.svgOut === DEFAULT_SVG) args.svgOut = `${args.dir.replace(/\/+$/, '')}/canary-timeline.svg`;
  return args;
}
