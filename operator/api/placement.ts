// Where and as whom the pods the operator creates run: training Jobs, validation Jobs, serving
// and router Deployments all take their pull secrets, ServiceAccount, node selection and pod
// security context from one merge of the operator's workload defaults (Helm value
// workloadDefaults, flag --workload-defaults) with the fields of the resource that asked for the
// pod. Pure, so that every builder gets exactly the same rules.
import type { Affinity, LocalObjectReference, PodSecurityContext, Toleration } from './types.gen.js';

/** The placement fields a resource may set (the same names on every kind). */
export interface PodPlacement {
  imagePullSecrets?: LocalObjectReference[];
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Affinity;
  securityContext?: PodSecurityContext;
}

/** Operator-wide defaults. No ServiceAccount: one name cannot suit every namespace. */
export interface WorkloadDefaults {
  imagePullSecrets?: LocalObjectReference[];
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Affinity;
  podSecurityContext?: PodSecurityContext;
}

/**
 * Defaults when the operator is given none. fsGroup 65532 is the group of the non-root images
 * (serving, trainers): without it a fresh claim is root-owned and a non-root trainer cannot
 * write its artifact.
 */
export const BUILTIN_WORKLOAD_DEFAULTS: WorkloadDefaults = { podSecurityContext: { fsGroup: 65532 } };

/** What the Pod Security Standard "restricted" requires, forced whatever the inputs say. */
const RESTRICTED = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } as const;

/** The pod spec fields a builder spreads into its pod template. */
export interface PodPlacementFields {
  securityContext: PodSecurityContext & { runAsNonRoot: true; seccompProfile: { type: 'RuntimeDefault' } };
  imagePullSecrets?: LocalObjectReference[];
  serviceAccountName?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  affinity?: Affinity;
}

const nonEmpty = <T extends object>(v: T | undefined): v is T => v !== undefined && Object.keys(v).length > 0;

/** Union by name, defaults first: a resource adds registries, it never loses the cluster's. */
function mergePullSecrets(
  defaults: LocalObjectReference[] = [],
  own: LocalObjectReference[] = [],
): LocalObjectReference[] {
  const seen = new Set<string>();
  return [...defaults, ...own].filter((s) => !seen.has(s.name) && seen.add(s.name)).map((s) => ({ name: s.name }));
}

/** Union without duplicates, the resource's first: tolerations only ever widen where a pod may run. */
function mergeTolerations(defaults: Toleration[] = [], own: Toleration[] = []): Toleration[] {
  const seen = new Set<string>();
  const key = (t: Toleration) =>
    JSON.stringify([t.key ?? '', t.operator ?? 'Equal', t.value ?? '', t.effect ?? '', t.tolerationSeconds ?? null]);
  return [...own, ...defaults].filter((t) => !seen.has(key(t)) && seen.add(key(t))).map((t) => ({ ...t }));
}

/**
 * The pod spec fields for `own` over `defaults`, with `base` (what the builder itself needs,
 * e.g. the serving image's UID) underneath both. The resource wins wherever both set the same
 * thing: a nodeSelector key, an affinity kind, a security context field, the ServiceAccount.
 * Pull secrets and tolerations are additive. runAsNonRoot true and seccomp RuntimeDefault are
 * always set, so no input can make a pod fall out of the "restricted" standard.
 */
export function podPlacement(
  own: PodPlacement = {},
  defaults: WorkloadDefaults = BUILTIN_WORKLOAD_DEFAULTS,
  base: PodSecurityContext = {},
): PodPlacementFields {
  const pullSecrets = mergePullSecrets(defaults.imagePullSecrets, own.imagePullSecrets);
  const nodeSelector = { ...(defaults.nodeSelector ?? {}), ...(own.nodeSelector ?? {}) };
  const tolerations = mergeTolerations(defaults.tolerations, own.tolerations);
  const affinity: Affinity = { ...(defaults.affinity ?? {}), ...(own.affinity ?? {}) };
  const securityContext = {
    ...base,
    ...(defaults.podSecurityContext ?? {}),
    ...(own.securityContext ?? {}),
    ...RESTRICTED,
  };
  if (securityContext.supplementalGroups) securityContext.supplementalGroups = [...securityContext.supplementalGroups];
  return {
    securityContext,
    ...(pullSecrets.length ? { imagePullSecrets: pullSecrets } : {}),
    ...(own.serviceAccountName ? { serviceAccountName: own.serviceAccountName } : {}),
    ...(nonEmpty(nodeSelector) ? { nodeSelector } : {}),
    ...(tolerations.length ? { tolerations } : {}),
    ...(nonEmpty(affinity) ? { affinity: structuredClone(affinity) } : {}),
  };
}

export class WorkloadDefaultsError extends Error {
  override name = 'WorkloadDefaultsError';
}

const DEFAULT_KEYS = ['imagePullSecrets', 'nodeSelector', 'tolerations', 'affinity', 'podSecurityContext'];
const SECURITY_INT_KEYS = ['runAsUser', 'runAsGroup', 'fsGroup'];
const SECURITY_KEYS = [...SECURITY_INT_KEYS, 'runAsNonRoot', 'fsGroupChangePolicy', 'supplementalGroups'];
const AFFINITY_KEYS = ['nodeAffinity', 'podAffinity', 'podAntiAffinity'];
const TOLERATION_KEYS = ['key', 'operator', 'value', 'effect', 'tolerationSeconds'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 2147483647;

function fail(path: string, what: string): never {
  throw new WorkloadDefaultsError(`${path} ${what}`);
}

function onlyKeys(v: Record<string, unknown>, allowed: string[], path: string): void {
  for (const k of Object.keys(v))
    if (!allowed.includes(k)) fail(`${path}.${k}`, `is not supported (allowed: ${allowed.join(', ')})`);
}

function checkSecurity(v: unknown, path: string): void {
  if (!isObject(v)) fail(path, 'must be an object');
  onlyKeys(v, SECURITY_KEYS, path);
  for (const k of SECURITY_INT_KEYS)
    if (k in v && !isId(v[k])) fail(`${path}.${k}`, 'must be an integer from 0 to 2147483647');
  if (v.runAsUser === 0) fail(`${path}.runAsUser`, 'must not be 0 (root); pods run as non-root');
  if ('runAsNonRoot' in v && v.runAsNonRoot !== true)
    fail(`${path}.runAsNonRoot`, 'cannot be false; pods run as non-root');
  if ('fsGroupChangePolicy' in v && v.fsGroupChangePolicy !== 'OnRootMismatch' && v.fsGroupChangePolicy !== 'Always') {
    fail(`${path}.fsGroupChangePolicy`, 'must be OnRootMismatch or Always');
  }
  if ('supplementalGroups' in v && !(Array.isArray(v.supplementalGroups) && v.supplementalGroups.every(isId))) {
    fail(`${path}.supplementalGroups`, 'must be a list of integers from 0 to 2147483647');
  }
}

function checkToleration(t: unknown, path: string): void {
  if (!isObject(t)) fail(path, 'must be an object');
  onlyKeys(t, TOLERATION_KEYS, path);
  for (const k of ['key', 'value'] as const)
    if (k in t && typeof t[k] !== 'string') fail(`${path}.${k}`, 'must be a string');
  if ('operator' in t && t.operator !== 'Exists' && t.operator !== 'Equal')
    fail(`${path}.operator`, 'must be Exists or Equal');
  if ('effect' in t && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect as string))
    fail(`${path}.effect`, 'must be NoSchedule, PreferNoSchedule or NoExecute');
  if ('tolerationSeconds' in t && !Number.isInteger(t.tolerationSeconds))
    fail(`${path}.tolerationSeconds`, 'must be an integer');
  if (t.operator === 'Exists' && t.value) fail(path, 'with operator Exists must not set a value');
}

/** Checks a decoded workloadDefaults value; throws WorkloadDefaultsError naming the bad path. */
export function validateWorkloadDefaults(v: unknown): WorkloadDefaults {
  if (!isObject(v)) fail('(root)', 'must be a JSON object');
  onlyKeys(v, DEFAULT_KEYS, '(root)');
  const { imagePullSecrets, nodeSelector, tolerations, affinity, podSecurityContext } = v;
  if (imagePullSecrets !== undefined) {
    if (!Array.isArray(imagePullSecrets)) fail('imagePullSecrets', 'must be a list of {name: ...}');
    imagePullSecrets.forEach((s, i) => {
      if (!isObject(s) || typeof s.name !== 'string' || s.name === '')
        fail(`imagePullSecrets[${i}]`, 'must be {name: <Secret name>}');
    });
  }
  if (nodeSelector !== undefined) {
    if (!isObject(nodeSelector)) fail('nodeSelector', 'must be an object of label key to value');
    for (const [k, val] of Object.entries(nodeSelector))
      if (typeof val !== 'string') fail(`nodeSelector.${k}`, 'must be a string');
  }
  if (tolerations !== undefined) {
    if (!Array.isArray(tolerations)) fail('tolerations', 'must be a list');
    tolerations.forEach((t, i) => checkToleration(t, `tolerations[${i}]`));
  }
  if (affinity !== undefined) {
    if (!isObject(affinity)) fail('affinity', 'must be an object');
    onlyKeys(affinity, AFFINITY_KEYS, 'affinity');
    for (const k of AFFINITY_KEYS)
      if (k in affinity && !isObject(affinity[k])) fail(`affinity.${k}`, 'must be an object');
  }
  if (podSecurityContext !== undefined) checkSecurity(podSecurityContext, 'podSecurityContext');
  return v as WorkloadDefaults;
}

/** Parses the JSON of --workload-defaults. */
export function parseWorkloadDefaults(text: string): WorkloadDefaults {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new WorkloadDefaultsError(`not valid JSON (${(e as Error).message})`);
  }
  return validateWorkloadDefaults(v);
}
