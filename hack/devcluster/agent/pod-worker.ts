// Runs one Pod's containers as local processes, each in its own container sandbox (sandbox.ts:
// a private mount namespace with its own root filesystem, volumes at their mountPaths, the
// container's user and groups): start (image → command mapping, env), restart with crash-loop
// back-off per restartPolicy, probes, graceful stop. Each container runs in its own process
// group so that stopping it kills everything it started.
import { spawn, type ChildProcess } from 'node:child_process';
import type { ContainerCgroup, ContainerCgroups } from './cgroups.js';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as osConstants } from 'node:os';
import type { KubeObject } from './kube-client.js';
import { commandLine, findImage, normalizeImageName, type ImageEntry } from './images.js';
import { ContainerConfigError, containerEnv, expandVars } from './container-spec.js';
import { createSubPaths, materializeVolumes, podDir, tokenSources, type TokenSource } from './volumes.js';
import { execInContainer, IMAGE_ROOT, sandboxArgv, sandboxPlan, type SandboxPlan } from './sandbox.js';
import { sandboxBinary } from './sandbox-binary.js';
import { runProbe, type ProbeTarget } from './probes.js';
import { scheduleProbes } from './probe-scheduler.js';
import type { ContainerView, PodView, TerminatedState } from './pod-status.js';
import { nowIso } from './util.js';
import { containerLogDir } from './logs.js';
import type { EventRecorder } from './events.js';
import { killedWithParent } from './process-guard.js';
import { DNS_SHIM, HOSTS_ENV, NAMESPACE_ENV, serviceLinkEnv } from './cluster-dns.js';

export const POD_UID_ENV = 'MODELSHIP_DEVCLUSTER_POD_UID';
export const DATA_DIR_ENV = 'MODELSHIP_DEVCLUSTER_DATA_DIR';
/** The pod's IP, for the listen shim (a kubelet sets no POD_IP: pods read it from the downward API). */
export const POD_IP_ENV = 'MODELSHIP_DEVCLUSTER_POD_IP';
/** Stands in for the pod's network namespace: all-addresses listens get the pod's IP only. */
export const LISTEN_SHIM = join(dirname(fileURLToPath(import.meta.url)), 'listen-shim.mjs');
const MAX_TERMINATION_MESSAGE = 4096;
// The host's locale and GPU selection reach containers; paths and identity (HOME, TMPDIR, USER)
// are the container's own.
const HOST_ENV_PASSTHROUGH = ['LANG', 'LC_ALL', 'TZ', 'CUDA_VISIBLE_DEVICES', 'NVIDIA_VISIBLE_DEVICES'];
/** Docker's default PATH, which images inherit unless they set their own. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Where containers find the Service hosts map the DNS shim reads. */
const CONTAINER_HOSTS_FILE = '/var/run/devcluster/hosts.json';

export interface PodWorkerDeps {
  dataDir: string;
  repoRoot: string;
  images: ImageEntry[];
  /** The container runtime binary (default: sandbox.c compiled on first use). */
  sandbox?: string;
  secrets: (ns: string, name: string) => KubeObject | undefined;
  configMaps: (ns: string, name: string) => KubeObject | undefined;
  /** Services, for the service link env vars a kubelet injects. */
  services: () => KubeObject[];
  /** The Service hosts map read by the DNS shim. */
  hostsFile: string;
  /** Crash-loop back-off: first delay, doubling per restart up to the cap. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  onChange: () => void;
  log: (msg: string) => void;
  /** Kubelet events (Pulled, Created, Started, BackOff, Unhealthy, Failed…). */
  events?: EventRecorder;
  /** A TokenRequest for the pod's ServiceAccount, bound to the pod (the kubelet's token manager). */
  requestToken?: (pod: KubeObject, source: TokenSource) => Promise<string>;
  /** Where containers with limits get their cgroups (none: limits not enforced). */
  cgroups?: ContainerCgroups;
}

interface ContainerRuntime extends ContainerView {
  spec: any;
  proc?: ChildProcess;
  startedAtMs?: number;
  timers: Set<NodeJS.Timeout>;
  termFile: string;
  logFile?: string;
  probeTarget?: ProbeTarget;
  killedForLiveness?: boolean;
  exited?: Promise<void>;
  nextBackoffMs: number;
  /** An init container: runs to completion, in order, before the app containers start. */
  init: boolean;
  /** The cgroups of the current run, when its limits are enforced. */
  cgroup?: ContainerCgroup;
}

export class PodWorker {
  private readonly containers: ContainerRuntime[];
  private readonly initContainers: ContainerRuntime[];
  private readonly startTime = nowIso();
  private podFailure: PodView['podFailure'];
  private stopping = false;
  private deadlineTimer?: NodeJS.Timeout;
  private volumeDirs?: Map<string, string>;
  private readonly tokens = new Map<string, string>();

  constructor(
    private pod: KubeObject,
    readonly podIP: string,
    private readonly deps: PodWorkerDeps,
    previousRestarts: Map<string, number> = new Map(),
  ) {
    const runtime = (c: any, init: boolean): ContainerRuntime => ({
      name: c.name,
      image: c.image,
      spec: c,
      init,
      state: {
        kind: 'waiting',
        reason: init
          ? 'PodInitializing'
          : (pod.spec?.initContainers ?? []).length
            ? 'PodInitializing'
            : 'ContainerCreating',
      },
      restartCount: previousRestarts.get(c.name) ?? 0,
      ready: false,
      started: false,
      timers: new Set(),
      termFile: join(podDir(deps.dataDir, pod), 'containers', c.name, 'termination-log'),
      nextBackoffMs: deps.backoffBaseMs,
    });
    this.initContainers = (pod.spec?.initContainers ?? []).map((c: any) => runtime(c, true));
    this.containers = (pod.spec?.containers ?? []).map((c: any) => runtime(c, false));
  }

  private get all(): ContainerRuntime[] {
    return [...this.initContainers, ...this.containers];
  }

  get uid(): string {
    return this.pod.metadata.uid ?? '';
  }

  update(pod: KubeObject): void {
    this.pod = pod;
  }

  view(): PodView {
    const viewOf = (c: ContainerRuntime): ContainerView => ({
      name: c.name,
      image: c.image,
      state: c.state,
      lastTerminated: c.lastTerminated,
      restartCount: c.restartCount,
      ready: c.ready,
      started: c.started,
      containerID: c.containerID,
    });
    return {
      podIP: this.podIP,
      startTime: this.startTime,
      podFailure: this.podFailure,
      containers: this.containers.map(viewOf),
      ...(this.initContainers.length ? { initContainers: this.initContainers.map(viewOf) } : {}),
    };
  }

  start(): void {
    const ads = this.pod.spec?.activeDeadlineSeconds;
    if (typeof ads === 'number') {
      this.deadlineTimer = setTimeout(
        () => this.failPod('DeadlineExceeded', 'Pod was active on the node longer than the specified deadline'),
        ads * 1000,
      );
    }
    void this.fetchTokens().then(() => {
      if (this.stopping) return;
      if (this.initContainers.length) this.startContainer(this.initContainers[0]);
      else for (const c of this.containers) this.startContainer(c);
    });
  }

  /**
   * Service account tokens for the projected volumes, before any container starts; while the
   * API server refuses, the pod stays ContainerCreating with FailedMount events, as upstream.
   */
  private async fetchTokens(): Promise<void> {
    for (const source of tokenSources(this.pod)) {
      for (;;) {
        if (this.stopping) return;
        try {
          if (!this.deps.requestToken) throw new Error('this node cannot request tokens');
          this.tokens.set(source.key, await this.deps.requestToken(this.pod, source));
          break;
        } catch (err) {
          const volume = source.key.split('/')[0];
          this.deps.events?.warning(
            this.pod,
            'FailedMount',
            `MountVolume.SetUp failed for volume "${volume}" : failed to fetch token: ${(err as Error).message}`,
          );
          await new Promise((r) => setTimeout(r, 2_000));
        }
      }
    }
  }

  /** After an init container succeeded: the next one, or the app containers. */
  private initSucceeded(c: ContainerRuntime): void {
    const next = this.initContainers[this.initContainers.indexOf(c) + 1];
    if (next) this.startContainer(next);
    else for (const app of this.containers) this.startContainer(app);
  }

  /** SIGTERM every container, SIGKILL after the grace period; resolves when all have exited. */
  async stop(graceSeconds: number): Promise<void> {
    this.stopping = true;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    await Promise.all(this.all.map((c) => this.killContainer(c, graceSeconds)));
    for (const c of this.all) this.clearTimers(c);
  }

  private failPod(reason: string, message: string): void {
    if (this.stopping || this.isTerminal()) return;
    this.podFailure = { reason, message };
    this.stopping = true;
    const grace = this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    void Promise.all(this.all.map((c) => this.killContainer(c, grace))).then(() => this.deps.onChange());
    this.deps.onChange();
  }

  private isTerminal(): boolean {
    return this.podFailure !== undefined || this.containers.every((c) => c.state.kind === 'terminated');
  }

  private later(c: ContainerRuntime, ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      c.timers.delete(t);
      fn();
    }, ms);
    c.timers.add(t);
  }

  private clearTimers(c: ContainerRuntime): void {
    for (const t of c.timers) clearTimeout(t);
    c.timers.clear();
  }

  private setWaiting(c: ContainerRuntime, reason: string, message?: string): void {
    c.state = { kind: 'waiting', reason, message };
    c.ready = false;
    this.deps.onChange();
  }

  private startContainer(c: ContainerRuntime): void {
    if (this.stopping) return;
    const entry = findImage(this.deps.images, c.image);
    if (!entry) {
      const message = `Failed to pull image "${c.image}": no entry in hack/devcluster/images.yaml matches "${normalizeImageName(c.image)}"`;
      this.setWaiting(c, 'ErrImagePull', message);
      this.deps.events?.warning(this.pod, 'Failed', message);
      this.deps.events?.warning(this.pod, 'Failed', 'Error: ErrImagePull');
      this.later(c, 2_000, () => {
        this.setWaiting(c, 'ImagePullBackOff', `Back-off pulling image "${c.image}": ${message}`);
        this.deps.events?.normal(this.pod, 'BackOff', `Back-off pulling image "${c.image}"`);
      });
      return;
    }
    try {
      this.launch(c, entry);
    } catch (err) {
      const reason = err instanceof ContainerConfigError ? 'CreateContainerConfigError' : 'CreateContainerError';
      this.setWaiting(c, reason, (err as Error).message);
      this.deps.events?.warning(this.pod, 'Failed', `Error: ${(err as Error).message}`);
      this.later(c, 2_000, () => this.startContainer(c));
    }
  }

  private launch(c: ContainerRuntime, entry: ImageEntry): void {
    const pod = this.pod;
    this.volumeDirs ??= materializeVolumes(pod, this.deps.dataDir, {
      secrets: this.deps.secrets,
      configMaps: this.deps.configMaps,
      tokens: this.tokens,
    });
    const ns = pod.metadata.namespace ?? 'default';
    const links =
      pod.spec?.enableServiceLinks === false ? new Map<string, string>() : serviceLinkEnv(this.deps.services(), ns);
    const declared = containerEnv(
      c.spec,
      { pod, podIP: this.podIP, secrets: this.deps.secrets, configMaps: this.deps.configMaps },
      links,
    );
    createSubPaths(c.spec, this.volumeDirs);
    const root = join(podDir(this.deps.dataDir, pod), 'rootfs', c.name);
    mkdirSync(root, { recursive: true });
    // The kubelet creates the termination message file world-writable: any user may report.
    mkdirSync(join(c.termFile, '..'), { recursive: true });
    writeFileSync(c.termFile, '');
    chmodSync(c.termFile, 0o666);
    const plan = sandboxPlan({
      pod,
      container: c.spec,
      image: entry,
      root,
      repoRoot: this.deps.repoRoot,
      hostDirs: this.volumeDirs,
      terminationFile: c.termFile,
      // The dev cluster's own shim: the Service hosts map the DNS shim reads.
      extraFiles: [{ source: this.deps.hostsFile, target: CONTAINER_HOSTS_FILE }],
      imageWorkdir: entry.cwd === 'repo' ? IMAGE_ROOT : '/',
    });
    const env = this.containerEnvironment(entry, plan, declared, ns);
    const vars = new Map(declared);
    const argv = commandLine(entry, c.spec.command, c.spec.args).map((a) => expandVars(a, vars));
    if (argv.length === 0) throw new ContainerConfigError('no command specified');
    if (argv[0] === 'node') argv[0] = process.execPath;

    const logDir = containerLogDir(
      this.deps.dataDir,
      pod.metadata.namespace ?? 'default',
      pod.metadata.name,
      this.uid,
      c.name,
    );
    mkdirSync(logDir, { recursive: true });
    c.logFile = join(logDir, `${c.restartCount}.log`);
    const fd = openSync(c.logFile, 'a');
    c.cgroup = this.deps.cgroups?.create(`${this.uid}_${c.name}_${c.restartCount}`, c.spec.resources?.limits);
    let child: ChildProcess;
    try {
      const guarded = killedWithParent(sandboxArgv(this.deps.sandbox ?? defaultSandbox(), plan, argv, c.cgroup?.dirs));
      child = spawn(guarded[0], guarded.slice(1), { cwd: '/', env, detached: true, stdio: ['ignore', fd, fd] });
    } finally {
      closeSync(fd);
    }
    const startedAt = nowIso();
    c.proc = child;
    c.startedAtMs = Date.now();
    c.containerID = `devcluster://${this.uid}/${c.name}/${c.restartCount}`;
    c.state = { kind: 'running', startedAt };
    c.started = !c.spec.startupProbe;
    c.ready = false;
    c.killedForLiveness = false;
    c.probeTarget = {
      podIP: this.podIP,
      containerPorts: c.spec.ports ?? [],
      env,
      exec: execInContainer(child.pid, plan),
    };
    let spawnError: Error | undefined;
    child.on('error', (err) => (spawnError = err));
    c.exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.onExit(c, child, startedAt, code, signal, spawnError);
        resolve();
      }),
    );
    if (!c.init) this.startProbes(c, child);
    this.deps.events?.normal(this.pod, 'Pulled', `Container image "${c.image}" already present on machine`);
    this.deps.events?.normal(this.pod, 'Created', `Created container ${c.name}`);
    this.deps.events?.normal(this.pod, 'Started', `Started container ${c.name}`);
    this.deps.onChange();
  }

  /** Image defaults, then what the kubelet adds, then the container's own env (which wins). */
  private containerEnvironment(
    entry: ImageEntry,
    plan: SandboxPlan,
    declared: Map<string, string>,
    ns: string,
  ): Record<string, string> {
    const env: Record<string, string> = {
      PATH: DEFAULT_PATH,
      HOME: plan.uid === 0 ? '/root' : '/',
      ...(entry.env ?? {}),
    };
    for (const k of HOST_ENV_PASSTHROUGH) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    Object.assign(env, {
      HOSTNAME: this.pod.metadata.name,
      ...kubernetesServiceEnv(this.deps.services()),
    });
    for (const [k, v] of declared) env[k] = v;
    env[POD_UID_ENV] = this.uid;
    env[DATA_DIR_ENV] = this.deps.dataDir;
    env[HOSTS_ENV] = CONTAINER_HOSTS_FILE;
    env[NAMESPACE_ENV] = ns;
    env[POD_IP_ENV] = this.podIP;
    const preload = (shim: string) => `--import=${join(IMAGE_ROOT, relative(this.deps.repoRoot, shim))}`;
    env.NODE_OPTIONS = [env.NODE_OPTIONS, preload(DNS_SHIM), preload(LISTEN_SHIM)].filter(Boolean).join(' ');
    return env;
  }

  private onExit(
    c: ContainerRuntime,
    child: ChildProcess,
    startedAt: string,
    code: number | null,
    signal: NodeJS.Signals | null,
    spawnError?: Error,
  ): void {
    // Like a container's PID namespace going away: nothing it started outlives it.
    killGroup(child.pid, 'SIGKILL');
    if (c.proc !== child) return;
    c.proc = undefined;
    this.clearTimers(c);
    const signo = signal ? (osConstants.signals[signal] ?? 0) : 0;
    // The sandbox reports what kept the command from starting with exit code 125-127 and a
    // "sandbox: " line on stderr (a mount, the working directory, a missing command).
    const execFailure =
      code !== null && code >= 125 && code <= 127
        ? /^sandbox: .*$/m.exec(readCapped(c.logFile ?? '', 4096) ?? '')?.[0]
        : undefined;
    const startFailure = spawnError?.message ?? execFailure;
    const exitCode = startFailure ? 128 : (code ?? 128 + signo);
    const oomKilled = this.releaseCgroup(c);
    const terminated: TerminatedState = {
      exitCode,
      ...(signo ? { signal: signo } : {}),
      reason: startFailure ? 'StartError' : oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
      message: startFailure ?? this.terminationMessage(c, exitCode),
      startedAt,
      finishedAt: nowIso(),
      containerID: c.containerID,
    };
    c.ready = false;
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    const restart = !this.stopping && (policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0));
    if (c.init && exitCode === 0 && !this.stopping) {
      c.state = { kind: 'terminated', terminated };
      this.deps.onChange();
      this.initSucceeded(c);
      return;
    }
    if (!restart) {
      c.state = { kind: 'terminated', terminated };
      this.deps.onChange();
      return;
    }
    // Crash-loop back-off; a container that ran for 10 minutes starts over from the base delay.
    if (Date.now() - (c.startedAtMs ?? 0) > 600_000) c.nextBackoffMs = this.deps.backoffBaseMs;
    const delay = c.nextBackoffMs;
    c.nextBackoffMs = Math.min(c.nextBackoffMs * 2, this.deps.backoffMaxMs);
    c.lastTerminated = terminated;
    c.state = {
      kind: 'waiting',
      reason: 'CrashLoopBackOff',
      message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`,
    };
    this.deps.events?.warning(
      this.pod,
      'BackOff',
      `Back-off restarting failed container ${c.name} in pod ${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`,
    );
    this.deps.onChange();
    this.later(c, delay, () => {
      if (this.stopping) return;
      c.restartCount++;
      this.startContainer(c);
    });
  }

  /** Whether the run went past its memory limit (the OOM killer struck in its cgroup); frees its cgroups. */
  private releaseCgroup(c: ContainerRuntime): boolean {
    const cgroups = this.deps.cgroups;
    if (!c.cgroup || !cgroups) return false;
    const oomKilled = cgroups.oomKilled(c.cgroup);
    cgroups.remove(c.cgroup);
    c.cgroup = undefined;
    return oomKilled;
  }

  private terminationMessage(c: ContainerRuntime, exitCode: number): string | undefined {
    const fromFile = readCapped(c.termFile, MAX_TERMINATION_MESSAGE);
    if (fromFile) return fromFile;
    if (c.spec.terminationMessagePolicy === 'FallbackToLogsOnError' && exitCode !== 0 && c.logFile) {
      const log = readCapped(c.logFile, 1_000_000) ?? '';
      const tail = log.split('\n').slice(-80).join('\n');
      return tail.slice(-2048) || undefined;
    }
    return undefined;
  }

  private startProbes(c: ContainerRuntime, child: ChildProcess): void {
    const target = c.probeTarget!;
    scheduleProbes(c, {
      alive: () => c.proc === child && !this.stopping,
      later: (ms, fn) => this.later(c, ms, fn),
      run: (probe) => runProbe(probe, target),
      changed: () => this.deps.onChange(),
      unhealthy: (kind, message) =>
        this.deps.events?.warning(this.pod, 'Unhealthy', `${kind} probe failed: ${message}`),
      restart: (reason) => this.killForProbe(c, reason),
    });
  }

  private killForProbe(c: ContainerRuntime, which: string): void {
    if (!c.proc || c.killedForLiveness) return;
    this.deps.events?.normal(this.pod, 'Killing', `Container ${c.name} failed ${which} probe, will be restarted`);
    c.killedForLiveness = true;
    void this.killContainer(c, this.pod.spec?.terminationGracePeriodSeconds ?? 30);
  }

  private async killContainer(c: ContainerRuntime, graceSeconds: number): Promise<void> {
    const proc = c.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      if (c.state.kind === 'waiting' && this.stopping && c.lastTerminated)
        c.state = { kind: 'terminated', terminated: c.lastTerminated };
      return;
    }
    killGroup(proc.pid, 'SIGTERM');
    const timer = setTimeout(() => killGroup(proc.pid, 'SIGKILL'), Math.max(0, graceSeconds) * 1000);
    await c.exited;
    clearTimeout(timer);
  }
}

/**
 * KUBERNETES_SERVICE_HOST/PORT from the `default/kubernetes` Service, which the kubelet gives
 * every pod whatever its enableServiceLinks: how in-cluster clients find the API server.
 */
export function kubernetesServiceEnv(services: KubeObject[]): Record<string, string> {
  const svc = services.find((s) => s.metadata.namespace === 'default' && s.metadata.name === 'kubernetes');
  const port = svc?.spec?.ports?.find((p: any) => p.name === 'https') ?? svc?.spec?.ports?.[0];
  if (!svc?.spec?.clusterIP || !port) return {};
  return {
    KUBERNETES_SERVICE_HOST: svc.spec.clusterIP,
    KUBERNETES_SERVICE_PORT: String(port.port),
    ...(port.name ? { [`KUBERNETES_SERVICE_PORT_${port.name.toUpperCase()}`]: String(port.port) } : {}),
  };
}

let builtSandbox: string | undefined;
function defaultSandbox(): string {
  return (builtSandbox ??= sandboxBinary());
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

function readCapped(path: string, max: number): string | undefined {
  try {
    if (!existsSync(path) || statSync(path).size === 0) return undefined;
    const buf = readFileSync(path);
    return buf.subarray(0, max).toString('utf8');
  } catch {
    return undefined;
  }
}
