// Finds processes a previous node agent started for the same data dir (it may have crashed):
// every container process carries MODELSHIP_DEVCLUSTER_DATA_DIR=<dataDir> in its environment.
import { readdirSync, readFileSync } from 'node:fs';
import { DATA_DIR_ENV } from './pod-worker.js';

export function processesOfDataDir(dataDir: string): number[] {
  const marker = `${DATA_DIR_ENV}=${dataDir}`;
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids; // not Linux
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (env.includes(marker)) pids.push(Number(name));
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

export function killProcesses(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}
