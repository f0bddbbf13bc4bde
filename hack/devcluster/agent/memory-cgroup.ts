// Memory limits, as the kubelet and its container runtime enforce them: a container with
// `resources.limits.memory` runs in a memory cgroup of its own with that limit and no swap
// (nodes run without it), so the kernel's OOM killer ends a container that goes past it and the
// kubelet reports the container `OOMKilled` (exit code 137, restarted per restartPolicy).
// cgroup v1 (the memory controller's hierarchy) and v2 (memory.max) are handled. Where neither
// can be written (not root, a read-only cgroupfs, v2 without the memory controller delegated)
// limits are not enforced, and the agent says so once, at start.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CgroupLocation {
  version: 1 | 2;
  /** This process's memory cgroup folder. */
  dir: string;
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** Bytes of a memory quantity ("512Mi", "1G", "129e6", 1073741824); undefined if unreadable (pure). */
export function memoryBytes(quantity: string | number | undefined): number | undefined {
  if (quantity === undefined) return undefined;
  const m = /^\+?(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m))?$/.exec(
    String(quantity).trim(),
  );
  if (!m) return undefined;
  const scale = m[2] !== undefined ? 10 ** Number(m[2]) : m[3] === 'm' ? 1e-3 : UNITS[m[3] ?? ''];
  const bytes = Math.ceil(Number(m[1]) * scale);
  return bytes > 0 ? bytes : undefined;
}

/**
 * This process's memory cgroup folder, from /proc/self/cgroup and /proc/self/mountinfo (pure):
 * the v1 hierarchy whose mount has the memory option, else the v2 mount.
 */
export function locateMemoryCgroup(procCgroup: string, mountinfo: string): CgroupLocation | undefined {
  const mounts = mountinfo
    .split('\n')
    .map((line) => {
      const [left, right] = line.split(' - ');
      if (!right) return undefined;
      const f = left.split(' ');
      const [fstype, , superOptions] = right.split(' ');
      return { root: f[3], mountPoint: f[4], fstype, options: (superOptions ?? '').split(',') };
    })
    .filter((m) => m !== undefined);
  const entries = procCgroup
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id, controllers, ...path] = line.split(':');
      return { id, controllers: controllers.split(','), path: path.join(':') };
    });
  const inMount = (m: { root: string; mountPoint: string }, path: string) =>
    join(m.mountPoint, m.root !== '/' && path.startsWith(m.root) ? path.slice(m.root.length) : path);
  const v1 = entries.find((e) => e.controllers.includes('memory'));
  const v1Mount = mounts.find((m) => m.fstype === 'cgroup' && m.options.includes('memory'));
  if (v1 && v1Mount) return { version: 1, dir: inMount(v1Mount, v1.path) };
  const v2 = entries.find((e) => e.id === '0' && e.controllers.join('') === '');
  const v2Mount = mounts.find((m) => m.fstype === 'cgroup2');
  if (v2 && v2Mount) return { version: 2, dir: inMount(v2Mount, v2.path) };
  return undefined;
}

const PREFIX = 'modelship-devcluster-';
let opened = 0;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Folders of agents that are gone (a SIGKILLed agent cannot clean up): empty cgroups, removed. */
function removeLeftovers(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = new RegExp(`^${PREFIX}(\\d+)-\\d+$`).exec(name)?.[1];
    if (!pid || alive(Number(pid))) continue;
    const dir = join(parent, name);
    try {
      for (const child of readdirSync(dir, { withFileTypes: true }))
        if (child.isDirectory()) rmdirSync(join(dir, child.name));
      rmdirSync(dir);
    } catch {
      // a process of it still runs; a later agent tries again
    }
  }
}

/** The containers' memory cgroups under one folder of this agent's own cgroup. */
export class MemoryCgroups {
  private constructor(
    private readonly version: 1 | 2,
    private readonly base: string | undefined,
    /** Why limits are not enforced, when they are not. */
    readonly unavailable?: string,
  ) {}

  /**
   * Makes `<own cgroup>/modelship-devcluster-<pid>-<n>` for the containers, or says why limits
   * cannot be enforced; removes the empty folders that agents no longer running left behind.
   */
  static open(): MemoryCgroups {
    const name = `${PREFIX}${process.pid}-${++opened}`;
    let where: CgroupLocation | undefined;
    try {
      where = locateMemoryCgroup(
        readFileSync('/proc/self/cgroup', 'utf8'),
        readFileSync('/proc/self/mountinfo', 'utf8'),
      );
    } catch (err) {
      return new MemoryCgroups(1, undefined, (err as Error).message);
    }
    if (!where) return new MemoryCgroups(1, undefined, 'no memory cgroup controller is mounted');
    const base = join(where.dir, name);
    removeLeftovers(where.dir);
    try {
      mkdirSync(base, { recursive: true });
      if (where.version === 2) writeFileSync(join(base, 'cgroup.subtree_control'), '+memory');
      return new MemoryCgroups(where.version, base);
    } catch (err) {
      return new MemoryCgroups(where.version, undefined, `cannot create ${base}: ${(err as Error).message}`);
    }
  }

  /** A cgroup limited to `limitBytes`, no swap, for one run of one container; undefined when not enforced. */
  create(id: string, limitBytes: number): string | undefined {
    if (!this.base) return undefined;
    const dir = join(this.base, id);
    mkdirSync(dir, { recursive: true });
    if (this.version === 1) {
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      // Memory plus swap: the same limit, so nothing is swapped out (absent without swap accounting).
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes')))
        writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
    } else {
      writeFileSync(join(dir, 'memory.max'), String(limitBytes));
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
    }
    return dir;
  }

  /** Whether the kernel's OOM killer killed a process of the cgroup. */
  oomKilled(dir: string): boolean {
    try {
      const file = this.version === 1 ? 'memory.oom_control' : 'memory.events';
      const kills = /^oom_kill (\d+)$/m.exec(readFileSync(join(dir, file), 'utf8'));
      return !!kills && Number(kills[1]) > 0;
    } catch {
      return false;
    }
  }

  /** Removes a container's cgroup once its processes are gone (retried a few times if still busy). */
  remove(dir: string, attempts = 5): void {
    try {
      rmdirSync(dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EBUSY' && attempts > 1) setTimeout(() => this.remove(dir, attempts - 1), 200).unref();
    }
  }

  /** Removes the agent's folder (its containers' cgroups must be gone). */
  close(): void {
    if (this.base) this.remove(this.base);
  }
}
