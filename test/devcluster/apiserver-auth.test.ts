// The API server's secure port as kube-apiserver's: TLS with the generated CA, ServiceAccount
// tokens from TokenRequest (expiry, deleted ServiceAccounts and pods), RBAC with kube-apiserver's
// 403 wording, impersonation and truthful access reviews (real kubectl), the ServiceAccount
// admission plugin, and the `kubernetes` Service and `kube-root-ca.crt` ConfigMaps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, Agent } from 'node:https';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../hack/devcluster/apiserver/index.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';

let cluster: TestCluster;
let clock = Date.now();
let agent: Agent;

interface Reply {
  code: number;
  body: any;
}

/** A request to the secure port, trusting only the cluster CA. */
function secure(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
  headers: Record<string, string | string[]> = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${cluster.api.secureUrl}${path}`,
      {
        method,
        agent,
        headers: {
          'Content-Type': 'application/json',
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
      },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, body: data ? JSON.parse(data) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** The same through the insecure port (superuser). */
async function admin(method: string, path: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${cluster.url}${path}`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { code: res.status, body: text ? JSON.parse(text) : undefined };
}

async function must(method: string, path: string, body?: unknown): Promise<any> {
  const r = await admin(method, path, body);
  assert.ok(r.code < 300, `${method} ${path}: ${r.code} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function tokenFor(ns: string, sa: string, spec: Record<string, unknown> = {}): Promise<string> {
  const r = await admin('POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec,
  });
  assert.is(r.code, 201, JSON.stringify(r.body));
  return r.body.status.token;
}

test.before(async () => {
  cluster = await startTestCluster({ apiserver: { now: () => clock } });
  agent = new Agent({ ca: cluster.api.caCert });
  await must('POST', '/api/v1/namespaces', { metadata: { name: 'auth' } });
  await cluster.api.settled();
  await must('POST', '/api/v1/namespaces/auth/serviceaccounts', { metadata: { name: 'reader' } });
});

test.after(async () => {
  agent?.destroy();
  await cluster?.stop();
});

test('the secure port serves TLS with a certificate the generated CA signed, for its names', async () => {
  const r = await secure('GET', '/version');
  assert.is(r.code, 200);
  assert.is(r.body.gitVersion, 'v1.31.0');
  assert.match(cluster.api.secureUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  assert.is(readFileSync(cluster.api.caFile, 'utf8'), cluster.api.caCert);
  // Without the CA the certificate is not trusted.
  const untrusted = await fetch(`${cluster.api.secureUrl}/version`).then(
    () => 'trusted',
    (err) => String(err.cause?.code ?? err),
  );
  assert.match(untrusted, /SELF_SIGNED|UNABLE_TO_VERIFY|unable to verify/i);
});

test('a TokenRequest token authenticates as its ServiceAccount', async () => {
  const token = await tokenFor('auth', 'reader');
  const r = await secure('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
  });
  assert.is(r.code, 201, JSON.stringify(r.body));
  assert.is(r.body.status.userInfo.username, 'system:serviceaccount:auth:reader');
  assert.equal(r.body.status.userInfo.groups, [
    'system:serviceaccounts',
    'system:serviceaccounts:auth',
    'system:authenticated',
  ]);
});

test('TokenRequest validates expirationSeconds and answers the expiry', async () => {
  const short = await admin('POST', '/api/v1/namespaces/auth/serviceaccounts/reader/token', {
    spec: { expirationSeconds: 60 },
  });
  assert.is(short.code, 422);
  assert.is(
    short.body.message,
    'TokenRequest.authentication.k8s.io "reader" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
  );
  const missing = await admin('POST', '/api/v1/namespaces/auth/serviceaccounts/nobody/token', { spec: {} });
  assert.is(missing.code, 404);
  assert.is(missing.body.message, 'serviceaccounts "nobody" not found');
  const ok = await admin('POST', '/api/v1/namespaces/auth/serviceaccounts/reader/token', {
    spec: { expirationSeconds: 600, audiences: ['https://kubernetes.default.svc.cluster.local'] },
  });
  assert.is(ok.code, 201);
  assert.equal(ok.body.spec.audiences, ['https://kubernetes.default.svc.cluster.local']);
  const left = Date.parse(ok.body.status.expirationTimestamp) - clock;
  assert.ok(left > 590_000 && left <= 600_000, `expires in ${left} ms`);
});

test("without a binding the ServiceAccount is refused with kube-apiserver's message; a RoleBinding allows it", async () => {
  const token = await tokenFor('auth', 'reader');
  const denied = await secure('GET', '/api/v1/namespaces/auth/pods', token);
  assert.is(denied.code, 403);
  assert.is(denied.body.reason, 'Forbidden');
  assert.is(
    denied.body.message,
    'pods is forbidden: User "system:serviceaccount:auth:reader" cannot list resource "pods" in API group "" in the namespace "auth"',
  );
  await must('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/auth/roles', {
    metadata: { name: 'pod-reader' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
  });
  await must('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/auth/rolebindings', {
    metadata: { name: 'reader-pods' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'auth' }],
  });
  assert.is((await secure('GET', '/api/v1/namespaces/auth/pods', token)).code, 200);
  // A watch is authorized as `watch`, in the Role's namespace only.
  assert.is((await secure('GET', '/api/v1/namespaces/auth/pods?watch=true&timeoutSeconds=1', token)).code, 200);
  const elsewhere = await secure('GET', '/api/v1/namespaces/default/pods', token);
  assert.is(elsewhere.code, 403);
  assert.is(
    (await secure('DELETE', '/api/v1/namespaces/auth/pods/x', token)).body.message,
    'pods "x" is forbidden: User "system:serviceaccount:auth:reader" cannot delete resource "pods" in API group "" in the namespace "auth"',
  );
});

test('a ClusterRoleBinding grants cluster-wide', async () => {
  const token = await tokenFor('auth', 'reader');
  assert.is((await secure('GET', '/api/v1/nodes', token)).code, 403);
  await must('POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: 'auth-reader-view' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: 'auth' }],
  });
  // `view` is aggregated from system:aggregate-to-view by the aggregation controller.
  assert.is((await secure('GET', '/api/v1/namespaces/default/configmaps', token)).code, 200);
  assert.is((await secure('GET', '/api/v1/services', token)).code, 200);
  assert.is((await secure('GET', '/api/v1/namespaces/default/secrets', token)).code, 403);
  await must('DELETE', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/auth-reader-view');
});

test('unknown, expired and orphaned tokens are 401; no token is system:anonymous', async () => {
  const unknown = await secure('GET', '/api/v1/namespaces/auth/pods', 'not-a-token');
  assert.is(unknown.code, 401);
  assert.equal(unknown.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Unauthorized',
    reason: 'Unauthorized',
    code: 401,
  });
  const anonymous = await secure('GET', '/api/v1/namespaces/auth/pods');
  assert.is(anonymous.code, 403);
  assert.match(anonymous.body.message, /User "system:anonymous" cannot list/);

  const token = await tokenFor('auth', 'reader', { expirationSeconds: 600 });
  assert.is((await secure('GET', '/api/v1/namespaces/auth/pods', token)).code, 200);
  clock += 601_000;
  try {
    assert.is((await secure('GET', '/api/v1/namespaces/auth/pods', token)).code, 401);
  } finally {
    clock -= 601_000;
  }

  await must('POST', '/api/v1/namespaces/auth/serviceaccounts', { metadata: { name: 'doomed' } });
  await must('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/auth/rolebindings', {
    metadata: { name: 'doomed-pods' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'doomed' }],
  });
  const doomed = await tokenFor('auth', 'doomed');
  assert.is((await secure('GET', '/api/v1/namespaces/auth/pods', doomed)).code, 200);
  await must('DELETE', '/api/v1/namespaces/auth/serviceaccounts/doomed');
  assert.is((await secure('GET', '/api/v1/namespaces/auth/pods', doomed)).code, 401);
  // A ServiceAccount re-created under the same name is another one (new uid).
  await must('POST', '/api/v1/namespaces/auth/serviceaccounts', { metadata: { name: 'doomed' } });
  assert.is((await secure('GET', '/api/v1/namespaces/auth/pods', doomed)).code, 401);
});

test('a token bound to a pod dies with the pod', async () => {
  const pod = await must('POST', '/api/v1/namespaces/auth/pods', {
    metadata: { name: 'bound' },
    spec: { serviceAccountName: 'reader', containers: [{ name: 'c', image: 'busybox:1' }] },
  });
  const r = await admin('POST', '/api/v1/namespaces/auth/serviceaccounts/reader/token', {
    spec: {
      expirationSeconds: 3607,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: pod.metadata.uid },
    },
  });
  assert.is(r.code, 201, JSON.stringify(r.body));
  // The kubelet's 3607 s tokens live a year but report the requested expiry.
  const left = Date.parse(r.body.status.expirationTimestamp) - clock;
  assert.ok(left > 3_590_000 && left <= 3_607_000, `reported expiry in ${left} ms`);
  const token = r.body.status.token;
  const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  assert.equal(claims['kubernetes.io'].pod, { name: 'bound', uid: pod.metadata.uid });
  assert.ok(claims.exp - claims.iat > 300 * 24 * 3600);
  const who = await secure('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', token, {
    kind: 'SelfSubjectReview',
    apiVersion: 'authentication.k8s.io/v1',
  });
  assert.equal(who.body.status.userInfo.extra['authentication.kubernetes.io/pod-name'], ['bound']);
  const wrongUid = await admin('POST', '/api/v1/namespaces/auth/serviceaccounts/reader/token', {
    spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound', uid: 'not-the-uid' } },
  });
  assert.is(wrongUid.code, 409);
  const otherSa = await admin('POST', '/api/v1/namespaces/auth/serviceaccounts/default/token', {
    spec: { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'bound' } },
  });
  assert.is(otherSa.code, 400);
  assert.is(
    otherSa.body.message,
    'cannot bind token for serviceaccount "default" to pod running with different serviceaccount name.',
  );
  await must('DELETE', '/api/v1/namespaces/auth/pods/bound');
  assert.is((await secure('GET', '/api/v1/namespaces/auth/pods', token)).code, 401);
});

test("SelfSubjectAccessReview over the secure port answers for the token's ServiceAccount", async () => {
  const token = await tokenFor('auth', 'reader');
  const review = (verb: string, resource: string, namespace: string) =>
    secure('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', token, {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { namespace, verb, resource } },
    });
  const yes = await review('list', 'pods', 'auth');
  assert.is(yes.code, 201, JSON.stringify(yes.body));
  assert.equal(yes.body.status, {
    allowed: true,
    reason: 'RBAC: allowed by RoleBinding "reader-pods/auth" of Role "pod-reader" to ServiceAccount "reader/auth"',
  });
  assert.equal((await review('create', 'pods', 'auth')).body.status, { allowed: false });
  const rules = await secure('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', token, {
    kind: 'SelfSubjectRulesReview',
    apiVersion: 'authorization.k8s.io/v1',
    spec: { namespace: 'auth' },
  });
  assert.ok(rules.body.status.resourceRules.some((r: any) => r.resources.includes('pods') && r.verbs.includes('list')));
  // SubjectAccessReview (a privileged call) answers for spec.user/groups.
  const sar = await admin('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    kind: 'SubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    spec: {
      user: 'system:serviceaccount:auth:reader',
      groups: ['system:serviceaccounts'],
      resourceAttributes: { namespace: 'default', verb: 'list', resource: 'pods' },
    },
  });
  assert.is(sar.body.status.allowed, false);
  const asReader = await secure('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', token, {
    kind: 'SubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    spec: { user: 'x', nonResourceAttributes: { path: '/', verb: 'get' } },
  });
  assert.is(asReader.code, 403);
});

test('kubectl auth can-i --as a ServiceAccount answers no, then yes after a RoleBinding', async () => {
  await must('POST', '/api/v1/namespaces/auth/serviceaccounts', { metadata: { name: 'cani' } });
  const canI = () =>
    cluster.kubectl(['auth', 'can-i', 'list', 'pods', '--as=system:serviceaccount:auth:cani', '-n', 'auth']);
  const before = await canI();
  assert.is(before.stdout.trim(), 'no', before.stderr);
  await must('POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/auth/rolebindings', {
    metadata: { name: 'cani-pods' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
    subjects: [{ kind: 'ServiceAccount', name: 'cani', namespace: 'auth' }],
  });
  const after = await canI();
  assert.is(after.stdout.trim(), 'yes', after.stderr);
  const who = await cluster.kubectl([
    'auth',
    'whoami',
    '--as=system:serviceaccount:auth:cani',
    '-o',
    'jsonpath={.status.userInfo.username}',
  ]);
  assert.is(who.stdout, 'system:serviceaccount:auth:cani', who.stderr);
  // Impersonating needs `impersonate`: the ServiceAccount itself may not.
  const token = await tokenFor('auth', 'cani');
  const imp = await secure('GET', '/api/v1/namespaces/auth/pods', token, undefined, { 'Impersonate-User': 'admin' });
  assert.is(imp.code, 403);
  assert.is(
    imp.body.message,
    'users "admin" is forbidden: User "system:serviceaccount:auth:cani" cannot impersonate resource "users" in API group "" at the cluster scope',
  );
});

test("RBAC writes: no granting what the requester does not hold, unless it may escalate or bind (kube-apiserver's wording)", async () => {
  const RBAC = '/apis/rbac.authorization.k8s.io/v1/namespaces/esc';
  const podRole = (name: string, verbs: string[]) => ({
    metadata: { name },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs }],
  });
  const binding = (name: string, role: string) => ({
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
    subjects: [{ kind: 'User', name: 'someone' }],
  });
  const grants = (verbs: string[]) => ({
    apiGroups: ['rbac.authorization.k8s.io'],
    resources: ['roles', 'rolebindings'],
    verbs,
  });
  await must('POST', '/api/v1/namespaces', { metadata: { name: 'esc' } });
  await must('POST', '/api/v1/namespaces/esc/serviceaccounts', { metadata: { name: 'granter' } });
  await must('POST', `${RBAC}/roles`, {
    metadata: { name: 'granter' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }, grants(['create', 'update', 'patch'])],
  });
  await must('POST', `${RBAC}/rolebindings`, {
    metadata: { name: 'granter' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'granter' },
    subjects: [{ kind: 'ServiceAccount', name: 'granter' }],
  });
  const token = await tokenFor('esc', 'granter');
  const who =
    'user "system:serviceaccount:esc:granter" (groups=["system:serviceaccounts" "system:serviceaccounts:esc" "system:authenticated"])';

  assert.is((await secure('POST', `${RBAC}/roles`, token, podRole('get-pods', ['get']))).code, 201);
  const refused = await secure('POST', `${RBAC}/roles`, token, podRole('list-pods', ['list']));
  assert.is(refused.code, 403);
  assert.is(refused.body.reason, 'Forbidden');
  assert.is(
    refused.body.message,
    `roles.rbac.authorization.k8s.io "list-pods" is forbidden: ${who} is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["list"]}`,
  );
  assert.equal(refused.body.details, { name: 'list-pods', group: 'rbac.authorization.k8s.io', kind: 'roles' });
  // A patch is checked on the object it would store.
  const patched = await secure(
    'PATCH',
    `${RBAC}/roles/get-pods`,
    token,
    { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete'] }] },
    { 'Content-Type': 'application/merge-patch+json' },
  );
  assert.is(patched.code, 403, JSON.stringify(patched.body));
  assert.match(
    patched.body.message,
    /not currently held:\n\{APIGroups:\[""\], Resources:\["pods"\], Verbs:\["delete"\]\}$/,
  );
  // Impersonating the ServiceAccount (here through the insecure port) is refused alike.
  const asGranter = await fetch(`${cluster.url}${RBAC}/roles`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'Impersonate-User': 'system:serviceaccount:esc:granter' },
    body: JSON.stringify(podRole('list-pods', ['list'])),
  });
  assert.is(asGranter.status, 403);
  assert.is((await asGranter.json()).message, refused.body.message);

  // A binding to a role it holds only part of is refused; `bind` on that role's name allows it.
  await must('POST', `${RBAC}/roles`, podRole('reader', ['get', 'list', 'watch']));
  assert.is((await secure('POST', `${RBAC}/rolebindings`, token, binding('to-get-pods', 'get-pods'))).code, 201);
  const unbound = await secure('POST', `${RBAC}/rolebindings`, token, binding('to-reader', 'reader'));
  assert.is(unbound.code, 403);
  assert.is(
    unbound.body.message,
    `rolebindings.rbac.authorization.k8s.io "to-reader" is forbidden: ${who} is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["pods"], Verbs:["list" "watch"]}`,
  );
  const missing = await secure('POST', `${RBAC}/rolebindings`, token, binding('to-nothing', 'nothing'));
  assert.is(missing.code, 404);
  assert.is(missing.body.message, 'roles.rbac.authorization.k8s.io "nothing" not found');
  await must('POST', `${RBAC}/roles`, {
    metadata: { name: 'bind-reader' },
    rules: [
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], resourceNames: ['reader'], verbs: ['bind'] },
    ],
  });
  await must('POST', `${RBAC}/rolebindings`, {
    ...binding('bind-reader', 'bind-reader'),
    subjects: [{ kind: 'ServiceAccount', name: 'granter' }],
  });
  assert.is((await secure('POST', `${RBAC}/rolebindings`, token, binding('to-reader', 'reader'))).code, 201);

  // `escalate` on roles waives the check for Roles.
  await must('POST', `${RBAC}/roles`, {
    metadata: { name: 'escalate' },
    rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] }],
  });
  await must('POST', `${RBAC}/rolebindings`, {
    ...binding('escalate', 'escalate'),
    subjects: [{ kind: 'ServiceAccount', name: 'granter' }],
  });
  assert.is((await secure('POST', `${RBAC}/roles`, token, podRole('list-pods', ['list']))).code, 201);

  // system:masters (the admin token) and the insecure port are not checked.
  const everything = {
    metadata: { name: 'everything' },
    rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
  };
  assert.is((await secure('POST', `${RBAC}/roles`, cluster.api.adminToken, everything)).code, 201);
  await must('POST', `${RBAC}/roles`, { ...everything, metadata: { name: 'everything-too' } });
});

test('kubectl over the secure port: the admin kubeconfig, and a ServiceAccount token from `kubectl create token`', async () => {
  const kubeconfig = join(cluster.dir, 'secure-kubeconfig');
  cluster.api.writeSecureKubeconfig(kubeconfig);
  const get = await cluster.kubectl(['--kubeconfig', kubeconfig, 'get', 'ns', 'auth', '-o', 'name']);
  assert.is(get.stdout.trim(), 'namespace/auth', get.stderr);
  const created = await cluster.kubectl(['create', 'token', 'reader', '-n', 'auth', '--duration', '15m']);
  assert.is(created.code, 0, created.stderr);
  const asReader = await cluster.kubectl([
    '--kubeconfig',
    kubeconfig,
    '--token',
    created.stdout.trim(),
    'get',
    'secrets',
    '-n',
    'auth',
  ]);
  assert.is(asReader.code, 1);
  assert.match(
    asReader.stderr,
    /Error from server \(Forbidden\): secrets is forbidden: User "system:serviceaccount:auth:reader" cannot list resource "secrets" in API group "" in the namespace "auth"/,
  );
});

test('ServiceAccount admission: default account, kube-api-access volume and mounts, automount opt-out, missing account', async () => {
  const pod = await must('POST', '/api/v1/namespaces/auth/pods', {
    metadata: { name: 'mounted' },
    spec: {
      initContainers: [{ name: 'init', image: 'busybox:1' }],
      containers: [
        { name: 'a', image: 'busybox:1' },
        {
          name: 'b',
          image: 'busybox:1',
          volumeMounts: [{ name: 'own', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        },
      ],
      volumes: [{ name: 'own', emptyDir: {} }],
    },
  });
  assert.is(pod.spec.serviceAccountName, 'default');
  const vol = pod.spec.volumes.find((v: any) => v.name.startsWith('kube-api-access-'));
  assert.match(vol.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.equal(vol.projected, {
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
    defaultMode: 420,
  });
  const mount = { name: vol.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' };
  assert.equal(pod.spec.initContainers[0].volumeMounts, [mount]);
  assert.equal(pod.spec.containers[0].volumeMounts, [mount]);
  assert.equal(pod.spec.containers[1].volumeMounts, [
    { name: 'own', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
  ]);

  const optOut = await must('POST', '/api/v1/namespaces/auth/pods', {
    metadata: { name: 'no-token' },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'a', image: 'busybox:1' }] },
  });
  assert.is(optOut.spec.volumes, undefined);
  await must('POST', '/api/v1/namespaces/auth/serviceaccounts', {
    metadata: { name: 'quiet' },
    automountServiceAccountToken: false,
  });
  const saOptOut = await must('POST', '/api/v1/namespaces/auth/pods', {
    metadata: { name: 'quiet-pod' },
    spec: { serviceAccountName: 'quiet', containers: [{ name: 'a', image: 'busybox:1' }] },
  });
  assert.is(saOptOut.spec.volumes, undefined);
  // The pod's setting wins over its ServiceAccount's.
  const podWins = await must('POST', '/api/v1/namespaces/auth/pods', {
    metadata: { name: 'loud-pod' },
    spec: {
      serviceAccountName: 'quiet',
      automountServiceAccountToken: true,
      containers: [{ name: 'a', image: 'busybox:1' }],
    },
  });
  assert.is(podWins.spec.volumes.length, 1);

  const missing = await admin('POST', '/api/v1/namespaces/auth/pods', {
    metadata: { name: 'orphan' },
    spec: { serviceAccountName: 'ghost', containers: [{ name: 'a', image: 'busybox:1' }] },
  });
  assert.is(missing.code, 403);
  assert.is(
    missing.body.message,
    'pods "orphan" is forbidden: error looking up service account auth/ghost: serviceaccount "ghost" not found',
  );
  for (const name of ['mounted', 'no-token', 'quiet-pod', 'loud-pod'])
    await must('DELETE', `/api/v1/namespaces/auth/pods/${name}`);
});

test('the kubernetes Service, its Endpoints and EndpointSlice, and kube-root-ca.crt in every namespace', async () => {
  const svc = await must('GET', '/api/v1/namespaces/default/services/kubernetes');
  assert.is(svc.spec.clusterIP, cluster.api.serviceIp);
  assert.match(svc.spec.clusterIP, /^127\.96\.\d+\.\d+$/);
  assert.equal(svc.spec.ports, [{ name: 'https', port: 443, protocol: 'TCP', targetPort: cluster.api.securePort }]);
  const ep = await must('GET', '/api/v1/namespaces/default/endpoints/kubernetes');
  assert.equal(ep.subsets, [
    { addresses: [{ ip: '127.0.0.1' }], ports: [{ name: 'https', port: cluster.api.securePort, protocol: 'TCP' }] },
  ]);
  const slice = await must('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/kubernetes');
  assert.equal(slice.endpoints[0].addresses, ['127.0.0.1']);
  const cms = await must('GET', '/api/v1/configmaps?fieldSelector=metadata.name%3Dkube-root-ca.crt');
  const namespaces = (await must('GET', '/api/v1/namespaces')).items.map((n: any) => n.metadata.name).sort();
  assert.equal(cms.items.map((c: any) => c.metadata.namespace).sort(), namespaces);
  assert.is(cms.items[0].data['ca.crt'], cluster.api.caCert);
  // Both are put back when deleted.
  await must('DELETE', '/api/v1/namespaces/auth/configmaps/kube-root-ca.crt');
  await must('DELETE', '/api/v1/namespaces/default/endpoints/kubernetes');
  await cluster.api.settled();
  assert.is((await admin('GET', '/api/v1/namespaces/auth/configmaps/kube-root-ca.crt')).code, 200);
  assert.is((await admin('GET', '/api/v1/namespaces/default/endpoints/kubernetes')).code, 200);
});

test('with a data dir, the CA, the signing key and issued tokens survive a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiserver-auth-'));
  try {
    let api = await startApiServer({ dataDir: dir });
    const res = await fetch(`${api.url}/api/v1/namespaces/default/serviceaccounts/default/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"spec":{}}',
    });
    const token = (await res.json()).status.token;
    const ca = api.caCert;
    await api.stop();
    api = await startApiServer({ dataDir: dir });
    try {
      assert.is(api.caCert, ca);
      const a = new Agent({ ca: api.caCert });
      const code = await new Promise<number>((resolve, reject) => {
        request(
          `${api.secureUrl}/apis/authentication.k8s.io/v1/selfsubjectreviews`,
          {
            method: 'POST',
            agent: a,
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          },
          (r) => {
            r.resume();
            resolve(r.statusCode ?? 0);
          },
        )
          .on('error', reject)
          .end('{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1"}');
      });
      assert.is(code, 201);
      a.destroy();
    } finally {
      await api.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
