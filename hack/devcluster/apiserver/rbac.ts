// Kubernetes RBAC as kube-apiserver enforces it, as pure functions: request attributes from a
// REST path (k8s.io/apiserver's RequestInfoFactory), the RBAC authorizer's decision for a user
// from Roles, ClusterRoles and their bindings (plugin/pkg/auth/authorizer/rbac: rule matching,
// binding scopes, the "RBAC: allowed by …" reasons and the errors of dangling role refs), the
// rules a user holds in a namespace (SelfSubjectRulesReview), ClusterRole aggregation (the
// controller's computation; the authorizer reads stored rules, as upstream), and the
// 403 message kube-apiserver writes. The API server (http.ts) feeds them the stored objects.

export interface RequestAttributes {
  /** get, list, watch, create, update, patch, delete, deletecollection; for non-resource requests the lower-case HTTP method */
  verb: string;
  resourceRequest: boolean;
  /** Non-resource requests: the path. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

export interface RoleLike {
  kind: 'Role' | 'ClusterRole';
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  rules?: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] };
}
export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}
export interface BindingLike {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  metadata: { name: string; namespace?: string };
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string; apiGroup?: string };
  subjects?: Subject[];
}

export interface RbacState {
  roles: RoleLike[];
  clusterRoles: RoleLike[];
  roleBindings: BindingLike[];
  clusterRoleBindings: BindingLike[];
}

export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

/** Members of this group are allowed everything, before RBAC is asked (kube-apiserver's privileged-group authorizer). */
export const MASTERS = 'system:masters';
export const AUTHENTICATED = 'system:authenticated';
export const UNAUTHENTICATED = 'system:unauthenticated';
export const ANONYMOUS: UserInfo = { name: 'system:anonymous', groups: [UNAUTHENTICATED] };

/** The identity a ServiceAccount's token stands for, with the groups kube-apiserver adds. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: serviceAccountGroups(namespace) };
}

export function serviceAccountGroups(namespace: string): string[] {
  return ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, AUTHENTICATED];
}

/** `system:serviceaccount:<ns>:<name>` → its namespace and name; undefined for other users. */
export function parseServiceAccountUser(user: string): { namespace: string; name: string } | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  return m ? { namespace: m[1], name: m[2] } : undefined;
}

// strconv.ParseBool, which decodes the `watch` query parameter.
const TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
// Subresources of a namespace: /api/v1/namespaces/<name>/status is the namespace itself.
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** The name a field selector pins (`metadata.name=x` among ANDed terms), as RequiresExactMatch finds it. */
function exactName(fieldSelector: string | null): string | undefined {
  for (const term of (fieldSelector ?? '').split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*([^,\s]+)\s*$/.exec(term);
    if (m) return m[1];
  }
  return undefined;
}

/** Request attributes of `method url`, following k8s.io/apiserver's RequestInfoFactory. */
export function requestAttributes(method: string, rawUrl: string): RequestAttributes {
  const url = new URL(rawUrl, 'http://x');
  let parts = url.pathname.split('/').filter(Boolean);
  const base: RequestAttributes = {
    verb: method.toLowerCase(),
    resourceRequest: false,
    path: url.pathname,
    apiGroup: '',
    apiVersion: '',
    resource: '',
    subresource: '',
    namespace: '',
    name: '',
  };
  if (parts[0] === 'api' && parts.length >= 3) {
    base.apiVersion = parts[1];
    parts = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    base.apiGroup = parts[1];
    base.apiVersion = parts[2];
    parts = parts.slice(3);
  } else {
    return base; // /version, discovery of /api/v1 or /apis/<g>/<v>, /openapi/…
  }
  const attrs: RequestAttributes = { ...base, resourceRequest: true };
  switch (method.toUpperCase()) {
    case 'POST':
      attrs.verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      attrs.verb = 'get';
      break;
    case 'PUT':
      attrs.verb = 'update';
      break;
    case 'PATCH':
      attrs.verb = 'patch';
      break;
    case 'DELETE':
      attrs.verb = 'delete';
      break;
    default:
      attrs.verb = '';
  }
  // /api/v1/watch/… (deprecated path form) and /proxy/ are verbs of their own.
  if ((parts[0] === 'watch' || parts[0] === 'proxy') && parts.length >= 2) {
    attrs.verb = parts[0];
    parts = parts.slice(1);
  }
  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      attrs.namespace = parts[1];
      // /namespaces/<ns>/<resource>/…; but /namespaces/<name>/status is the namespace itself.
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
    }
  }
  attrs.resource = parts[0] ?? '';
  attrs.name = parts[1] ?? '';
  attrs.subresource = parts[2] ?? '';
  // A collection GET is a list, or a watch; a watch of one object arrives as one with
  // fieldSelector=metadata.name=<name>, and is authorized for that name.
  if (!attrs.name && attrs.verb === 'get') {
    attrs.verb = TRUE.has(url.searchParams.get('watch') ?? '') ? 'watch' : 'list';
    const byName = exactName(url.searchParams.get('fieldSelector'));
    if (byName) attrs.name = byName;
  }
  if (!attrs.name && attrs.verb === 'delete') attrs.verb = 'deletecollection';
  return attrs;
}

const has = (list: string[] | undefined, value: string) => !!list && (list.includes('*') || list.includes(value));

/** Does one rule allow the request (rbac/v1 RuleAllows semantics)? */
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some(
      (u) => u === a.path || u === '*' || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))),
    );
  }
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  const resourceOk =
    resources.includes('*') ||
    resources.includes(combined) ||
    (a.subresource ? resources.includes(`*/${a.subresource}`) : false);
  if (!resourceOk) return false;
  if (!rule.resourceNames?.length) return true;
  return rule.resourceNames.includes(a.name);
}

/** Does a binding subject stand for the user (appliesToUser)? A ServiceAccount subject defaults to the binding's namespace. */
export function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  if (s.kind === 'User') return s.name === user.name;
  if (s.kind === 'Group') return user.groups.includes(s.name);
  if (s.kind === 'ServiceAccount') {
    const ns = s.namespace || bindingNamespace;
    return !!ns && user.name === `system:serviceaccount:${ns}:${s.name}`;
  }
  return false;
}

/** How kube-apiserver names a subject in its reasons: ServiceAccount "name/namespace". */
function describeSubject(s: Subject, bindingNamespace: string): string {
  if (s.kind === 'ServiceAccount') return `${s.kind} "${s.name}/${s.namespace || bindingNamespace}"`;
  return `${s.kind} "${s.name}"`;
}

function labelSelectorMatches(sel: LabelSelector, labels: Record<string, string> = {}): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const present = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    if (e.operator === 'In' && !(present && values.includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && present && values.includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !present) return false;
    if (e.operator === 'DoesNotExist' && present) return false;
  }
  return true;
}

/**
 * The rules the clusterrole-aggregation controller writes into a ClusterRole with an
 * aggregationRule: the union, without duplicates, of the (stored) rules of every other
 * ClusterRole one of its selectors matches; undefined for a role without aggregationRule.
 */
export function aggregatedRules(role: RoleLike, clusterRoles: RoleLike[]): PolicyRule[] | undefined {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (!selectors) return undefined;
  const out: PolicyRule[] = [];
  const seen = new Set<string>();
  for (const sel of selectors) {
    // An empty selector would match every role, which the controller refuses as well.
    if (!Object.keys(sel.matchLabels ?? {}).length && !(sel.matchExpressions ?? []).length) continue;
    for (const other of clusterRoles) {
      if (other.metadata.name === role.metadata.name || !labelSelectorMatches(sel, other.metadata.labels)) continue;
      for (const r of other.rules ?? []) {
        const key = JSON.stringify(r);
        if (!seen.has(key)) {
          seen.add(key);
          out.push(r);
        }
      }
    }
  }
  return out;
}

/** One bound rule set as the resolver visits it: the binding's description, or an error. */
interface Visit {
  source: string;
  rules: PolicyRule[];
  error?: string;
}

/**
 * Where a resolver reads roles, which decides how a missing one is named: the authorizer reads
 * informer listers (`role.rbac.authorization.k8s.io "x" not found`), the RBAC storage's rule
 * resolver reads the registry (`roles.rbac.authorization.k8s.io "x" not found`).
 */
export type RoleSource = 'lister' | 'registry';

/** GetRoleReferenceRules: the stored rules of the role a binding refers to, or the error resolving it. */
export function roleRefRules(
  state: RbacState,
  ref: BindingLike['roleRef'],
  bindingNamespace: string,
  from: RoleSource = 'lister',
): PolicyRule[] | string {
  const missing = (resource: string) =>
    `${from === 'lister' ? resource : `${resource}s`}.rbac.authorization.k8s.io "${ref.name}" not found`;
  if (ref.kind === 'ClusterRole') {
    const r = state.clusterRoles.find((x) => x.metadata.name === ref.name);
    return r ? (r.rules ?? []) : missing('clusterrole');
  }
  if (ref.kind === 'Role') {
    const r = state.roles.find((x) => x.metadata.name === ref.name && x.metadata.namespace === bindingNamespace);
    return r ? (r.rules ?? []) : missing('role');
  }
  return `unsupported role reference kind: "${String(ref.kind)}"`;
}

/**
 * The rule sets a user holds for a namespace, in the resolver's order: ClusterRoleBindings,
 * then (in a namespace) RoleBindings there. A binding to a missing role yields the error
 * kube-apiserver reports ("role.rbac.authorization.k8s.io "x" not found").
 */
function visitRules(state: RbacState, user: UserInfo, namespace: string, from: RoleSource = 'lister'): Visit[] {
  const out: Visit[] = [];
  for (const b of state.clusterRoleBindings) {
    const subject = (b.subjects ?? []).find((s) => subjectMatches(s, user, ''));
    if (!subject) continue;
    const rules = roleRefRules(state, b.roleRef, '', from);
    const source = `ClusterRoleBinding "${b.metadata.name}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(subject, '')}`;
    out.push(typeof rules === 'string' ? { source, rules: [], error: rules } : { source, rules });
  }
  if (namespace) {
    for (const b of state.roleBindings) {
      const ns = b.metadata.namespace ?? '';
      if (ns !== namespace) continue;
      const subject = (b.subjects ?? []).find((s) => subjectMatches(s, user, ns));
      if (!subject) continue;
      const rules = roleRefRules(state, b.roleRef, ns, from);
      const source = `RoleBinding "${b.metadata.name}/${ns}" of ${b.roleRef.kind} "${b.roleRef.name}" to ${describeSubject(subject, ns)}`;
      out.push(typeof rules === 'string' ? { source, rules: [], error: rules } : { source, rules });
    }
  }
  return out;
}

/** RulesFor of the rule resolver: every rule bound to the user in the namespace, and the errors met resolving them. */
export function heldRules(
  state: RbacState,
  user: UserInfo,
  namespace: string,
  from: RoleSource = 'lister',
): { rules: PolicyRule[]; errors: string[] } {
  const rules: PolicyRule[] = [];
  const errors: string[] = [];
  for (const v of visitRules(state, user, namespace, from)) {
    if (v.error) errors.push(v.error);
    else rules.push(...v.rules);
  }
  return { rules, errors };
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

/**
 * kube-apiserver's authorizer chain for one request: system:masters is allowed everything;
 * otherwise RBAC allows when any bound rule in scope allows it. The reason is RBAC's: "RBAC:
 * allowed by …" when allowed, the errors of dangling role refs (or "") when not.
 */
export function authorize(state: RbacState, user: UserInfo, a: RequestAttributes): Decision {
  if (user.groups.includes(MASTERS)) return { allowed: true, reason: '' };
  const errors: string[] = [];
  for (const v of visitRules(state, user, a.resourceRequest ? a.namespace : '')) {
    if (v.error) {
      errors.push(v.error);
      continue;
    }
    if (v.rules.some((r) => ruleAllows(r, a))) return { allowed: true, reason: `RBAC: allowed by ${v.source}` };
  }
  return {
    allowed: false,
    reason: errors.length ? `RBAC: ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` : '',
  };
}

/** The user-facing part of a 403: forbiddenMessage of k8s.io/apiserver's responsewriters. */
function deniedMessage(user: UserInfo, a: RequestAttributes): string {
  if (!a.resourceRequest) return `User "${user.name}" cannot ${a.verb} path "${a.path}"`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return `User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}`;
}

/** The message of kube-apiserver's 403 Status (NewForbidden around forbiddenMessage and the authorizer's reason). */
export function forbiddenMessage(user: UserInfo, a: RequestAttributes, reason = ''): string {
  const err = reason ? `${deniedMessage(user, a)}: ${reason}` : deniedMessage(user, a);
  if (!a.resourceRequest || !a.resource) return `forbidden: ${err}`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  return a.name ? `${qualified} "${a.name}" is forbidden: ${err}` : `${qualified} is forbidden: ${err}`;
}

/** The 403 Status body kube-apiserver answers a denied request with. */
export function forbiddenStatus(user: UserInfo, a: RequestAttributes, reason = ''): Record<string, unknown> {
  const details: Record<string, string> = {};
  if (a.name) details.name = a.name;
  if (a.apiGroup) details.group = a.apiGroup;
  if (a.resource) details.kind = a.resource;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: forbiddenMessage(user, a, reason),
    reason: 'Forbidden',
    details,
    code: 403,
  };
}

export interface RulesReviewStatus {
  resourceRules: Array<{ verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[] }>;
  nonResourceRules: Array<{ verbs: string[]; nonResourceURLs?: string[] }>;
  incomplete: boolean;
  evaluationError?: string;
}

/** What SelfSubjectRulesReview reports: every rule the user holds in the namespace, as RBAC's RulesFor lists them. */
export function rulesFor(state: RbacState, user: UserInfo, namespace: string): RulesReviewStatus {
  const status: RulesReviewStatus = { resourceRules: [], nonResourceRules: [], incomplete: false };
  if (user.groups.includes(MASTERS)) {
    status.resourceRules.push({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    status.nonResourceRules.push({ verbs: ['*'], nonResourceURLs: ['*'] });
  }
  const errors: string[] = [];
  for (const v of visitRules(state, user, namespace)) {
    if (v.error) {
      errors.push(v.error);
      continue;
    }
    for (const r of v.rules) {
      if (r.nonResourceURLs?.length)
        status.nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs });
      else {
        const rr: RulesReviewStatus['resourceRules'][number] = {
          verbs: r.verbs,
          apiGroups: r.apiGroups ?? [],
          resources: r.resources ?? [],
        };
        if (r.resourceNames?.length) rr.resourceNames = r.resourceNames;
        status.resourceRules.push(rr);
      }
    }
  }
  if (errors.length) {
    status.incomplete = true;
    status.evaluationError = errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`;
  }
  return status;
}

/** "verb group/resource[/subresource]" — the unit in which calls and rules are compared. */
export function permissionKey(verb: string, group: string, resource: string): string {
  return `${verb} ${group || 'core'}/${resource}`;
}

/** Every (verb, group, resource) a rule set grants, expanded; resourceNames kept as a suffix. */
export function grantedPermissions(rules: PolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups ?? [])
      for (const res of r.resources ?? []) for (const v of r.verbs) out.add(permissionKey(v, g, res));
  }
  return out;
}
