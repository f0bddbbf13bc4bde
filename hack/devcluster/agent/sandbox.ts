// A container's filesystem and identity, as a container runtime would set them up, computed
// purely from the pod, the container and its image; the sandbox binary (sandbox.c) carries the
// plan out inside a private mount namespace. What a program sees:
//   - a fresh root filesystem (tmpfs) with the image's folders as copy-on-write layers: the
//     host's /usr, /etc, /opt and the lib/bin links (the "base image"), the repository at /app
//     (the image's content, where the Dockerfiles put it); writes stay in the container, as in
//     an image's writable layer; a private /tmp and /var/tmp, a minimal /dev, /proc and /sys;
//   - every volume at its mountPath (read-only where the mount or the volume kind says so),
//     the termination message file at terminationMessagePath;
//   - the root read-only with readOnlyRootFilesystem;
//   - runAsUser/runAsGroup (container, then pod, then the image's user), fsGroup and
//     supplementalGroups as supplementary groups;
//   - runAsNonRoot refused for UID 0 (or an image user that cannot be verified) with the
//     kubelet's CreateContainerConfigError messages.
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ContainerConfigError } from './container-spec.js';

export interface Bind {
  source: string;
  target: string;
  readOnly: boolean;
}

export interface Layer {
  source: string;
  target: string;
}

/** Where the image's content (the repository) is in every container, as WORKDIR /app in the Dockerfiles. */
export const IMAGE_ROOT = '/app';

export interface SandboxPlan {
  root: string;
  layers: Layer[];
  binds: Bind[];
  links: Array<{ target: string; path: string }>;
  readOnlyRoot: boolean;
  uid: number;
  gid: number;
  groups: number[];
  workdir: string;
}

export interface Identity {
  uid: number;
  gid: number;
  groups: number[];
}

/** An image's default user ("65532", "65532:65532", "root"); unset means root, as in Docker. */
export interface ImageUser {
  user?: string;
}

function parseImageUser(user: string | undefined): { uid?: number; gid?: number; name?: string } {
  if (!user) return { uid: 0, gid: 0 };
  const [u, g] = user.split(':');
  const uid = /^\d+$/.test(u) ? Number(u) : u === 'root' ? 0 : undefined;
  const gid = g === undefined ? uid : /^\d+$/.test(g) ? Number(g) : undefined;
  return uid === undefined ? { name: u } : { uid, gid: gid ?? uid };
}

/**
 * The process identity, or the kubelet's refusal (CreateContainerConfigError) when runAsNonRoot
 * is set and the user is root or cannot be verified (a non-numeric image user).
 */
export function containerIdentity(pod: any, container: any, image: ImageUser): Identity {
  const podSc = pod.spec?.securityContext ?? {};
  const sc = container.securityContext ?? {};
  const fromImage = parseImageUser(image.user);
  const runAsUser: number | undefined = sc.runAsUser ?? podSc.runAsUser;
  const runAsNonRoot: boolean | undefined = sc.runAsNonRoot ?? podSc.runAsNonRoot;
  const where = `pod: "${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})", container: ${container.name}`;
  if (runAsNonRoot) {
    if (runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy (${where})`);
    if (runAsUser === undefined && fromImage.uid === undefined) {
      throw new ContainerConfigError(
        `container has runAsNonRoot and image has non-numeric user (${fromImage.name}), cannot verify user is non-root (${where})`,
      );
    }
    if (runAsUser === undefined && fromImage.uid === 0)
      throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (${where})`);
  }
  const uid = runAsUser ?? fromImage.uid ?? 0;
  // Without runAsGroup the runtime takes the user's group from the image when it is the image's user.
  const gid: number =
    sc.runAsGroup ??
    podSc.runAsGroup ??
    (runAsUser === undefined || runAsUser === fromImage.uid ? (fromImage.gid ?? 0) : 0);
  const groups = [
    ...new Set<number>([...(podSc.fsGroup !== undefined ? [podSc.fsGroup] : []), ...(podSc.supplementalGroups ?? [])]),
  ];
  return { uid, gid, groups };
}

// Volume kinds the kubelet always mounts read-only.
const READ_ONLY_SOURCES = ['secret', 'configMap', 'downwardAPI', 'projected'];

/** The volume mounts of a container as binds of their host folders. */
export function volumeBinds(pod: any, container: any, hostDirs: Map<string, string>): Bind[] {
  const volumes = new Map<string, any>((pod.spec?.volumes ?? []).map((v: any) => [v.name, v]));
  return (container.volumeMounts ?? []).map((m: any) => {
    const dir = hostDirs.get(m.name);
    const volume = volumes.get(m.name);
    if (!dir || !volume) throw new ContainerConfigError(`volumeMount "${m.name}" refers to no volume of the pod`);
    const readOnly =
      m.readOnly === true ||
      READ_ONLY_SOURCES.some((k) => volume[k] !== undefined) ||
      volume.persistentVolumeClaim?.readOnly === true;
    return { source: m.subPath ? join(dir, m.subPath) : dir, target: m.mountPath, readOnly };
  });
}

export interface BaseImage {
  layers: Layer[];
  links: Array<{ target: string; path: string }>;
}

/** The host's system folders as the base image: merged-/usr links recreated as links, real folders as layers. */
export function baseImage(host: (path: string) => { link?: string; dir?: boolean } = statHost): BaseImage {
  const layers: Layer[] = [
    { source: '/usr', target: '/usr' },
    { source: '/etc', target: '/etc' },
  ];
  const links: Array<{ target: string; path: string }> = [];
  for (const path of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32', '/opt']) {
    const st = host(path);
    if (st.link) links.push({ target: st.link, path });
    else if (st.dir) layers.push({ source: path, target: path });
  }
  return { layers, links };
}

function statHost(path: string): { link?: string; dir?: boolean } {
  if (!existsSync(path)) return {};
  const st = lstatSync(path);
  return st.isSymbolicLink() ? { link: readlinkSync(path) } : { dir: st.isDirectory() };
}

export interface PlanInput {
  pod: any;
  container: any;
  image: ImageUser;
  /** Empty host folder the root filesystem is assembled on. */
  root: string;
  /** The image's content: the repository, at IMAGE_ROOT. */
  repoRoot: string;
  /** Host folder of each pod volume. */
  hostDirs: Map<string, string>;
  /** Host file behind terminationMessagePath. */
  terminationFile: string;
  /** Further host files the dev cluster's own shims read (the Service hosts map), read-only. */
  extraFiles: Array<{ source: string; target: string }>;
  /** The image's working directory when the container sets none. */
  imageWorkdir: string;
  base?: BaseImage;
}

export function sandboxPlan(input: PlanInput): SandboxPlan {
  const { container } = input;
  const id = containerIdentity(input.pod, container, input.image);
  const base = input.base ?? baseImage();
  return {
    root: input.root,
    layers: [...base.layers, { source: input.repoRoot, target: IMAGE_ROOT }],
    binds: [
      ...input.extraFiles.map((f) => ({ ...f, readOnly: true })),
      ...volumeBinds(input.pod, container, input.hostDirs),
      {
        source: input.terminationFile,
        target: container.terminationMessagePath ?? '/dev/termination-log',
        readOnly: false,
      },
    ],
    links: base.links,
    readOnlyRoot: container.securityContext?.readOnlyRootFilesystem === true,
    ...id,
    workdir: container.workingDir ?? input.imageWorkdir,
  };
}

/** The sandbox binary's command line for a plan and the container's argv. */
export function sandboxArgv(binary: string, plan: SandboxPlan, argv: string[], cgroups: string[] = []): string[] {
  return [
    binary,
    '--root',
    plan.root,
    ...plan.layers.flatMap((l) => ['--layer', l.source, l.target]),
    ...plan.links.flatMap((l) => ['--link', l.target, l.path]),
    ...plan.binds.flatMap((b) => ['--bind', b.source, b.target, b.readOnly ? 'ro' : 'rw']),
    ...(plan.readOnlyRoot ? ['--read-only-root'] : []),
    '--user',
    String(plan.uid),
    '--group',
    String(plan.gid),
    ...(plan.groups.length ? ['--groups', plan.groups.join(',')] : []),
    '--workdir',
    plan.workdir,
    ...cgroups.flatMap((dir) => ['--cgroup', dir]),
    '--',
    ...argv,
  ];
}

/**
 * Command-line prefix that runs a command inside a running container (its mount namespace, root
 * and working directory, as its user): how exec probes run, as `kubectl exec` would.
 */
export function execInContainer(pid: number | undefined, plan: Pick<SandboxPlan, 'uid' | 'gid' | 'groups'>): string[] {
  return [
    '/usr/bin/nsenter',
    `--target=${pid ?? 0}`,
    '--mount',
    '--root',
    '--wd',
    '--',
    '/usr/bin/setpriv',
    `--reuid=${plan.uid}`,
    `--regid=${plan.gid}`,
    ...(plan.groups.length ? [`--groups=${plan.groups.join(',')}`] : ['--clear-groups']),
    '--',
  ];
}
