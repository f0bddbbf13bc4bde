// Semantic checks that kube-apiserver makes in its Go validation (pkg/apis/*/validation) and that
// the upstream OpenAPI schemas cannot express (they carry no `minimum` nor label syntax): without
// them `kubectl apply` of a Deployment with `replicas: -1` would be accepted here and refused on a
// real cluster. Only the kinds and fields the product writes; wording as Kubernetes 1.31 words it.
import { invalid, required, type FieldError } from './errors.js';
import { isQualifiedName, validateLabels } from './names.js';
import { isPlainObject } from './types.js';

/** apimachinery's isNegativeErrorMsg (ValidateNonnegativeField). */
export const NEGATIVE_MSG = 'must be greater than or equal to 0';
/** apimachinery's validation.IsValidPortNum. */
export const PORT_RANGE_MSG = 'must be between 1 and 65535, inclusive';

type Check = (obj: Record<string, unknown>) => FieldError[];

/** "<apiVersion>/<kind>" → the checks its Go validation makes beyond the schema. */
const CHECKS: Record<string, Check[]> = {
  'v1/Pod': [podSpecAt('spec')],
  'v1/Service': [servicePorts, (o) => validateLabels(at(o, 'spec.selector'), 'spec.selector')],
  'apps/v1/Deployment': [
    nonNegative('spec.replicas', 'spec.minReadySeconds', 'spec.revisionHistoryLimit'),
    ...workload('spec'),
  ],
  'apps/v1/ReplicaSet': [nonNegative('spec.replicas', 'spec.minReadySeconds'), ...workload('spec')],
  'apps/v1/StatefulSet': [
    nonNegative('spec.replicas', 'spec.minReadySeconds', 'spec.revisionHistoryLimit'),
    ...workload('spec'),
  ],
  'batch/v1/Job': [nonNegative('spec.parallelism', 'spec.completions', 'spec.backoffLimit'), ...workload('spec')],
  'batch/v1/CronJob': [
    nonNegative(
      'spec.jobTemplate.spec.parallelism',
      'spec.jobTemplate.spec.completions',
      'spec.jobTemplate.spec.backoffLimit',
    ),
    ...workload('spec.jobTemplate.spec'),
  ],
};

export function validateBuiltinSemantics(apiVersion: string, kind: string, obj: unknown): FieldError[] {
  const checks = CHECKS[`${apiVersion}/${kind}`];
  if (!checks || !isPlainObject(obj)) return [];
  return checks.flatMap((check) => check(obj));
}

/** The value at a dotted path, or undefined where any step is missing. */
function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Fields of the wrong type are left to the schema check, which already names them. */
function nonNegative(...paths: string[]): Check {
  return (obj) =>
    paths.flatMap((p) => {
      const v = at(obj, p);
      return typeof v === 'number' && v < 0 ? [invalid(p, v, NEGATIVE_MSG)] : [];
    });
}

/** Selector and pod template of a controller (its spec at `specPath`). */
function workload(specPath: string): Check[] {
  return [
    (o) => labelSelector(at(o, `${specPath}.selector`), `${specPath}.selector`),
    (o) => validateLabels(at(o, `${specPath}.template.metadata.labels`), `${specPath}.template.metadata.labels`),
    podSpecAt(`${specPath}.template.spec`),
  ];
}

/** ValidateLabelSelector: matchLabels as labels, each matchExpressions key a qualified name. */
function labelSelector(selector: unknown, path: string): FieldError[] {
  if (!isPlainObject(selector)) return [];
  const errs = validateLabels(selector.matchLabels, `${path}.matchLabels`);
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  exprs.forEach((e, i) => {
    const key = isPlainObject(e) ? e.key : undefined;
    if (typeof key === 'string')
      for (const msg of isQualifiedName(key)) errs.push(invalid(`${path}.matchExpressions[${i}].key`, key, msg));
  });
  return errs;
}

/** ValidateContainerPorts over containers and init containers: containerPort required, both ports in range. */
function podSpecAt(specPath: string): Check {
  return (obj) => {
    const errs: FieldError[] = [];
    for (const list of ['initContainers', 'containers']) {
      const containers = at(obj, `${specPath}.${list}`);
      if (!Array.isArray(containers)) continue;
      containers.forEach((c, i) => {
        const ports = isPlainObject(c) && Array.isArray(c.ports) ? c.ports : [];
        ports.forEach((p, j) => errs.push(...containerPort(p, `${specPath}.${list}[${i}].ports[${j}]`)));
      });
    }
    return errs;
  };
}

function containerPort(port: unknown, path: string): FieldError[] {
  if (!isPlainObject(port)) return [];
  const errs: FieldError[] = [];
  const { containerPort: cp, hostPort: hp } = port;
  if (cp === 0) errs.push(required(`${path}.containerPort`));
  else if (typeof cp === 'number' && !validPort(cp)) errs.push(invalid(`${path}.containerPort`, cp, PORT_RANGE_MSG));
  if (typeof hp === 'number' && hp !== 0 && !validPort(hp)) errs.push(invalid(`${path}.hostPort`, hp, PORT_RANGE_MSG));
  return errs;
}

/** validateServicePort: port in range, an integer targetPort in range (0 means "same as port"). */
function servicePorts(obj: Record<string, unknown>): FieldError[] {
  const ports = at(obj, 'spec.ports');
  if (!Array.isArray(ports)) return [];
  return ports.flatMap((p, i) => {
    if (!isPlainObject(p)) return [];
    const errs: FieldError[] = [];
    const path = `spec.ports[${i}]`;
    if (typeof p.port === 'number' && !validPort(p.port)) errs.push(invalid(`${path}.port`, p.port, PORT_RANGE_MSG));
    if (typeof p.targetPort === 'number' && p.targetPort !== 0 && !validPort(p.targetPort)) {
      errs.push(invalid(`${path}.targetPort`, p.targetPort, PORT_RANGE_MSG));
    }
    return errs;
  });
}

function validPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}
