// The API server's RBAC model (hack/devcluster/apiserver/rbac.ts), which the secure port and
// the chart tests' proxy enforce: request attributes as kube-apiserver derives them, the RBAC
// authorizer's decisions (bindings, scopes, subresources, resourceNames, groups) and reasons,
// aggregation and the rules a user holds, table-driven.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  aggregatedRules,
  authorize,
  forbiddenMessage,
  grantedPermissions,
  requestAttributes,
  rulesFor,
  serviceAccountUser,
  type RbacState,
  type RoleLike,
} from '../../hack/devcluster/apiserver/rbac.js';
import { bootstrapPolicy } from '../../hack/devcluster/apiserver/bootstrap-policy.js';

const ATTRS: Array<[string, string, Partial<ReturnType<typeof requestAttributes>>]> = [
  ['GET', '/api/v1/pods', { verb: 'list', resource: 'pods', namespace: '', apiGroup: '' }],
  ['GET', '/api/v1/pods?watch=true&resourceVersion=5', { verb: 'watch', resource: 'pods' }],
  ['GET', '/api/v1/namespaces/ml/pods/p1', { verb: 'get', namespace: 'ml', resource: 'pods', name: 'p1' }],
  ['GET', '/api/v1/namespaces/ml/pods/p1/log', { verb: 'get', resource: 'pods', subresource: 'log', name: 'p1' }],
  [
    'PUT',
    '/apis/modelship.dev/v1alpha1/namespaces/ml/trainingruns/r/status',
    { verb: 'update', apiGroup: 'modelship.dev', resource: 'trainingruns', subresource: 'status', name: 'r' },
  ],
  ['PATCH', '/api/v1/namespaces/ml/events/e1', { verb: 'patch', resource: 'events', name: 'e1' }],
  ['POST', '/apis/batch/v1/namespaces/ml/jobs', { verb: 'create', apiGroup: 'batch', resource: 'jobs', name: '' }],
  ['DELETE', '/apis/batch/v1/namespaces/ml/jobs', { verb: 'deletecollection' }],
  ['DELETE', '/apis/batch/v1/namespaces/ml/jobs/j', { verb: 'delete', name: 'j' }],
  ['GET', '/api/v1/namespaces/ml', { verb: 'get', resource: 'namespaces', name: 'ml', namespace: 'ml' }], // as kube-apiserver: both
  [
    'GET',
    '/apis/coordination.k8s.io/v1/namespaces/ops/leases?fieldSelector=metadata.name%3Dlead&watch=1',
    { verb: 'watch', resource: 'leases', name: 'lead', namespace: 'ops' },
  ],
  ['GET', '/apis/modelship.dev/v1alpha1', { resourceRequest: false }],
  ['GET', '/version', { resourceRequest: false, verb: 'get' }],
  // As upstream: a GET of one object is a get even with watch=true; /watch/ paths are watches.
  ['GET', '/api/v1/namespaces/ml/pods/p1?watch=true', { verb: 'get', name: 'p1' }],
  ['GET', '/api/v1/watch/namespaces/ml/pods/p1', { verb: 'watch', name: 'p1', namespace: 'ml', resource: 'pods' }],
  [
    'GET',
    '/api/v1/namespaces/ml/status',
    { resource: 'namespaces', name: 'ml', subresource: 'status', namespace: 'ml' },
  ],
  [
    'GET',
    '/api/v1/namespaces/ml/pods?fieldSelector=status.phase%3DRunning%2Cmetadata.name%3Dp2',
    { verb: 'list', name: 'p2' },
  ],
  [
    'POST',
    '/api/v1/namespaces/ml/serviceaccounts/sa/token',
    { verb: 'create', resource: 'serviceaccounts', subresource: 'token', name: 'sa' },
  ],
];

for (const [method, url, want] of ATTRS) {
  test(`attributes of ${method} ${url}`, () => {
    const got = requestAttributes(method, url);
    for (const [k, v] of Object.entries(want)) assert.equal(got[k as keyof typeof got], v, `${k}`);
  });
}

const SA = serviceAccountUser('ops', 'op');
const STATE: RbacState = {
  clusterRoles: [
    {
      kind: 'ClusterRole',
      metadata: { name: 'reader' },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['modelship.dev'], resources: ['trainingruns/status'], verbs: ['update'] },
      ],
    },
    {
      kind: 'ClusterRole',
      metadata: { name: 'jobs' },
      rules: [{ apiGroups: ['batch'], resources: ['jobs'], verbs: ['create'] }],
    },
    {
      kind: 'ClusterRole',
      metadata: { name: 'unbound' },
      rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }],
    },
  ],
  roles: [
    {
      kind: 'Role',
      metadata: { name: 'lease', namespace: 'ops' },
      rules: [
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          resourceNames: ['lead'],
          verbs: ['get', 'update'],
        },
      ],
    },
  ],
  clusterRoleBindings: [
    {
      kind: 'ClusterRoleBinding',
      metadata: { name: 'r' },
      roleRef: { kind: 'ClusterRole', name: 'reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'op', namespace: 'ops' }],
    },
  ],
  roleBindings: [
    {
      kind: 'RoleBinding',
      metadata: { name: 'l', namespace: 'ops' },
      roleRef: { kind: 'Role', name: 'lease' },
      subjects: [{ kind: 'ServiceAccount', name: 'op' }],
    },
    {
      kind: 'RoleBinding',
      metadata: { name: 'j', namespace: 'ml' },
      roleRef: { kind: 'ClusterRole', name: 'jobs' },
      subjects: [{ kind: 'Group', name: 'system:serviceaccounts:ops' }],
    },
  ],
};

const DECISIONS: Array<[string, string, boolean]> = [
  ['GET', '/api/v1/pods', true],
  ['GET', '/api/v1/namespaces/ml/pods?watch=1', true],
  ['DELETE', '/api/v1/namespaces/ml/pods/p', false],
  ['PUT', '/apis/modelship.dev/v1alpha1/namespaces/ml/trainingruns/r/status', true],
  ['PUT', '/apis/modelship.dev/v1alpha1/namespaces/ml/trainingruns/r', false], // status does not grant the main resource
  ['POST', '/apis/batch/v1/namespaces/ml/jobs', true], // ClusterRole bound in ml through a group
  ['POST', '/apis/batch/v1/namespaces/other/jobs', false], // …and only there
  ['GET', '/apis/coordination.k8s.io/v1/namespaces/ops/leases/lead', true],
  ['GET', '/apis/coordination.k8s.io/v1/namespaces/ops/leases/other', false], // resourceNames
  ['GET', '/apis/coordination.k8s.io/v1/namespaces/ops/leases', false], // list is not limited by name
  ['PUT', '/apis/coordination.k8s.io/v1/namespaces/other/leases/lead', false], // the Role's namespace only
  ['GET', '/api/v1/secrets', false], // an unbound ClusterRole grants nothing
];

for (const [method, url, allowed] of DECISIONS) {
  test(`${allowed ? 'allows' : 'denies'} ${method} ${url}`, () => {
    const d = authorize(STATE, SA, requestAttributes(method, url));
    assert.is(d.allowed, allowed, d.reason);
  });
}

test('another ServiceAccount with the same name in another namespace is not the bound subject', () => {
  assert.is(authorize(STATE, serviceAccountUser('ml', 'op'), requestAttributes('GET', '/api/v1/pods')).allowed, false);
});

test("denials carry kube-apiserver's message", () => {
  assert.is(
    forbiddenMessage(SA, requestAttributes('GET', '/api/v1/namespaces/ml/secrets/s')),
    'secrets "s" is forbidden: User "system:serviceaccount:ops:op" cannot get resource "secrets" in API group "" in the namespace "ml"',
  );
  assert.is(
    forbiddenMessage(SA, requestAttributes('GET', '/apis/batch/v1/jobs')),
    'jobs.batch is forbidden: User "system:serviceaccount:ops:op" cannot list resource "jobs" in API group "batch" at the cluster scope',
  );
});

const DEFAULTS: RbacState = {
  roles: [],
  roleBindings: [],
  clusterRoles: bootstrapPolicy().filter((o) => o.kind === 'ClusterRole') as RoleLike[],
  clusterRoleBindings: bootstrapPolicy().filter(
    (o) => o.kind === 'ClusterRoleBinding',
  ) as RbacState['clusterRoleBindings'],
};

test('the default policy: discovery and self-reviews for authenticated users, /version for anyone', () => {
  const anonymous = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
  assert.ok(authorize(DEFAULTS, SA, requestAttributes('GET', '/apis/modelship.dev/v1alpha1')).allowed);
  assert.ok(authorize(DEFAULTS, SA, requestAttributes('GET', '/api')).allowed);
  assert.ok(
    authorize(DEFAULTS, SA, requestAttributes('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'))
      .allowed,
  );
  assert.not.ok(authorize(DEFAULTS, SA, requestAttributes('GET', '/api/v1/pods')).allowed);
  assert.ok(authorize(DEFAULTS, anonymous, requestAttributes('GET', '/version')).allowed);
  assert.not.ok(authorize(DEFAULTS, anonymous, requestAttributes('GET', '/api')).allowed);
  assert.ok(
    authorize(DEFAULTS, { name: 'x', groups: ['system:masters'] }, requestAttributes('DELETE', '/api/v1/nodes/n'))
      .allowed,
  );
});

test('reasons name the binding as kube-apiserver does; a dangling role ref is reported', () => {
  const allowed = authorize(
    STATE,
    SA,
    requestAttributes('GET', '/apis/coordination.k8s.io/v1/namespaces/ops/leases/lead'),
  );
  assert.is(allowed.reason, 'RBAC: allowed by RoleBinding "l/ops" of Role "lease" to ServiceAccount "op/ops"');
  const dangling: RbacState = {
    ...STATE,
    roleBindings: [
      {
        kind: 'RoleBinding',
        metadata: { name: 'd', namespace: 'ops' },
        roleRef: { kind: 'Role', name: 'gone' },
        subjects: [{ kind: 'ServiceAccount', name: 'op' }],
      },
    ],
  };
  const denied = authorize(dangling, SA, requestAttributes('GET', '/api/v1/namespaces/ops/secrets'));
  assert.is(denied.reason, 'RBAC: role.rbac.authorization.k8s.io "gone" not found');
  assert.is(
    forbiddenMessage(SA, requestAttributes('GET', '/api/v1/namespaces/ops/secrets'), denied.reason),
    'secrets is forbidden: User "system:serviceaccount:ops:op" cannot list resource "secrets" in API group "" in the namespace "ops": RBAC: role.rbac.authorization.k8s.io "gone" not found',
  );
  assert.is(
    forbiddenMessage(SA, requestAttributes('GET', '/metrics')),
    'forbidden: User "system:serviceaccount:ops:op" cannot get path "/metrics"',
  );
});

test('aggregation unions the rules of the ClusterRoles the selectors match', () => {
  const roles = DEFAULTS.clusterRoles;
  const view = roles.find((r) => r.metadata.name === 'view')!;
  const rules = aggregatedRules(view, roles)!;
  assert.ok(rules.some((r) => r.resources?.includes('pods') && r.verbs.includes('list')));
  assert.not.ok(rules.some((r) => r.resources?.includes('secrets')));
  assert.is(
    aggregatedRules(
      roles.find((r) => r.metadata.name === 'system:discovery')!,
      roles,
    ),
    undefined,
  );
});

test('rulesFor lists the rules a user holds in a namespace', () => {
  const status = rulesFor(STATE, SA, 'ops');
  assert.ok(status.resourceRules.some((r) => r.resources?.includes('leases') && r.resourceNames?.includes('lead')));
  assert.ok(status.resourceRules.some((r) => r.resources?.includes('pods')));
  assert.not.ok(rulesFor(STATE, SA, 'other').resourceRules.some((r) => r.resources?.includes('leases')));
  assert.is(status.incomplete, false);
});

test('grantedPermissions expands rules into verb group/resource keys', () => {
  assert.equal(
    [...grantedPermissions([{ apiGroups: ['', 'batch'], resources: ['jobs'], verbs: ['get', 'create'] }])].sort(),
    ['create batch/jobs', 'create core/jobs', 'get batch/jobs', 'get core/jobs'],
  );
});

test.run();
