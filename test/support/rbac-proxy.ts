// A recording, authorizing front for the dev cluster's insecure port: every request through it
// is made as one ServiceAccount, checked with the API server's own RBAC authorizer
// (hack/devcluster/apiserver/rbac.ts) against the Roles, ClusterRoles and bindings stored in
// the cluster (default policy included), answered 403 with kube-apiserver's Status when
// denied, and forwarded (watch streams included) when allowed. Every decision is recorded, so
// a test can compare the operator's real API calls with the chart's rules.
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { writeFileSync } from 'node:fs';
import {
  authorize,
  forbiddenStatus,
  requestAttributes,
  type BindingLike,
  type RbacState,
  type RequestAttributes,
  type RoleLike,
  type UserInfo,
} from '../../hack/devcluster/apiserver/rbac.js';

export interface RecordedCall extends RequestAttributes {
  allowed: boolean;
  reason: string;
  code?: number;
}

export interface RbacProxy {
  url: string;
  calls: RecordedCall[];
  writeKubeconfig(path: string): void;
  stop(): Promise<void>;
}

async function list<T>(upstream: string, path: string): Promise<T[]> {
  const res = await fetch(`${upstream}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return ((await res.json()) as { items: T[] }).items;
}

export async function readRbacState(upstream: string): Promise<RbacState> {
  const base = '/apis/rbac.authorization.k8s.io/v1';
  const [roles, clusterRoles, roleBindings, clusterRoleBindings] = await Promise.all([
    list<RoleLike>(upstream, `${base}/roles`),
    list<RoleLike>(upstream, `${base}/clusterroles`),
    list<BindingLike>(upstream, `${base}/rolebindings`),
    list<BindingLike>(upstream, `${base}/clusterrolebindings`),
  ]);
  return {
    roles: roles.map((r) => ({ ...r, kind: 'Role' })),
    clusterRoles: clusterRoles.map((r) => ({ ...r, kind: 'ClusterRole' })),
    roleBindings: roleBindings.map((b) => ({ ...b, kind: 'RoleBinding' })),
    clusterRoleBindings: clusterRoleBindings.map((b) => ({ ...b, kind: 'ClusterRoleBinding' })),
  };
}

async function exists(upstream: string, url: string): Promise<boolean> {
  const res = await fetch(`${upstream}${new URL(url, 'http://x').pathname}`);
  await res.arrayBuffer();
  return res.ok;
}

function forbidden(res: ServerResponse, user: UserInfo, a: RequestAttributes, reason: string): void {
  res.writeHead(403, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(forbiddenStatus(user, a, reason)));
}

export async function startRbacProxy(opts: { upstream: string; user: UserInfo; token: string }): Promise<RbacProxy> {
  const calls: RecordedCall[] = [];
  const upstream = new URL(opts.upstream);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const a = requestAttributes(req.method ?? 'GET', req.url ?? '/');
    if (req.headers.authorization !== `Bearer ${opts.token}`) {
      res.writeHead(401, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          message: 'Unauthorized',
          reason: 'Unauthorized',
          code: 401,
        }),
      );
      return;
    }
    const state = await readRbacState(opts.upstream);
    const decision = authorize(state, opts.user, a);
    const call: RecordedCall = { ...a, ...decision };
    calls.push(call);
    if (!decision.allowed) return forbidden(res, opts.user, a, decision.reason);
    // A server-side apply that creates the object is also authorized as `create`
    // (k8s.io/apiserver handlers/patch.go), so check that too when the object is missing.
    if (
      a.verb === 'patch' &&
      String(req.headers['content-type']).startsWith('application/apply-patch') &&
      !(await exists(opts.upstream, req.url ?? '/'))
    ) {
      const create = { ...a, verb: 'create' };
      const d = authorize(state, opts.user, create);
      calls.push({ ...create, ...d });
      if (!d.allowed) return forbidden(res, opts.user, create, d.reason);
    }
    // Forwarded as the ServiceAccount (impersonation), so the API server's own checks that go
    // beyond authorization (RBAC escalation prevention on the router Roles) apply too.
    const headers: Record<string, string | string[] | undefined> = {
      ...req.headers,
      host: upstream.host,
      'impersonate-user': opts.user.name,
      'impersonate-group': opts.user.groups,
    };
    delete headers.authorization;
    const up = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (ur) => {
        call.code = ur.statusCode;
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    res.on('close', () => up.destroy());
    req.pipe(up);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    writeKubeconfig: (path) =>
      writeFileSync(
        path,
        [
          'apiVersion: v1',
          'kind: Config',
          'current-context: sa',
          'clusters:',
          '- name: devcluster',
          '  cluster:',
          `    server: ${url}`,
          '    insecure-skip-tls-verify: true',
          'users:',
          '- name: sa',
          '  user:',
          `    token: ${opts.token}`,
          'contexts:',
          '- name: sa',
          '  context:',
          '    cluster: devcluster',
          '    user: sa',
          '',
        ].join('\n'),
        { mode: 0o600 },
      ),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}
