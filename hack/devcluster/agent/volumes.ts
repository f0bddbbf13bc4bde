// Pod volumes as host folders under the dev cluster's data dir, never touching "/":
//   persistentVolumeClaim → <dataDir>/volumes/pvc/<namespace>/<claimName>/
//   emptyDir              → <dataDir>/pods/<podUid>/<volumeName>/
//   secret / configMap / projected → files written into <dataDir>/pods/<podUid>/<volumeName>/
//   hostPath              → the host path itself (it is the host already)
// Permissions follow the kubelet: an emptyDir is created 0777; a fresh claim is owned by root,
// 0755, like a newly formatted block volume, so a non-root container can write it only through
// fsGroup, which (as the kubelet's SetVolumeOwnership) gives every file the group and g+rw, and
// folders g+rwx with setgid, for every volume kind but hostPath.
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { KubeObject } from './kube-client.js';
import { ContainerConfigError } from './container-spec.js';

export interface VolumeLookups {
  secrets: (namespace: string, name: string) => KubeObject | undefined;
  configMaps: (namespace: string, name: string) => KubeObject | undefined;
  /** Tokens fetched for the pod's serviceAccountToken sources, by tokenKey(volume, path). */
  tokens?: Map<string, string>;
}

/** A projected serviceAccountToken source of a pod volume, with the key its token is kept under. */
export interface TokenSource {
  key: string;
  audience?: string;
  expirationSeconds: number;
}

export const tokenKey = (volume: string, path: string): string => `${volume}/${path}`;

/** The serviceAccountToken sources of a pod's projected volumes (the kubelet's token manager requests each). */
export function tokenSources(pod: KubeObject): TokenSource[] {
  const out: TokenSource[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    for (const src of v.projected?.sources ?? []) {
      const t = src.serviceAccountToken;
      if (t)
        out.push({
          key: tokenKey(v.name, t.path ?? 'token'),
          ...(t.audience ? { audience: t.audience } : {}),
          expirationSeconds: t.expirationSeconds ?? 3600,
        });
    }
  }
  return out;
}

export function podDir(dataDir: string, pod: KubeObject): string {
  return join(dataDir, 'pods', pod.metadata.uid ?? pod.metadata.name);
}

export function pvcDir(dataDir: string, namespace: string, claim: string): string {
  return join(dataDir, 'volumes', 'pvc', namespace, claim);
}

/** Host folder for each volume of the pod (pure). */
export function volumeHostDirs(pod: KubeObject, dataDir: string): Map<string, string> {
  const dirs = new Map<string, string>();
  const ns = pod.metadata.namespace ?? 'default';
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim) dirs.set(v.name, pvcDir(dataDir, ns, v.persistentVolumeClaim.claimName));
    else if (v.hostPath) dirs.set(v.name, v.hostPath.path);
    else dirs.set(v.name, join(podDir(dataDir, pod), v.name));
  }
  return dirs;
}

type FileMap = Map<string, Buffer>;

function keyedFiles(
  data: Record<string, Buffer>,
  items: { key: string; path: string }[] | undefined,
  what: string,
  optional: boolean,
): FileMap {
  const files: FileMap = new Map();
  if (!items || items.length === 0) {
    for (const [k, v] of Object.entries(data)) files.set(k, v);
    return files;
  }
  for (const item of items) {
    const v = data[item.key];
    if (v === undefined) {
      if (optional) continue;
      throw new ContainerConfigError(`couldn't find key ${item.key} in ${what}`);
    }
    files.set(item.path, v);
  }
  return files;
}

function secretData(secret: KubeObject): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = Buffer.from(String(v));
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(String(v), 'base64');
  return out;
}

function configMapData(cm: KubeObject): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(String(v), 'base64');
  for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(String(v));
  return out;
}

function sourceFiles(src: any, pod: KubeObject, lookups: VolumeLookups, volume: string): FileMap {
  const ns = pod.metadata.namespace ?? 'default';
  if (src.secret) {
    const name = src.secret.secretName ?? src.secret.name;
    const secret = lookups.secrets(ns, name);
    if (!secret) {
      if (src.secret.optional) return new Map();
      throw new ContainerConfigError(`secret "${name}" not found`);
    }
    return keyedFiles(secretData(secret), src.secret.items, `Secret ${ns}/${name}`, !!src.secret.optional);
  }
  if (src.configMap) {
    const name = src.configMap.name;
    const cm = lookups.configMaps(ns, name);
    if (!cm) {
      if (src.configMap.optional) return new Map();
      throw new ContainerConfigError(`configmap "${name}" not found`);
    }
    return keyedFiles(configMapData(cm), src.configMap.items, `ConfigMap ${ns}/${name}`, !!src.configMap.optional);
  }
  if (src.serviceAccountToken) {
    const path = src.serviceAccountToken.path ?? 'token';
    const token = lookups.tokens?.get(tokenKey(volume, path));
    if (token === undefined)
      throw new ContainerConfigError(`volume "${volume}": no service account token fetched for ${path}`);
    return new Map([[path, Buffer.from(token)]]);
  }
  if (src.downwardAPI) {
    const files: FileMap = new Map();
    for (const item of src.downwardAPI.items ?? []) {
      const fp = item.fieldRef?.fieldPath;
      if (fp === 'metadata.name') files.set(item.path, Buffer.from(pod.metadata.name));
      else if (fp === 'metadata.namespace') files.set(item.path, Buffer.from(ns));
      else if (fp === 'metadata.labels')
        files.set(
          item.path,
          Buffer.from(
            Object.entries(pod.metadata.labels ?? {})
              .map(([k, v]) => `${k}="${v}"`)
              .join('\n'),
          ),
        );
      else if (fp === 'metadata.annotations')
        files.set(
          item.path,
          Buffer.from(
            Object.entries(pod.metadata.annotations ?? {})
              .map(([k, v]) => `${k}="${v}"`)
              .join('\n'),
          ),
        );
    }
    return files;
  }
  return new Map();
}

/** The kubelet's fsGroup ownership change, skipped under OnRootMismatch when the root already matches. */
export function applyFsGroup(dir: string, gid: number, policy: string | undefined): void {
  const root = lstatSync(dir);
  const wanted = 0o2770;
  if (policy === 'OnRootMismatch' && root.gid === gid && (root.mode & wanted) === wanted) return;
  const walk = (path: string) => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    chownSync(path, st.uid, gid);
    chmodSync(path, (st.mode & 0o7777) | (st.isDirectory() ? wanted : 0o660));
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
}

/**
 * Creates the missing subPath folders of a container's mounts as the kubelet does before it
 * starts the container: with the volume root's mode and owner, so that a group-writable
 * (fsGroup) volume keeps its subfolders group-writable.
 */
export function createSubPaths(container: any, hostDirs: Map<string, string>): void {
  for (const m of container.volumeMounts ?? []) {
    const dir = hostDirs.get(m.name);
    if (!m.subPath || !dir) continue;
    const target = resolve(dir, m.subPath);
    if (target !== resolve(dir) && !target.startsWith(resolve(dir) + '/'))
      throw new ContainerConfigError(`volumeMount "${m.name}": subPath "${m.subPath}" escapes the volume`);
    if (existsSync(target)) continue;
    const root = lstatSync(dir);
    mkdirSync(target, { recursive: true });
    chownSync(target, root.uid, root.gid);
    chmodSync(target, root.mode & 0o7777);
  }
}

/** Creates the pod's volume folders and writes Secret/ConfigMap/projected files (I/O). */
export function materializeVolumes(pod: KubeObject, dataDir: string, lookups: VolumeLookups): Map<string, string> {
  const dirs = volumeHostDirs(pod, dataDir);
  const fsGroup: number | undefined = pod.spec?.securityContext?.fsGroup;
  for (const v of pod.spec?.volumes ?? []) {
    const dir = dirs.get(v.name)!;
    if (v.hostPath) continue;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    if (v.emptyDir) chmodSync(dir, 0o777);
    let files: FileMap = new Map();
    if (v.secret || v.configMap || v.downwardAPI) files = sourceFiles(v, pod, lookups, v.name);
    else if (v.projected)
      for (const src of v.projected.sources ?? [])
        for (const [p, b] of sourceFiles(src, pod, lookups, v.name)) files.set(p, b);
    for (const [rel, content] of files) {
      const target = resolve(dir, rel);
      if (!target.startsWith(resolve(dir) + '/'))
        throw new ContainerConfigError(`volume "${v.name}": item path "${rel}" escapes the volume`);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    if (fsGroup !== undefined) applyFsGroup(dir, fsGroup, pod.spec?.securityContext?.fsGroupChangePolicy);
  }
  return dirs;
}
