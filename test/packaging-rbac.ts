// Kubernetes RBAC for the packaging tests, which the dev cluster's API server does not
// enforce: request attributes from a REST path (as kube-apiserver's RequestInfo resolver
// derives them) and the RBAC authorizer's decision for a user from Roles, ClusterRoles and
// their bindings. Pure functions; the proxy that enforces them is packaging-rbac-proxy.ts.

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

export interface RoleLike { kind: 'Role' | 'ClusterRole'; metadata: { name: string; namespace?: string }; rules?: PolicyRule[] }
export interface Subject { kind: string; name: string; namespace?: string }
export interface BindingLike {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  metadata: { name: string; namespace?: string };
  roleRef: { kind: 'Role' | 'ClusterRole'; name: string };
  subjects?: Subject[];
}

export interface RbacState { roles: RoleLike[]; clusterRoles: RoleLike[]; roleBindings: BindingLike[]; clusterRoleBindings: BindingLike[] }

export interface UserInfo { name: string; groups: string[] }

/** The identity a ServiceAccount's token stands for, with the groups kube-apiserver adds. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return { name: `system:serviceaccount:${namespace}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'] };
}

const TRUE = new Set(['true', '1']);

/** Request attributes of `method url`, following k8s.io/apiserver's RequestInfoFactory. */
export function requestAttributes(method: string, rawUrl: string): RequestAttributes {
  const url = new URL(rawUrl, 'http://x');
  const parts = url.pathname.split('/').filter(Boolean);
  const base: RequestAttributes = { verb: method.toLowerCase(), resourceRequest: false, path: url.pathname, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '' };
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) {
    base.apiVersion = parts[1];
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    base.apiGroup = parts[1];
    base.apiVersion = parts[2];
    rest = parts.slice(3);
  } else {
    return base;
  }
  if (rest.length === 0) return base; // discovery of one group version
  const attrs: RequestAttributes = { ...base, resourceRequest: true };
  if (rest[0] === 'namespaces') {
    if (rest.length >= 3) {
      attrs.namespace = rest[1];
      rest = rest.slice(2);
    } else {
      // /namespaces and /namespaces/{name}: the namespaces resource itself.
      attrs.namespace = rest[1] ?? '';
    }
  }
  attrs.resource = rest[0];
  attrs.name = rest[1] ?? '';
  attrs.subresource = rest[2] ?? '';
  const watch = TRUE.has(url.searchParams.get('watch') ?? '');
  switch (method.toUpperCase()) {
    case 'GET': case 'HEAD': attrs.verb = attrs.name ? (watch ? 'watch' : 'get') : (watch ? 'watch' : 'list'); break;
    case 'POST': attrs.verb = 'create'; break;
    case 'PUT': attrs.verb = 'update'; break;
    case 'PATCH': attrs.verb = 'patch'; break;
    case 'DELETE': attrs.verb = attrs.name ? 'delete' : 'deletecollection'; break;
    default: attrs.verb = method.toLowerCase();
  }
  // A watch of one object arrives as a list with fieldSelector=metadata.name=<name>.
  const byName = /^metadata\.name=([^,]+)$/.exec(url.searchParams.get('fieldSelector') ?? '');
  if (!attrs.name && byName && (attrs.verb === 'list' || attrs.verb === 'watch')) attrs.name = byName[1];
  return attrs;
}

const has = (list: string[] | undefined, value: string) => !!list && (list.includes('*') || list.includes(value));

/** Does one rule allow the request (rbac/v1 RuleAllows semantics)? */
export function ruleAllows(rule: PolicyRule, a: RequestAttributes): boolean {
  if (!has(rule.verbs, a.verb)) return false;
  if (!a.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some((u) => u === a.path || u === '*' || (u.endsWith('*') && a.path.startsWith(u.slice(0, -1))));
  }
  if (!has(rule.apiGroups, a.apiGroup)) return false;
  const combined = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resources = rule.resources ?? [];
  const resourceOk = resources.includes('*') || resources.includes(combined)
    || (a.subresource ? resources.includes(`*/${a.subresource}`) : false);
  if (!resourceOk) return false;
  if (!rule.resourceNames?.length) return true;
  return !!a.name && rule.resourceNames.includes(a.name);
}

function subjectMatches(s: Subject, user: UserInfo, bindingNamespace: string | undefined): boolean {
  if (s.kind === 'User') return s.name === user.name;
  if (s.kind === 'Group') return user.groups.includes(s.name);
  if (s.kind === 'ServiceAccount') return user.name === `system:serviceaccount:${s.namespace ?? bindingNamespace}:${s.name}`;
  return false;
}

export interface Decision { allowed: boolean; reason: string }

/** kube-apiserver's RBAC authorizer: allowed when any bound rule in scope allows the request. */
export function authorize(state: RbacState, user: UserInfo, a: RequestAttributes): Decision {
  const clusterRole = (name: string) => state.clusterRoles.find((r) => r.metadata.name === name);
  for (const b of state.clusterRoleBindings) {
    if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, undefined))) continue;
    const rule = clusterRole(b.roleRef.name)?.rules?.find((r) => ruleAllows(r, a));
    if (rule) return { allowed: true, reason: `ClusterRoleBinding ${b.metadata.name} of ClusterRole ${b.roleRef.name}` };
  }
  if (a.resourceRequest && a.namespace) {
    for (const b of state.roleBindings) {
      if (b.metadata.namespace !== a.namespace) continue;
      if (!(b.subjects ?? []).some((s) => subjectMatches(s, user, b.metadata.namespace))) continue;
      const role = b.roleRef.kind === 'ClusterRole'
        ? clusterRole(b.roleRef.name)
        : state.roles.find((r) => r.metadata.name === b.roleRef.name && r.metadata.namespace === b.metadata.namespace);
      const rule = role?.rules?.find((r) => ruleAllows(r, a));
      if (rule) return { allowed: true, reason: `RoleBinding ${b.metadata.namespace}/${b.metadata.name} of ${b.roleRef.kind} ${b.roleRef.name}` };
    }
  }
  return { allowed: false, reason: forbiddenMessage(user, a) };
}

/** The message kube-apiserver puts in a 403 Status. */
export function forbiddenMessage(user: UserInfo, a: RequestAttributes): string {
  if (!a.resourceRequest) return `forbidden: User "${user.name}" cannot ${a.verb} path "${a.path}"`;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const what = a.name ? `${qualified} "${a.name}"` : qualified;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return `${what} is forbidden: User "${user.name}" cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}"${scope}`;
}

/** Discovery and health paths every authenticated user may read (system:discovery, system:public-info-viewer). */
export function isPublicPath(a: RequestAttributes): boolean {
  if (a.resourceRequest || a.verb !== 'get') return false;
  return /^\/(api|apis)(\/[^/]+){0,2}\/?$/.test(a.path) || /^\/(version|healthz|livez|readyz|openapi\/.*)$/.test(a.path);
}

/** "verb group/resource[/subresource]" — the unit in which calls and rules are compared. */
export function permissionKey(verb: string, group: string, resource: string): string {
  return `${verb} ${group || 'core'}/${resource}`;
}

/** Every (verb, group, resource) a rule set grants, expanded; resourceNames kept as a suffix. */
export function grantedPermissions(rules: PolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups ?? []) for (const res of r.resources ?? []) for (const v of r.verbs) out.add(permissionKey(v, g, res));
  }
  return out;
}
