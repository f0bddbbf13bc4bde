// The walk-through's printer: numbered steps with elapsed times, the kubectl commands a user
// can type to look for themselves, and one-time environment hints. Output goes to any
// writable (a test passes a buffer); the clock is injectable so the format is testable.

export interface ProgressOptions {
  write(text: string): void;
  now?: () => number;
  /** ANSI colours (off when the output is not a terminal). */
  color?: boolean;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** "1:05" / "12:30" from milliseconds. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

export class Progress {
  private readonly start: number;
  private stepStart: number;
  private readonly now: () => number;
  private hinted = false;

  constructor(private readonly opts: ProgressOptions) {
    this.now = opts.now ?? Date.now;
    this.start = this.now();
    this.stepStart = this.start;
  }

  private paint(code: string, text: string): string {
    return this.opts.color ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  private line(text: string): void {
    this.opts.write(`${this.paint('2', `[${formatElapsed(this.now() - this.start)}]`)} ${text}\n`);
  }

  elapsedMs(): number {
    return this.now() - this.start;
  }
  stepElapsedMs(): number {
    return this.now() - this.stepStart;
  }

  /** A numbered step's banner. */
  step(n: number | string, title: string): void {
    this.stepStart = this.now();
    this.opts.write(`\n${this.paint('1;36', `== Step ${n}: ${title}`)}\n`);
  }

  info(text: string): void {
    this.line(text);
  }

  /** Something reached, with the time it took within the step. */
  done(text: string): void {
    this.line(
      `${this.paint('32', '✓')} ${text} ${this.paint('2', `(+${formatElapsed(this.now() - this.stepStart)})`)}`,
    );
  }

  warn(text: string): void {
    this.line(`${this.paint('33', '!')} ${text}`);
  }

  /** A command the user can type; printed, not run. */
  hint(command: string): void {
    this.opts.write(`        ${this.paint('35', `$ ${command}`)}\n`);
  }

  /** The environment lines that make the hints work, printed once. */
  environment(kubeconfig: string, binDir: string): void {
    if (this.hinted) return;
    this.hinted = true;
    this.opts.write(`\nIn another terminal, to look for yourself:\n`);
    this.hint(`export KUBECONFIG=${kubeconfig}`);
    this.hint(`export PATH=${binDir}:$PATH   # kubectl v1.31 and helm`);
    this.hint('kubectl get modelship -o wide');
  }

  raw(text: string): void {
    this.opts.write(text);
  }
}
