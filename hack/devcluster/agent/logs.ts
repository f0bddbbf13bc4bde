// Where the node agent keeps container output, laid out like the kubelet's /var/log/pods:
//   <dataDir>/logs/<namespace>_<pod>_<uid>/<container>/<restartCount>.log
// readContainerLog() is what a pods/log handler needs (`kubectl logs [--previous] [--tail]`).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export function containerLogDir(
  dataDir: string,
  namespace: string,
  pod: string,
  uid: string,
  container: string,
): string {
  return join(dataDir, 'logs', `${namespace}_${pod}_${uid}`, container);
}

export interface LogOptions {
  /** The previous instance's log (kubectl logs --previous). */
  previous?: boolean;
  tailLines?: number;
  limitBytes?: number;
}

/** The log of the current (or previous) instance of a container; undefined when there is none. */
export function readContainerLog(
  dataDir: string,
  namespace: string,
  pod: string,
  uid: string,
  container: string,
  opts: LogOptions = {},
): string | undefined {
  const dir = containerLogDir(dataDir, namespace, pod, uid, container);
  let instances: number[];
  try {
    instances = readdirSync(dir)
      .map((f) => /^(\d+)\.log$/.exec(f))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
  } catch {
    return undefined;
  }
  const index = instances.length - (opts.previous ? 2 : 1);
  if (index < 0) return undefined;
  let text = readFileSync(join(dir, `${instances[index]}.log`), 'utf8');
  if (opts.tailLines !== undefined) {
    const lines = text.split('\n');
    const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
    text = lines.slice(Math.max(0, lines.length - opts.tailLines)).join('\n') + (trailing === '' ? '\n' : '');
  }
  if (opts.limitBytes !== undefined) text = Buffer.from(text).subarray(0, opts.limitBytes).toString('utf8');
  return text;
}
