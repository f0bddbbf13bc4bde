// Ties a spawned process's life to the agent's process.
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
