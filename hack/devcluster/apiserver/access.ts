// Who a request is and what it may do, as kube-apiserver's filter chain decides it:
// authentication (the secure port's bearer tokens; the insecure port's fixed superuser),
// impersonation (Impersonate-User / -Group / -Uid / -Extra-*, itself authorized), and
// authorization (system:masters, then RBAC over the stored Roles, ClusterRoles and bindings),
// and RBAC's escalation check of writes to those.
import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';
import { escalationAllowed, rbacWriteRefusal, type RbacWrite } from './escalation.js';
import {
  ANONYMOUS,
  AUTHENTICATED,
  authorize,
  forbiddenStatus,
  MASTERS,
  parseServiceAccountUser,
  rulesFor,
  serviceAccountGroups,
  UNAUTHENTICATED,
  type BindingLike,
  type Decision,
  type RbacState,
  type RequestAttributes,
  type RoleLike,
  type RulesReviewStatus,
  type UserInfo,
} from './rbac.js';
import type { Store } from './store.js';
import { authenticateToken, type TokenIssuer, type TokenLookups } from './tokens.js';

/** The insecure port's identity (kube-apiserver's InsecureSuperuser). */
export const INSECURE_USER: UserInfo = { name: 'system:unsecured', groups: [MASTERS, AUTHENTICATED] };
/** The secure admin kubeconfig's identity. */
export const ADMIN_USER: UserInfo = { name: 'admin', groups: [MASTERS, AUTHENTICATED] };

const RBAC_KEYS = {
  roles: 'rbac.authorization.k8s.io/roles',
  clusterRoles: 'rbac.authorization.k8s.io/clusterroles',
  roleBindings: 'rbac.authorization.k8s.io/rolebindings',
  clusterRoleBindings: 'rbac.authorization.k8s.io/clusterrolebindings',
};

/** The 401 kube-apiserver answers a request whose credentials it rejects. */
export function unauthorized(): ApiError {
  return new ApiError(401, 'Unauthorized', 'Unauthorized');
}

/** A 403 carrying kube-apiserver's Status for a denied request. */
export class ForbiddenError extends ApiError {
  constructor(readonly status: Record<string, unknown>) {
    super(403, 'Forbidden', String(status.message), status.details as Record<string, string>);
  }

  override toStatus(): Record<string, unknown> {
    return this.status;
  }
}

function header(req: IncomingMessage, name: string): string[] {
  return req.headersDistinct[name] ?? [];
}

export interface AccessOptions {
  store: Store;
  issuer: TokenIssuer;
  adminToken: string;
  /** Milliseconds since the epoch (tests move it to expire tokens). */
  now(): number;
}

export class Access {
  private cached: RbacState | undefined;
  private readonly unsubscribe: Array<() => void>;

  constructor(private readonly opts: AccessOptions) {
    // The authorizer's view of RBAC, rebuilt on the first request after any change (as its informers would).
    this.unsubscribe = Object.values(RBAC_KEYS).map((k) =>
      opts.store.subscribe(k, () => {
        this.cached = undefined;
      }),
    );
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
  }

  rbacState(): RbacState {
    if (this.cached) return this.cached;
    const { store } = this.opts;
    this.cached = {
      roles: store.list(RBAC_KEYS.roles).map((r) => ({ ...r, kind: 'Role' }) as RoleLike),
      clusterRoles: store.list(RBAC_KEYS.clusterRoles).map((r) => ({ ...r, kind: 'ClusterRole' }) as RoleLike),
      roleBindings: store.list(RBAC_KEYS.roleBindings).map((b) => ({ ...b, kind: 'RoleBinding' }) as BindingLike),
      clusterRoleBindings: store
        .list(RBAC_KEYS.clusterRoleBindings)
        .map((b) => ({ ...b, kind: 'ClusterRoleBinding' }) as BindingLike),
    };
    return this.cached;
  }

  tokenLookups(): TokenLookups {
    const { store } = this.opts;
    return {
      serviceAccount: (ns, name) => store.get('/serviceaccounts', ns, name),
      pod: (ns, name) => store.get('/pods', ns, name),
      secret: (ns, name) => store.get('/secrets', ns, name),
    };
  }

  /**
   * The requester on the secure port: a bearer token (the admin's or a ServiceAccount's), or
   * system:anonymous without one. A token nobody accepts is a 401, never anonymous.
   */
  authenticate(req: IncomingMessage): UserInfo {
    const auth = req.headers.authorization ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!m) return ANONYMOUS;
    const token = m[1];
    if (token === this.opts.adminToken) return ADMIN_USER;
    const result = authenticateToken(this.opts.issuer, token, this.tokenLookups(), Math.floor(this.opts.now() / 1000));
    if (typeof result === 'string') throw unauthorized();
    return result;
  }

  authorize(user: UserInfo, a: RequestAttributes): Decision {
    if (user.groups.includes(MASTERS)) return { allowed: true, reason: '' };
    return authorize(this.rbacState(), user, a);
  }

  /** Throws kube-apiserver's 403 when the user may not make the request. */
  check(user: UserInfo, a: RequestAttributes): void {
    const d = this.authorize(user, a);
    if (!d.allowed) throw new ForbiddenError(forbiddenStatus(user, a, d.reason));
  }

  /** Whether the user's RBAC writes are checked for escalation at all (cheap; before computing what a patch stores). */
  checksEscalation(user: UserInfo): boolean {
    return !escalationAllowed(user);
  }

  /** Throws what kube-apiserver's RBAC storage answers a Role/ClusterRole/binding write granting more than the user holds. */
  confirmRbacWrite(user: UserInfo, w: RbacWrite): void {
    const refusal = rbacWriteRefusal(this.rbacState(), user, w);
    if (refusal) throw refusal;
  }

  rulesFor(user: UserInfo, namespace: string): RulesReviewStatus {
    return rulesFor(this.rbacState(), user, namespace);
  }

  /**
   * The user a request acts as: the requester, or whom its Impersonate-* headers name once
   * the requester may impersonate each of them (k8s.io/apiserver's impersonation filter).
   */
  impersonate(req: IncomingMessage, requester: UserInfo): UserInfo {
    const users = header(req, 'impersonate-user');
    const groups = header(req, 'impersonate-group');
    const uids = header(req, 'impersonate-uid');
    const extraHeaders = Object.keys(req.headersDistinct).filter((h) => h.startsWith('impersonate-extra-'));
    if (!users.length) {
      if (groups.length || uids.length || extraHeaders.length) {
        throw new ApiError(
          500,
          'InternalError',
          `Internal error occurred: requested impersonation of groups [${groups.join(' ')}] without impersonating a user`,
        );
      }
      return requester;
    }
    const name = users[0];
    const attrs = (resource: string, objName: string, extra: Partial<RequestAttributes> = {}): RequestAttributes => ({
      verb: 'impersonate',
      resourceRequest: true,
      path: '',
      apiGroup: '',
      apiVersion: '',
      resource,
      subresource: '',
      namespace: '',
      name: objName,
      ...extra,
    });
    const sa = parseServiceAccountUser(name);
    this.check(requester, sa ? attrs('serviceaccounts', sa.name, { namespace: sa.namespace }) : attrs('users', name));
    for (const g of groups) this.check(requester, attrs('groups', g));
    for (const u of uids) this.check(requester, attrs('uids', u, { apiGroup: 'authentication.k8s.io' }));
    const extra: Record<string, string[]> = {};
    for (const h of extraHeaders) {
      const key = decodeURIComponent(h.slice('impersonate-extra-'.length));
      for (const v of header(req, h))
        this.check(requester, attrs('userextras', v, { apiGroup: 'authentication.k8s.io', subresource: key }));
      extra[key] = header(req, h);
    }
    // A ServiceAccount's groups are a fixed mapping; they are added when none are asked for.
    const outGroups = [
      ...(sa && !groups.length ? serviceAccountGroups(sa.namespace).filter((g) => g !== AUTHENTICATED) : groups),
    ];
    if (name === ANONYMOUS.name) {
      if (!outGroups.includes(UNAUTHENTICATED)) outGroups.push(UNAUTHENTICATED);
    } else if (!outGroups.includes(AUTHENTICATED) && !outGroups.includes(UNAUTHENTICATED))
      outGroups.push(AUTHENTICATED);
    const user: UserInfo = { name, groups: outGroups };
    if (uids.length) user.uid = uids[0];
    if (Object.keys(extra).length) user.extra = extra;
    return user;
  }
}
