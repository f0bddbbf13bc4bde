// Ties a spawned process's life to the agent's process, and tells whether a process still lives.
import { existsSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';

/**
 * argv wrapped so that the process gets SIGKILL when the agent's process dies, even by SIGKILL
 * (a killed test runner must not leave servers behind). util-linux's setpriv sets the
 * parent-death signal and execs the command, so the pid and process group stay the same.
 * Only the direct child is covered; its own children die with its process group on a clean stop.
 */
export function killedWithParent(argv: string[]): string[] {
  return existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'KILL', '--', ...argv] : argv;
}

/** Whether `pid` names a live process (one of another user counts: signalling it is EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
