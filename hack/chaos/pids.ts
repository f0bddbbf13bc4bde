// Finds processes by their command line (/proc/<pid>/cmdline), for components a test did not
// start itself (e.g. the dev cluster's Prometheus, located by its data dir).
import { readdirSync, readFileSync } from 'node:fs';
import { processAlive } from '../devcluster/agent/process-guard.js';

export function pidsWithArg(fragment: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((a) => a.includes(fragment))) pids.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** Sends `signal` to each pid and waits (up to timeoutMs) until all are gone. */
export async function killPids(pids: number[], signal: NodeJS.Signals, timeoutMs = 10_000): Promise<void> {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + timeoutMs;
  while (pids.some(processAlive)) {
    if (Date.now() > deadline)
      throw new Error(`processes ${pids.filter(processAlive).join(',')} still alive ${timeoutMs} ms after ${signal}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
