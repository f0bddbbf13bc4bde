// Built-in kinds validated against the upstream Kubernetes OpenAPI schemas shipped (as precompiled
// ajv validators) by the kubernetes-models package; errors are reworded as kube-apiserver words them.
import { createRequire } from 'node:module';
import { notSupported, required, typeInvalid, invalid, type FieldError } from './errors.js';
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isPathSegmentName,
  validateLabelsAndAnnotations,
  validateObjectMetaName,
} from './names.js';
import { jsonTypeOf } from './types.js';
import { validateBuiltinSemantics } from './builtin-semantics.js';

const require = createRequire(import.meta.url);

/** "<apiVersion>/<kind>" → module path inside kubernetes-models. */
const MODELS: Record<string, string> = {
  'v1/Namespace': 'v1/Namespace',
  'v1/Pod': 'v1/Pod',
  'v1/Service': 'v1/Service',
  'v1/Endpoints': 'v1/Endpoints',
  'v1/ConfigMap': 'v1/ConfigMap',
  'v1/Secret': 'v1/Secret',
  'v1/ServiceAccount': 'v1/ServiceAccount',
  'v1/Event': 'v1/Event',
  'v1/PersistentVolumeClaim': 'v1/PersistentVolumeClaim',
  'v1/PersistentVolume': 'v1/PersistentVolume',
  'v1/Node': 'v1/Node',
  'v1/LimitRange': 'v1/LimitRange',
  'v1/ResourceQuota': 'v1/ResourceQuota',
  'apps/v1/Deployment': 'apps/v1/Deployment',
  'apps/v1/ReplicaSet': 'apps/v1/ReplicaSet',
  'apps/v1/StatefulSet': 'apps/v1/StatefulSet',
  'apps/v1/DaemonSet': 'apps/v1/DaemonSet',
  'apps/v1/ControllerRevision': 'apps/v1/ControllerRevision',
  'batch/v1/Job': 'batch/v1/Job',
  'batch/v1/CronJob': 'batch/v1/CronJob',
  'coordination.k8s.io/v1/Lease': 'coordination.k8s.io/v1/Lease',
  'events.k8s.io/v1/Event': 'events.k8s.io/v1/Event',
  'discovery.k8s.io/v1/EndpointSlice': 'discovery.k8s.io/v1/EndpointSlice',
  'rbac.authorization.k8s.io/v1/Role': 'rbac.authorization.k8s.io/v1/Role',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'rbac.authorization.k8s.io/v1/RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'rbac.authorization.k8s.io/v1/ClusterRole',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'rbac.authorization.k8s.io/v1/ClusterRoleBinding',
  'apiextensions.k8s.io/v1/CustomResourceDefinition': 'apiextensions.k8s.io/v1/CustomResourceDefinition',
  'networking.k8s.io/v1/Ingress': 'networking.k8s.io/v1/Ingress',
  'networking.k8s.io/v1/NetworkPolicy': 'networking.k8s.io/v1/NetworkPolicy',
  'policy/v1/PodDisruptionBudget': 'policy/v1/PodDisruptionBudget',
  'autoscaling/v2/HorizontalPodAutoscaler': 'autoscaling/v2/HorizontalPodAutoscaler',
  'autoscaling/v1/HorizontalPodAutoscaler': 'autoscaling/v1/HorizontalPodAutoscaler',
  'scheduling.k8s.io/v1/PriorityClass': 'scheduling.k8s.io/v1/PriorityClass',
  'storage.k8s.io/v1/StorageClass': 'storage.k8s.io/v1/StorageClass',
};

/** Kinds whose names are not DNS subdomains (ValidateNamespaceName, ValidateServiceName, ValidateRBACName). */
const NAME_RULES: Record<string, (name: string) => string[]> = {
  'v1/Namespace': isDNS1123Label,
  'v1/Service': isDNS1035Label,
  'rbac.authorization.k8s.io/v1/Role': isPathSegmentName,
  'rbac.authorization.k8s.io/v1/ClusterRole': isPathSegmentName,
  'rbac.authorization.k8s.io/v1/RoleBinding': isPathSegmentName,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': isPathSegmentName,
};

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, any>;
  message?: string;
}

type ModelCtor = new (data: unknown) => { validate(): void };
const loaded = new Map<string, ModelCtor | null>();

function modelFor(apiVersion: string, kind: string): ModelCtor | null {
  const key = `${apiVersion}/${kind}`;
  if (loaded.has(key)) return loaded.get(key)!;
  const path = MODELS[key];
  let ctor: ModelCtor | null = null;
  if (path) {
    // lazily: each model pulls in large generated validators; load only the kinds actually written
    const mod = require(`kubernetes-models/${path}`) as Record<string, ModelCtor>;
    ctor = mod[kind] ?? null;
  }
  loaded.set(key, ctor);
  return ctor;
}

export function isKnownBuiltin(apiVersion: string, kind: string): boolean {
  return `${apiVersion}/${kind}` in MODELS;
}

/**
 * Validates a built-in object against its upstream schema, ObjectMeta name rules and the Go
 * validation's semantic checks the schema lacks (builtin-semantics.ts). Unknown
 * kinds return no errors (nothing to check against). Type errors are reported like CRD schema
 * errors; a real server fails those earlier, while decoding, with a 400 that names the same field.
 */
export function validateBuiltin(apiVersion: string, kind: string, obj: unknown): FieldError[] {
  const errs: FieldError[] = [];
  const key = `${apiVersion}/${kind}`;
  const meta = (obj as any)?.metadata;
  errs.push(
    ...validateObjectMetaName(meta, NAME_RULES[key] ?? isDNS1123Subdomain),
    ...validateLabelsAndAnnotations(meta),
  );
  const Model = modelFor(apiVersion, kind);
  if (!Model) return errs;
  try {
    new Model(withoutNulls(obj)).validate();
  } catch (err) {
    const list = (err as { errors?: AjvError[] }).errors;
    if (!Array.isArray(list)) throw new Error(`validating ${key}: ${(err as Error).message}`, { cause: err });
    errs.push(...toFieldErrors(list, obj));
  }
  errs.push(...validateBuiltinSemantics(apiVersion, kind, obj));
  return dedupe(errs);
}

/** `null` means "unset" to the Go decoder (e.g. kubectl's `creationTimestamp: null`). */
function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== null) out[k] = withoutNulls(x);
    return out;
  }
  return v;
}

function toFieldErrors(list: AjvError[], obj: unknown): FieldError[] {
  const out: FieldError[] = [];
  for (const e of list) {
    const { path, value } = resolve(obj, e.instancePath);
    switch (e.keyword) {
      case 'required':
        out.push(required(path ? `${path}.${e.params.missingProperty}` : String(e.params.missingProperty)));
        break;
      case 'type': {
        const expected = Array.isArray(e.params.type)
          ? e.params.type.filter((t: string) => t !== 'null').join(',')
          : e.params.type;
        const actual = jsonTypeOf(value);
        out.push(typeInvalid(path, actual, `${path} in body must be of type ${expected}: ${JSON.stringify(actual)}`));
        break;
      }
      case 'enum':
        out.push(
          notSupported(
            path,
            value,
            (e.params.allowedValues ?? []).map((x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x))),
          ),
        );
        break;
      case 'format':
        out.push(
          typeInvalid(path, value, `${path} in body must be of type ${e.params.format}: ${JSON.stringify(value)}`),
        );
        break;
      default:
        out.push(invalid(path, value, `${path} in body ${e.message ?? e.keyword}`));
    }
  }
  return out;
}

/** ajv's "/spec/containers/0/name" → field path "spec.containers[0].name", with the value found there. */
function resolve(obj: unknown, pointer: string): { path: string; value: unknown } {
  let path = '';
  let cur: any = obj;
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) {
      path += `[${seg}]`;
      cur = cur[Number(seg)];
    } else {
      path = path ? `${path}.${seg}` : seg;
      cur = cur?.[seg];
    }
  }
  return { path, value: cur };
}

function dedupe(errs: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errs.filter((e) => {
    const k = `${e.field}\u0000${e.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
