// Resource limits, as the kubelet and its container runtime enforce them: a container with
// `resources.limits` runs in cgroups of its own — memory: that limit and no swap (nodes run
// without it), so the kernel's OOM killer ends a container that goes past it and the kubelet
// reports it `OOMKilled` (exit code 137, restarted per restartPolicy); cpu: a CFS quota of the
// limit per 100 ms period, so a container using more is throttled, as the kubelet's CPU limits
// are. cgroup v1 (one hierarchy per controller) and v2 (memory.max, cpu.max) are handled.
// Where a controller cannot be written (not root, a read-only cgroupfs, v2 without it
// delegated) its limits are not enforced, and the agent says so once, at start.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { quantityValue } from './container-spec.js';
import { processAlive } from './process-guard.js';

export type Controller = 'memory' | 'cpu';
const CONTROLLERS: Controller[] = ['memory', 'cpu'];

export interface CgroupLocation {
  version: 1 | 2;
  /** This process's cgroup folder for the controller. */
  dir: string;
}

/** A quantity's value when it is a positive number; undefined otherwise (pure). */
function positive(quantity: string | number | undefined): number | undefined {
  const v = quantity === undefined ? undefined : quantityValue(quantity);
  return v !== undefined && Number.isFinite(v) && v > 0 ? v : undefined;
}

/** Bytes of a memory quantity, rounded up to a whole byte (pure). */
export function memoryBytes(quantity: string | number | undefined): number | undefined {
  const v = positive(quantity);
  return v === undefined ? undefined : Math.ceil(v);
}

/** The kubelet's CFS period, and its smallest quota (1 ms). */
export const CFS_PERIOD_US = 100_000;
const MIN_QUOTA_US = 1_000;

/** CFS quota in µs per period for a CPU limit ("500m", 2), as the kubelet computes it (pure). */
export function cpuQuotaUs(quantity: string | number | undefined): number | undefined {
  const cores = positive(quantity);
  if (cores === undefined) return undefined;
  return Math.max(MIN_QUOTA_US, Math.ceil(cores * 1000) * (CFS_PERIOD_US / 1000));
}

/**
 * This process's cgroup folder for `controller`, from /proc/self/cgroup and /proc/self/mountinfo
 * (pure): the v1 hierarchy whose mount has the controller's option, else the v2 mount.
 */
export function locateCgroup(
  controller: Controller,
  procCgroup: string,
  mountinfo: string,
): CgroupLocation | undefined {
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
  const v1 = entries.find((e) => e.controllers.includes(controller));
  const v1Mount = mounts.find((m) => m.fstype === 'cgroup' && m.options.includes(controller));
  if (v1 && v1Mount) return { version: 1, dir: inMount(v1Mount, v1.path) };
  const v2 = entries.find((e) => e.id === '0' && e.controllers.join('') === '');
  const v2Mount = mounts.find((m) => m.fstype === 'cgroup2');
  if (v2 && v2Mount) return { version: 2, dir: inMount(v2Mount, v2.path) };
  return undefined;
}

const PREFIX = 'modelship-devcluster-';
let opened = 0;

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
    if (!pid || processAlive(Number(pid))) continue;
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

/** The cgroups of one run of one container: the folders it joins, and which holds its memory. */
export interface ContainerCgroup {
  dirs: string[];
  memoryDir?: string;
}

interface Base {
  version: 1 | 2;
  dir: string;
}

/** The containers' cgroups under one folder of this agent's own cgroup, per controller. */
export class ContainerCgroups {
  private constructor(
    private readonly bases: Map<Controller, Base>,
    /** Why a controller's limits are not enforced, per controller that is not. */
    readonly unavailable: Map<Controller, string>,
  ) {}

  /**
   * Makes `<own cgroup>/modelship-devcluster-<pid>-<n>` per controller, or says why its limits
   * cannot be enforced; removes the empty folders that agents no longer running left behind.
   */
  static open(): ContainerCgroups {
    const name = `${PREFIX}${process.pid}-${++opened}`;
    const bases = new Map<Controller, Base>();
    const unavailable = new Map<Controller, string>();
    let procCgroup: string;
    let mountinfo: string;
    try {
      procCgroup = readFileSync('/proc/self/cgroup', 'utf8');
      mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch (err) {
      for (const c of CONTROLLERS) unavailable.set(c, (err as Error).message);
      return new ContainerCgroups(bases, unavailable);
    }
    for (const controller of CONTROLLERS) {
      const where = locateCgroup(controller, procCgroup, mountinfo);
      if (!where) {
        unavailable.set(controller, `no ${controller} cgroup controller is mounted`);
        continue;
      }
      const dir = join(where.dir, name);
      removeLeftovers(where.dir);
      try {
        mkdirSync(dir, { recursive: true });
        if (where.version === 2) writeFileSync(join(dir, 'cgroup.subtree_control'), `+${controller}`);
        bases.set(controller, { version: where.version, dir });
      } catch (err) {
        unavailable.set(controller, `cannot create ${dir}: ${(err as Error).message}`);
      }
    }
    return new ContainerCgroups(bases, unavailable);
  }

  /** Cgroups for one run of one container with these limits; none when nothing is enforced. */
  create(id: string, limits: { memory?: string | number; cpu?: string | number } | undefined): ContainerCgroup {
    const out: ContainerCgroup = { dirs: [] };
    const bytes = memoryBytes(limits?.memory);
    const quota = cpuQuotaUs(limits?.cpu);
    const memory = this.bases.get('memory');
    if (bytes && memory) {
      const dir = this.child(memory, id, out);
      out.memoryDir = dir;
      if (memory.version === 1) {
        writeFileSync(join(dir, 'memory.limit_in_bytes'), String(bytes));
        // Memory plus swap: the same limit, so nothing is swapped out (absent without swap accounting).
        writeIfPresent(join(dir, 'memory.memsw.limit_in_bytes'), String(bytes));
      } else {
        writeFileSync(join(dir, 'memory.max'), String(bytes));
        writeIfPresent(join(dir, 'memory.swap.max'), '0');
      }
    }
    const cpu = this.bases.get('cpu');
    if (quota && cpu) {
      const dir = this.child(cpu, id, out);
      if (cpu.version === 1) {
        writeFileSync(join(dir, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quota));
      } else writeFileSync(join(dir, 'cpu.max'), `${quota} ${CFS_PERIOD_US}`);
    }
    return out;
  }

  private child(base: Base, id: string, out: ContainerCgroup): string {
    const dir = join(base.dir, id);
    mkdirSync(dir, { recursive: true });
    if (!out.dirs.includes(dir)) out.dirs.push(dir);
    return dir;
  }

  /** Whether the kernel's OOM killer killed a process of the container's memory cgroup. */
  oomKilled(group: ContainerCgroup): boolean {
    if (!group.memoryDir) return false;
    try {
      const file = this.bases.get('memory')?.version === 2 ? 'memory.events' : 'memory.oom_control';
      const kills = /^oom_kill (\d+)$/m.exec(readFileSync(join(group.memoryDir, file), 'utf8'));
      return !!kills && Number(kills[1]) > 0;
    } catch {
      return false;
    }
  }

  /** Removes a container's cgroups once its processes are gone. */
  remove(group: ContainerCgroup): void {
    for (const dir of group.dirs) removeDir(dir);
  }

  /** Removes the agent's folders (its containers' cgroups must be gone). */
  close(): void {
    for (const base of new Set([...this.bases.values()].map((b) => b.dir))) removeDir(base);
  }
}

function writeIfPresent(path: string, value: string): void {
  if (existsSync(path)) writeFileSync(path, value);
}

/** rmdir, retried a few times while the last processes of the cgroup are still exiting. */
function removeDir(dir: string, attempts = 5): void {
  try {
    rmdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EBUSY' && attempts > 1) setTimeout(() => removeDir(dir, attempts - 1), 200).unref();
  }
}
