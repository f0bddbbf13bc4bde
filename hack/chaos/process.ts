// A restartable child process for chaos tests: the operator, the standalone node agent, or
// any Node entry point run with tsx. `kill()` is SIGKILL (no graceful shutdown: the point is to
// lose whatever was in memory), `start()` runs it again with the same arguments, and every
// incarnation appends to the same log file so a failure can be read in order.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, openSync, closeSync } from 'node:fs';

export interface ProcessSpec {
  /** Shown in the log and in errors, e.g. "operator". */
  name: string;
  /** Entry script relative to cwd, run as `node --import tsx <script> <args>`. */
  script: string;
  args: string[];
  cwd: string;
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

export class ChaosProcessError extends Error {
  override name = 'ChaosProcessError';
}

export interface KillRecord {
  name: string;
  incarnation: number;
  aliveMs: number;
  at: string;
}

export class ChaosProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private startedAt = 0;
  /** How many times it was started. */
  incarnations = 0;
  readonly kills: KillRecord[] = [];

  constructor(readonly spec: ProcessSpec) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new ChaosProcessError(`${this.spec.name} is already running (pid ${this.child?.pid})`);
    this.incarnations++;
    appendFileSync(
      this.spec.logFile,
      `--- ${new Date().toISOString()} start ${this.spec.name} #${this.incarnations}\n`,
    );
    const fd = openSync(this.spec.logFile, 'a');
    try {
      this.child = spawn(process.execPath, ['--import', 'tsx', this.spec.script, ...this.spec.args], {
        cwd: this.spec.cwd,
        env: this.spec.env ?? process.env,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const child = this.child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.startedAt = Date.now();
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill(): Promise<KillRecord | undefined> {
    if (!this.running) return undefined;
    const record = {
      name: this.spec.name,
      incarnation: this.incarnations,
      aliveMs: Date.now() - this.startedAt,
      at: new Date().toISOString(),
    };
    this.child!.kill('SIGKILL');
    await this.exited;
    appendFileSync(
      this.spec.logFile,
      `--- ${record.at} SIGKILL ${this.spec.name} #${record.incarnation} after ${record.aliveMs} ms\n`,
    );
    this.kills.push(record);
    return record;
  }

  async restart(): Promise<void> {
    await this.kill();
    this.start();
  }

  /** SIGTERM (the program's own graceful shutdown), SIGKILL after graceMs. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    const child = this.child!;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
