// Pure translation of a Pod's container environment: literal values, downward API,
// Secret/ConfigMap references, envFrom and $(VAR) expansion. Paths need no translation: each
// container runs in its own root filesystem with its volumes at their mountPaths (sandbox.ts).
import type { KubeObject } from './kube-client.js';

export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** Kubernetes $(VAR) expansion: defined names are substituted, "$$" escapes, others stay. */
export function expandVars(value: string, vars: Map<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (all, name: string | undefined) => {
    if (all === '$$') return '$';
    return name !== undefined && vars.has(name) ? vars.get(name)! : all;
  });
}

export interface EnvSources {
  pod: KubeObject;
  podIP: string;
  secrets: (namespace: string, name: string) => KubeObject | undefined;
  configMaps: (namespace: string, name: string) => KubeObject | undefined;
}

/** Value of a downward-API fieldRef, e.g. "metadata.labels['app']". */
export function fieldRefValue(pod: KubeObject, podIP: string, fieldPath: string): string {
  const m = /^metadata\.(labels|annotations)\[['"]?(.+?)['"]?\]$/.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? 'devcluster';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? 'default';
    case 'status.podIP':
      return podIP;
    case 'status.podIPs':
      return podIP;
    case 'status.hostIP':
      return '127.0.0.1';
    case 'status.hostIPs':
      return '127.0.0.1';
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath "${fieldPath}"`);
  }
}

function decodeSecret(secret: KubeObject, key: string): string | undefined {
  if (secret.data?.[key] !== undefined) return Buffer.from(secret.data[key], 'base64').toString('utf8');
  return secret.stringData?.[key];
}

function configMapValue(cm: KubeObject, key: string): string | undefined {
  if (cm.data?.[key] !== undefined) return cm.data[key];
  if (cm.binaryData?.[key] !== undefined) return Buffer.from(cm.binaryData[key], 'base64').toString('utf8');
  return undefined;
}

/**
 * The container's environment in Kubernetes order: `base` (service links) first, then envFrom,
 * then env (later entries win),
 * each value $(VAR)-expanded against what came before. Throws ContainerConfigError when a
 * required Secret/ConfigMap (or key) is missing, as the kubelet reports CreateContainerConfigError.
 */
export function containerEnv(
  container: any,
  sources: EnvSources,
  base: Map<string, string> = new Map(),
): Map<string, string> {
  const ns = sources.pod.metadata.namespace ?? 'default';
  const env = new Map<string, string>(base);
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = sources.configMaps(ns, from.configMapRef.name);
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const key of Object.keys({ ...(cm.data ?? {}), ...(cm.binaryData ?? {}) }))
        env.set(prefix + key, configMapValue(cm, key) ?? '');
    }
    if (from.secretRef) {
      const secret = sources.secrets(ns, from.secretRef.name);
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const key of Object.keys({ ...(secret.data ?? {}), ...(secret.stringData ?? {}) }))
        env.set(prefix + key, decodeSecret(secret, key) ?? '');
    }
  }
  for (const e of container.env ?? []) {
    const value = envValue(e, container, sources, ns, env);
    if (value !== undefined) env.set(e.name, value);
  }
  return env;
}

function envValue(
  e: any,
  container: any,
  sources: EnvSources,
  ns: string,
  defined: Map<string, string>,
): string | undefined {
  if (!e.valueFrom) return expandVars(String(e.value ?? ''), defined);
  const vf = e.valueFrom;
  if (vf.fieldRef) return fieldRefValue(sources.pod, sources.podIP, vf.fieldRef.fieldPath);
  if (vf.resourceFieldRef) return resourceFieldValue(container, vf.resourceFieldRef);
  if (vf.secretKeyRef) {
    const secret = sources.secrets(ns, vf.secretKeyRef.name);
    const value = secret ? decodeSecret(secret, vf.secretKeyRef.key) : undefined;
    if (value === undefined) {
      if (vf.secretKeyRef.optional) return undefined;
      throw new ContainerConfigError(
        secret
          ? `couldn't find key ${vf.secretKeyRef.key} in Secret ${ns}/${vf.secretKeyRef.name}`
          : `secret "${vf.secretKeyRef.name}" not found`,
      );
    }
    return value;
  }
  if (vf.configMapKeyRef) {
    const cm = sources.configMaps(ns, vf.configMapKeyRef.name);
    const value = cm ? configMapValue(cm, vf.configMapKeyRef.key) : undefined;
    if (value === undefined) {
      if (vf.configMapKeyRef.optional) return undefined;
      throw new ContainerConfigError(
        cm
          ? `couldn't find key ${vf.configMapKeyRef.key} in ConfigMap ${ns}/${vf.configMapKeyRef.name}`
          : `configmap "${vf.configMapKeyRef.name}" not found`,
      );
    }
    return value;
  }
  return '';
}

/** A Kubernetes quantity ("1Gi", "250m", "1e3", "2") as a number; undefined when malformed. */
export function quantityValue(quantity: string | number): number | undefined {
  if (typeof quantity === 'number') return quantity;
  const m = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:([eE][+-]?\d+)|(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(
    quantity.trim(),
  );
  if (!m) return undefined;
  const suffix: Record<string, number> = {
    m: 1e-3,
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
  return Number(m[1]) * (m[2] ? Number(`1${m[2]}`) : m[3] ? suffix[m[3]] : 1);
}

/**
 * As the kubelet: the limit (node allocatable when unset), divided by `divisor` (default 1) and
 * rounded up to an integer, so "1Gi" reads "1073741824" and a cpu limit of "250m" reads "1".
 */
function resourceFieldValue(container: any, ref: any): string {
  const [kind, resource] = String(ref.resource ?? '').split('.');
  const set = container.resources?.[kind]?.[resource];
  // Node allocatable stands in for unset limits, as on a real node.
  const value = set !== undefined ? quantityValue(set) : resource === 'cpu' ? 2 : 8 * 1024 ** 3;
  const divisor = ref.divisor !== undefined ? quantityValue(ref.divisor) : 1;
  if (value === undefined || !divisor)
    throw new ContainerConfigError(`resourceFieldRef ${ref.resource}: cannot read quantity ${set} / ${ref.divisor}`);
  return String(Math.ceil(value / divisor));
}
