// kube-apiserver's ServiceAccount admission plugin, on Pod create: the pod runs as a
// ServiceAccount that exists (`default` unless it names one), and unless
// automountServiceAccountToken is false (the pod's setting wins over the ServiceAccount's) it
// gets the projected `kube-api-access-<random>` volume (a bound token, the cluster CA and the
// namespace) mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every
// container and init container that does not already mount something there.
import { randomBytes } from 'node:crypto';
import { errors } from './errors.js';
import type { KObject } from './registry.js';
import { WARN_ONLY_EXPIRATION_SECONDS } from './tokens.js';

export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const VOLUME_PREFIX = 'kube-api-access-';
/** Upstream's utilrand alphabet: no vowels, no confusable digits. */
const RAND_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export function randomVolumeName(): string {
  return VOLUME_PREFIX + [...randomBytes(5)].map((b) => RAND_CHARS[b % RAND_CHARS.length]).join('');
}

/** The projected volume the plugin adds (TokenVolumeSource, with its explicit defaultMode). */
export function apiAccessVolume(name: string): KObject {
  return {
    name,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: WARN_ONLY_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
      defaultMode: 420,
    },
  };
}

export function shouldAutomount(pod: KObject, sa: KObject): boolean {
  if (typeof pod.spec?.automountServiceAccountToken === 'boolean') return pod.spec.automountServiceAccountToken;
  if (typeof sa.automountServiceAccountToken === 'boolean') return sa.automountServiceAccountToken;
  return true;
}

/**
 * Admits a new Pod in place. `requestName` is the name the request carried ("" for
 * generateName), which is what the plugin's 403 names; `serviceAccount` looks one up.
 */
export function admitPodServiceAccount(
  pod: KObject,
  requestName: string,
  serviceAccount: (name: string) => KObject | undefined,
  volumeName = randomVolumeName(),
): void {
  // Mirror pods (static pods reported by a kubelet) are exempt and may not name one.
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
  const spec = (pod.spec ??= {});
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || 'default';
  spec.serviceAccount = spec.serviceAccountName;
  const ns = pod.metadata.namespace;
  const sa = serviceAccount(spec.serviceAccountName);
  if (!sa) {
    throw errors.forbidden(
      { group: '', resource: 'pods' },
      requestName,
      `error looking up service account ${ns}/${spec.serviceAccountName}: serviceaccount "${spec.serviceAccountName}" not found`,
    );
  }
  if (!shouldAutomount(pod, sa)) return;
  mountApiAccess(spec, volumeName);
}

/** mountServiceAccountToken: reuses an existing kube-api-access-* volume, mounts it where nothing is mounted at the path. */
function mountApiAccess(spec: KObject, volumeName: string): void {
  const existing = (spec.volumes ?? []).find((v: KObject) => String(v.name).startsWith(VOLUME_PREFIX));
  const name = existing?.name ?? volumeName;
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    if ((c.volumeMounts ?? []).some((m: KObject) => m.mountPath === TOKEN_MOUNT_PATH)) continue;
    c.volumeMounts = [...(c.volumeMounts ?? []), { name, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
    needed = true;
  }
  if (needed && !existing) spec.volumes = [...(spec.volumes ?? []), apiAccessVolume(name)];
}
