// RBAC's privilege-escalation prevention, as kube-apiserver's policy-based RBAC storage applies
// it to writes of Roles, ClusterRoles and their bindings, as pure functions: Covers (every
// atom of the requested rules held by one of the requester's rules), the compacted "attempting
// to grant RBAC permissions not currently held" message, the `escalate` and `bind` verbs that
// waive the check, and the aggregationRule guard. The API server (http.ts) feeds it the object
// a write would store.
import { ApiError, errors } from './errors.js';
import {
  authorize,
  heldRules,
  MASTERS,
  roleRefRules,
  type BindingLike,
  type PolicyRule,
  type RbacState,
  type RequestAttributes,
  type UserInfo,
} from './rbac.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';
const GUARDED = new Set(['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings']);

/** Whether writes of this resource go through the escalation check (the four RBAC kinds, not their subresources). */
export function escalationGuarded(group: string, resource: string, subresource = ''): boolean {
  return group === RBAC_GROUP && GUARDED.has(resource) && !subresource;
}

/** system:masters skips the check: kube-apiserver's own loopback clients belong to it (EscalationAllowed). */
export function escalationAllowed(user: UserInfo): boolean {
  return user.groups.includes(MASTERS);
}

const list = (v: string[] | undefined) => v ?? [];

/** BreakdownRule: one rule per verb × group × resource (× name), and per verb × nonResourceURL. */
export function breakdownRule(rule: PolicyRule): PolicyRule[] {
  const out: PolicyRule[] = [];
  for (const group of list(rule.apiGroups)) {
    for (const resource of list(rule.resources)) {
      for (const verb of list(rule.verbs)) {
        if (rule.resourceNames?.length) {
          for (const name of rule.resourceNames)
            out.push({ apiGroups: [group], resources: [resource], verbs: [verb], resourceNames: [name] });
        } else out.push({ apiGroups: [group], resources: [resource], verbs: [verb] });
      }
    }
  }
  for (const url of list(rule.nonResourceURLs)) {
    for (const verb of list(rule.verbs)) out.push({ nonResourceURLs: [url], verbs: [verb] });
  }
  return out;
}

// Plain membership: in Covers a requested `*` is only held by a `*`, never by a list of names.
const has = (set: string[] | undefined, v: string) => list(set).includes(v);
const hasAll = (set: string[] | undefined, wanted: string[] | undefined) => list(wanted).every((v) => has(set, v));

/** An owner's resources cover `res`, `res/sub` (also through `*` or `*\/sub`): resourceCoversAll. */
function resourcesCover(owner: string[] | undefined, wanted: string[] | undefined): boolean {
  if (has(owner, '*') || hasAll(owner, wanted)) return true;
  return list(wanted).every((path) => {
    if (has(owner, path)) return true;
    const slash = path.indexOf('/');
    return slash >= 0 && has(owner, `*/${path.slice(slash + 1)}`);
  });
}

/** An owner URL covers a path equal to it, or one it prefixes with a trailing `*`. */
function urlsCover(owner: string[] | undefined, wanted: string[] | undefined): boolean {
  return list(wanted).every((path) =>
    list(owner).some((o) => o === path || (o.endsWith('*') && path.startsWith(o.replace(/\*+$/, '')))),
  );
}

/** ruleCovers: does one of the requester's rules hold an atom of BreakdownRule? */
export function ruleCovers(owner: PolicyRule, atom: PolicyRule): boolean {
  const verbs = has(owner.verbs, '*') || hasAll(owner.verbs, atom.verbs);
  const groups = has(owner.apiGroups, '*') || hasAll(owner.apiGroups, atom.apiGroups);
  // A rule limited to names holds only those names; an unrestricted rule holds every name.
  const names = atom.resourceNames?.length
    ? !owner.resourceNames?.length || hasAll(owner.resourceNames, atom.resourceNames)
    : !owner.resourceNames?.length;
  return (
    verbs &&
    groups &&
    resourcesCover(owner.resources, atom.resources) &&
    urlsCover(owner.nonResourceURLs, atom.nonResourceURLs) &&
    names
  );
}

/** Covers: whether the owner rules hold every requested rule, and the atoms they do not. */
export function covers(ownerRules: PolicyRule[], requested: PolicyRule[]): { covered: boolean; missing: PolicyRule[] } {
  const missing = requested.flatMap(breakdownRule).filter((atom) => !ownerRules.some((o) => ruleCovers(o, atom)));
  return { covered: missing.length === 0, missing };
}

/** CompactRules: atoms of one group and one resource (no names, no URLs) merged into one rule with all their verbs. */
export function compactRules(rules: PolicyRule[]): PolicyRule[] {
  const out: PolicyRule[] = [];
  const simple = new Map<string, PolicyRule>();
  for (const r of rules) {
    const isSimple =
      !r.resourceNames?.length && !r.nonResourceURLs?.length && r.apiGroups?.length === 1 && r.resources?.length === 1;
    if (!isSimple) {
      out.push(r);
      continue;
    }
    const key = `${r.apiGroups![0]}\u0000${r.resources![0]}`;
    const seen = simple.get(key);
    if (seen) seen.verbs = [...seen.verbs, ...r.verbs];
    else simple.set(key, { apiGroups: r.apiGroups, resources: r.resources, verbs: [...r.verbs] });
  }
  return [...out, ...simple.values()];
}

/** Go's %q of a string, for the ASCII names RBAC rules carry (JSON escapes, but \x for control bytes as strconv.Quote). */
export function goQuote(s: string): string {
  return JSON.stringify(s)
    .replace(/\\u00([0-9a-f]{2})/g, '\\x$1')
    .replace(/\u007f/g, '\\x7f');
}

/** Go's %q of a []string: `["a" "b"]`. */
export function goQuoteList(values: string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}

/** CompactString: `{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`, empty fields left out. */
export function compactString(r: PolicyRule): string {
  const parts: string[] = [];
  if (r.apiGroups?.length) parts.push(`APIGroups:${goQuoteList(r.apiGroups)}`);
  if (r.resources?.length) parts.push(`Resources:${goQuoteList(r.resources)}`);
  if (r.nonResourceURLs?.length) parts.push(`NonResourceURLs:${goQuoteList(r.nonResourceURLs)}`);
  if (r.resourceNames?.length) parts.push(`ResourceNames:${goQuoteList(r.resourceNames)}`);
  if (r.verbs?.length) parts.push(`Verbs:${goQuoteList(r.verbs)}`);
  return `{${parts.join(', ')}}`;
}

/** An aggregate error's text (utilerrors): the one message, or `[a, b]` of the distinct ones. */
function aggregate(messages: string[]): string {
  const distinct = [...new Set(messages)];
  return distinct.length === 1 ? distinct[0] : `[${distinct.join(', ')}]`;
}

/**
 * ConfirmNoEscalation: undefined when the rules the user holds in the namespace ('' for
 * cluster-wide bindings only) cover `rules`; otherwise kube-apiserver's reason, listing the
 * missing permissions compacted and sorted, and any errors met resolving the user's roles.
 */
export function confirmNoEscalation(
  state: RbacState,
  user: UserInfo,
  namespace: string,
  rules: PolicyRule[],
): string | undefined {
  const held = heldRules(state, user, namespace, 'registry');
  const { covered, missing } = covers(held.rules, rules);
  if (covered) return undefined;
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
  const msg = `user ${goQuote(user.name)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  return held.errors.length ? `${msg}; resolution errors: [${aggregate(held.errors)}]` : msg;
}

function resourceAttrs(
  verb: string,
  apiGroup: string,
  resource: string,
  namespace: string,
  name: string,
): RequestAttributes {
  return {
    verb,
    resourceRequest: true,
    path: '',
    apiGroup,
    apiVersion: '*',
    resource,
    subresource: '',
    namespace,
    name,
  };
}

/** A Role or ClusterRole reference's resource, or undefined for any other kind. */
function roleResource(kind: string): string | undefined {
  return kind === 'Role' ? 'roles' : kind === 'ClusterRole' ? 'clusterroles' : undefined;
}

/** BindingAuthorized: may the user `bind` the referenced role, in the binding's namespace ('' cluster-wide)? */
export function bindingAuthorized(
  state: RbacState,
  user: UserInfo,
  ref: BindingLike['roleRef'],
  bindingNamespace: string,
): boolean {
  const resource = roleResource(ref.kind);
  return (
    !!resource &&
    authorize(state, user, resourceAttrs('bind', ref.apiGroup ?? '', resource, bindingNamespace, ref.name)).allowed
  );
}

/** The write being checked, with the request's attributes (RequestInfo) and the object it would store. */
export interface RbacWrite {
  /** roles, clusterroles, rolebindings or clusterrolebindings. */
  resource: string;
  apiGroup: string;
  namespace: string;
  /** The name on the request path: empty for a create. */
  name: string;
  object: Record<string, any>;
  /** The stored object an update replaces; undefined for a create. */
  old?: Record<string, any>;
}

// Full authority (cluster-admin's rules): what setting an aggregationRule requires, as it can gather anything.
const FULL_AUTHORITY: PolicyRule[] = [
  { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
  { nonResourceURLs: ['*'], verbs: ['*'] },
];

const hasAggregationRule = (o: Record<string, any> | undefined) => !!o?.aggregationRule?.clusterRoleSelectors?.length;

const isEmpty = (v: unknown) =>
  v === undefined ||
  v === null ||
  (Array.isArray(v) && v.length === 0) ||
  (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0);

/** Semantic equality as apimachinery compares objects: an unset field equals an empty list or map. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (isEmpty(a) && isEmpty(b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => semanticEqual(v, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => semanticEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

/**
 * IsOnlyMutatingGCFields: an update that changes only ownerReferences and finalizers (what the
 * garbage collector writes) is not checked, so the GC can orphan or delete any role.
 */
export function onlyGcFieldsChange(obj: Record<string, any>, old: Record<string, any> | undefined): boolean {
  if (!old) return false;
  const strip = (o: Record<string, any>) => {
    const { apiVersion: _a, kind: _k, metadata = {}, ...rest } = o;
    const { ownerReferences: _o, finalizers: _f, selfLink: _s, managedFields: _m, ...meta } = metadata;
    return { ...rest, metadata: meta };
  };
  return semanticEqual(strip(obj), strip(old));
}

/** The role checks of the Role and ClusterRole storage: escalate, then Covers, then the aggregationRule guard. */
function roleRefusal(state: RbacState, user: UserInfo, w: RbacWrite, name: string): ApiError | undefined {
  const gr = { group: RBAC_GROUP, resource: w.resource };
  // RoleEscalationAuthorized asks with the request's name: empty for a create.
  if (authorize(state, user, resourceAttrs('escalate', w.apiGroup, w.resource, w.namespace, w.name)).allowed)
    return undefined;
  const why = confirmNoEscalation(state, user, w.namespace, w.object.rules ?? []);
  if (why) return errors.forbidden(gr, name, why);
  // Adding, changing or removing an aggregationRule: the rules it gathers (or stops gathering) are anyone's.
  if (
    w.resource === 'clusterroles' &&
    (hasAggregationRule(w.object) || hasAggregationRule(w.old)) &&
    confirmNoEscalation(state, user, '', FULL_AUTHORITY)
  ) {
    return errors.forbidden(gr, name, 'must have cluster-admin privileges to use the aggregationRule');
  }
  return undefined;
}

/** The binding checks of the RoleBinding and ClusterRoleBinding storage: bind, else every permission of the role held. */
function bindingRefusal(state: RbacState, user: UserInfo, w: RbacWrite, name: string): ApiError | undefined {
  const ref = (w.object.roleRef ?? {}) as BindingLike['roleRef'];
  if (bindingAuthorized(state, user, ref, w.namespace)) return undefined;
  const rules = roleRefRules(state, ref, w.namespace, 'registry');
  if (typeof rules === 'string') {
    // The registry's NotFound comes back as it is; an unknown kind is a plain error, so a 500.
    const resource = roleResource(ref.kind);
    return resource ? errors.notFound({ group: RBAC_GROUP, resource }, ref.name) : errors.internal(rules);
  }
  const why = confirmNoEscalation(state, user, w.namespace, rules);
  return why ? errors.forbidden({ group: RBAC_GROUP, resource: w.resource }, name, why) : undefined;
}

/**
 * What kube-apiserver's RBAC storage answers a create or update of a Role, ClusterRole or
 * binding: undefined when allowed, else its 403 (or the 404 of a binding's missing role).
 */
export function rbacWriteRefusal(state: RbacState, user: UserInfo, w: RbacWrite): ApiError | undefined {
  if (escalationAllowed(user) || !escalationGuarded(w.apiGroup, w.resource)) return undefined;
  if (onlyGcFieldsChange(w.object, w.old)) return undefined;
  // The error names the object (its name before generateName is applied, as the check runs first).
  const name = String(w.object.metadata?.name ?? w.name ?? '');
  return w.resource === 'roles' || w.resource === 'clusterroles'
    ? roleRefusal(state, user, w, name)
    : bindingRefusal(state, user, w, name);
}
