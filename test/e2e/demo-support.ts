// Runs hack/demo/main.ts as `make demo` does, in a temporary working folder, and checks that
// nothing it started outlives it.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../support/models.js';

export interface DemoRun {
  code: number | null;
  output: string;
  dir: string;
}

export function demoDir(): string {
  return mkdtempSync(join(tmpdir(), 'modelship-demo-'));
}

export function runDemo(args: string[], dir: string, timeoutMs: number): Promise<DemoRun> {
  return new Promise((resolve) => {
    // The demo's defaults otherwise (the picture goes into `dir`), as `make demo` runs it.
    const child = spawn(process.execPath, ['--import', 'tsx', 'hack/demo/main.ts', '--dir', dir, ...args], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output, dir });
    });
  });
}

/** Command lines of live processes that mention `dir` (the cluster, operator, pods, Prometheus). */
export function processesUnder(dir: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return ps.split('\n').filter((line) => line.includes(dir) && !line.startsWith('ps '));
}
