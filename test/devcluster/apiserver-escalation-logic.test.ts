// RBAC's privilege-escalation prevention (hack/devcluster/apiserver/escalation.ts), as
// kube-apiserver's RBAC storage applies it: Covers over broken-down rule atoms (wildcards,
// `*/subresource`, resourceNames, nonResourceURLs), the compacted message, the `escalate` and
// `bind` verbs, missing roles, the aggregationRule guard and GC-only updates, table-driven.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  breakdownRule,
  compactRules,
  compactString,
  confirmNoEscalation,
  covers,
  onlyGcFieldsChange,
  rbacWriteRefusal,
  ruleCovers,
  type RbacWrite,
} from '../../hack/devcluster/apiserver/escalation.js';
import { serviceAccountUser, type PolicyRule, type RbacState } from '../../hack/devcluster/apiserver/rbac.js';

const pods = (verbs: string[], extra: Partial<PolicyRule> = {}): PolicyRule => ({
  apiGroups: [''],
  resources: ['pods'],
  verbs,
  ...extra,
});

test('BreakdownRule: one atom per verb, group, resource and name; URLs per verb', () => {
  assert.equal(breakdownRule({ apiGroups: ['', 'apps'], resources: ['pods'], verbs: ['get', 'list'] }).length, 4);
  assert.equal(breakdownRule(pods(['get'], { resourceNames: ['a', 'b'] })), [
    pods(['get'], { resourceNames: ['a'] }),
    pods(['get'], { resourceNames: ['b'] }),
  ]);
  assert.equal(breakdownRule({ nonResourceURLs: ['/healthz', '/metrics'], verbs: ['get'] }), [
    { nonResourceURLs: ['/healthz'], verbs: ['get'] },
    { nonResourceURLs: ['/metrics'], verbs: ['get'] },
  ]);
  // A rule without groups grants no resources, so there is nothing to hold.
  assert.equal(breakdownRule({ resources: ['pods'], verbs: ['get'] }), []);
});

// [owner rule, requested atom, covered]
const COVERS: Array<[string, PolicyRule, PolicyRule, boolean]> = [
  ['same verb, group and resource', pods(['get', 'list']), pods(['get']), true],
  ['another verb', pods(['get']), pods(['list']), false],
  ['`*` verbs hold any verb', pods(['*']), pods(['escalate']), true],
  [
    'a requested `*` verb needs `*`',
    pods(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection']),
    pods(['*']),
    false,
  ],
  [
    '`*` groups',
    { apiGroups: ['*'], resources: ['pods'], verbs: ['get'] },
    { apiGroups: ['apps'], resources: ['pods'], verbs: ['get'] },
    true,
  ],
  ['another group', pods(['get']), { apiGroups: ['apps'], resources: ['pods'], verbs: ['get'] }, false],
  [
    '`*` resources hold subresources',
    { apiGroups: [''], resources: ['*'], verbs: ['get'] },
    pods(['get'], { resources: ['pods/log'] }),
    true,
  ],
  [
    '`*/log` holds pods/log',
    { apiGroups: [''], resources: ['*/log'], verbs: ['get'] },
    pods(['get'], { resources: ['pods/log'] }),
    true,
  ],
  ['`*/log` does not hold pods', { apiGroups: [''], resources: ['*/log'], verbs: ['get'] }, pods(['get']), false],
  ['pods does not hold pods/log', pods(['get']), pods(['get'], { resources: ['pods/log'] }), false],
  [
    '`pods/*` is no wildcard to Covers',
    pods(['get'], { resources: ['pods/*'] }),
    pods(['get'], { resources: ['pods/log'] }),
    false,
  ],
  ['a requested `*` resource needs `*`', pods(['get']), pods(['get'], { resources: ['*'] }), false],
  ['an unrestricted rule holds a named atom', pods(['get']), pods(['get'], { resourceNames: ['p'] }), true],
  [
    'a named rule holds that name',
    pods(['get'], { resourceNames: ['p', 'q'] }),
    pods(['get'], { resourceNames: ['q'] }),
    true,
  ],
  [
    'a named rule does not hold another name',
    pods(['get'], { resourceNames: ['p'] }),
    pods(['get'], { resourceNames: ['r'] }),
    false,
  ],
  ['a named rule does not hold every name', pods(['get'], { resourceNames: ['p'] }), pods(['get']), false],
  ['a URL', { nonResourceURLs: ['/healthz'], verbs: ['get'] }, { nonResourceURLs: ['/healthz'], verbs: ['get'] }, true],
  [
    'a trailing `*` holds what it prefixes',
    { nonResourceURLs: ['/debug/*'], verbs: ['get'] },
    { nonResourceURLs: ['/debug/pprof'], verbs: ['get'] },
    true,
  ],
  [
    'a URL elsewhere',
    { nonResourceURLs: ['/debug/*'], verbs: ['get'] },
    { nonResourceURLs: ['/metrics'], verbs: ['get'] },
    false,
  ],
  ['URLs do not hold resources', { nonResourceURLs: ['*'], verbs: ['*'] }, pods(['get']), false],
  [
    'resources do not hold URLs',
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
    { nonResourceURLs: ['/healthz'], verbs: ['get'] },
    false,
  ],
];

for (const [name, owner, atom, want] of COVERS) {
  test(`ruleCovers: ${name}`, () => assert.is(ruleCovers(owner, atom), want));
}

test('Covers reports the atoms no owner rule holds', () => {
  const owner = [pods(['get']), { apiGroups: ['apps'], resources: ['deployments'], verbs: ['*'] }];
  assert.equal(
    covers(owner, [pods(['get']), { apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'delete'] }]),
    { covered: true, missing: [] },
  );
  assert.equal(covers(owner, [pods(['get', 'list', 'watch'])]).missing, [pods(['list']), pods(['watch'])]);
});

test("CompactRules merges the verbs of one group/resource; CompactString writes Go's %q", () => {
  const compact = compactRules([
    pods(['list']),
    pods(['watch']),
    pods(['get'], { resourceNames: ['x'] }),
    { nonResourceURLs: ['/metrics'], verbs: ['get'] },
  ]);
  assert.equal(compact.map(compactString), [
    '{APIGroups:[""], Resources:["pods"], ResourceNames:["x"], Verbs:["get"]}',
    '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
    '{APIGroups:[""], Resources:["pods"], Verbs:["list" "watch"]}',
  ]);
});

const SA = serviceAccountUser('ns', 'sa');
const GROUPS = 'groups=["system:serviceaccounts" "system:serviceaccounts:ns" "system:authenticated"]';
const STATE: RbacState = {
  roles: [
    {
      kind: 'Role',
      metadata: { name: 'mine', namespace: 'ns' },
      rules: [
        pods(['get']),
        {
          apiGroups: ['rbac.authorization.k8s.io'],
          resources: ['roles', 'rolebindings'],
          verbs: ['create', 'update', 'patch'],
        },
      ],
    },
    { kind: 'Role', metadata: { name: 'more', namespace: 'ns' }, rules: [pods(['get', 'list'])] },
    { kind: 'Role', metadata: { name: 'less', namespace: 'ns' }, rules: [pods(['get'], { resourceNames: ['p'] })] },
  ],
  clusterRoles: [
    {
      kind: 'ClusterRole',
      metadata: { name: 'bind-more' },
      rules: [
        { apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], resourceNames: ['more'], verbs: ['bind'] },
      ],
    },
    {
      kind: 'ClusterRole',
      metadata: { name: 'escalate' },
      rules: [{ apiGroups: ['rbac.authorization.k8s.io'], resources: ['roles'], verbs: ['escalate'] }],
    },
    {
      kind: 'ClusterRole',
      metadata: { name: 'secrets' },
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    },
  ],
  roleBindings: [
    {
      kind: 'RoleBinding',
      metadata: { name: 'mine', namespace: 'ns' },
      roleRef: { kind: 'Role', name: 'mine' },
      subjects: [{ kind: 'ServiceAccount', name: 'sa' }],
    },
    {
      kind: 'RoleBinding',
      metadata: { name: 'bind', namespace: 'bindns' },
      roleRef: { kind: 'ClusterRole', name: 'bind-more' },
      subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }],
    },
    {
      kind: 'RoleBinding',
      metadata: { name: 'esc', namespace: 'escns' },
      roleRef: { kind: 'ClusterRole', name: 'escalate' },
      subjects: [{ kind: 'ServiceAccount', name: 'sa', namespace: 'ns' }],
    },
  ],
  clusterRoleBindings: [],
};

test("ConfirmNoEscalation: kube-apiserver's message, missing rights compacted and sorted", () => {
  assert.is(confirmNoEscalation(STATE, SA, 'ns', [pods(['get'])]), undefined);
  assert.is(
    confirmNoEscalation(STATE, SA, 'ns', [
      pods(['get', 'list', 'watch']),
      { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
    ]),
    `user "system:serviceaccount:ns:sa" (${GROUPS}) is attempting to grant RBAC permissions not currently held:\n` +
      '{APIGroups:[""], Resources:["configmaps"], Verbs:["get"]}\n{APIGroups:[""], Resources:["pods"], Verbs:["list" "watch"]}',
  );
  // Rules of another namespace are not held here; cluster-wide ('') sees ClusterRoleBindings only.
  assert.ok(confirmNoEscalation(STATE, SA, 'other', [pods(['get'])]));
  assert.ok(confirmNoEscalation(STATE, SA, '', [pods(['get'])]));
});

test("ConfirmNoEscalation appends the errors met resolving the requester's roles (the registry's wording)", () => {
  const dangling: RbacState = {
    ...STATE,
    roleBindings: [
      ...STATE.roleBindings,
      {
        kind: 'RoleBinding',
        metadata: { name: 'gone', namespace: 'ns' },
        roleRef: { kind: 'Role', name: 'gone' },
        subjects: [{ kind: 'ServiceAccount', name: 'sa' }],
      },
    ],
  };
  assert.is(
    confirmNoEscalation(dangling, SA, 'ns', [pods(['list'])]),
    `user "system:serviceaccount:ns:sa" (${GROUPS}) is attempting to grant RBAC permissions not currently held:\n` +
      '{APIGroups:[""], Resources:["pods"], Verbs:["list"]}; resolution errors: [roles.rbac.authorization.k8s.io "gone" not found]',
  );
});

const role = (name: string, rules: PolicyRule[], extra: Record<string, unknown> = {}) => ({
  metadata: { name },
  rules,
  ...extra,
});
const binding = (name: string, kind: string, ref: string) => ({
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind, name: ref },
  subjects: [{ kind: 'User', name: 'u' }],
});
const write = (
  resource: string,
  namespace: string,
  object: Record<string, any>,
  old?: Record<string, any>,
  name = '',
): RbacWrite => ({
  resource,
  apiGroup: 'rbac.authorization.k8s.io',
  namespace,
  name,
  object,
  old,
});
const PREFIX = `is forbidden: user "system:serviceaccount:ns:sa" (${GROUPS}) is attempting to grant RBAC permissions not currently held:\n`;

// [case, write, expected: undefined (allowed), or [code, message]]
const WRITES: Array<[string, RbacWrite, [number, string] | undefined]> = [
  ['a Role within what it holds', write('roles', 'ns', role('r', [pods(['get'])])), undefined],
  [
    'a Role granting more',
    write('roles', 'ns', role('r', [pods(['list'])])),
    [403, `roles.rbac.authorization.k8s.io "r" ${PREFIX}{APIGroups:[""], Resources:["pods"], Verbs:["list"]}`],
  ],
  [
    'a generated name is not known yet',
    write('roles', 'ns', { metadata: { generateName: 'r-' }, rules: [pods(['list'])] }),
    [403, `roles.rbac.authorization.k8s.io ${PREFIX}{APIGroups:[""], Resources:["pods"], Verbs:["list"]}`],
  ],
  [
    'with `escalate` on roles there',
    write('roles', 'escns', role('r', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }])),
    undefined,
  ],
  [
    'a ClusterRole is checked against cluster-wide rules',
    write('clusterroles', '', role('c', [pods(['get'])])),
    [403, `clusterroles.rbac.authorization.k8s.io "c" ${PREFIX}{APIGroups:[""], Resources:["pods"], Verbs:["get"]}`],
  ],
  [
    'an aggregated ClusterRole: its own rules, then full authority for the aggregationRule',
    write(
      'clusterroles',
      '',
      role('agg', [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } }),
    ),
    [
      403,
      'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    ],
  ],
  [
    'removing an aggregationRule is guarded too',
    write(
      'clusterroles',
      '',
      role('agg', []),
      role('agg', [], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] } }),
      'agg',
    ),
    [
      403,
      'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    ],
  ],
  ['a RoleBinding to a role it holds entirely', write('rolebindings', 'ns', binding('b', 'Role', 'mine')), undefined],
  [
    'a RoleBinding to a role it holds only part of',
    write('rolebindings', 'ns', binding('b', 'Role', 'more')),
    [403, `rolebindings.rbac.authorization.k8s.io "b" ${PREFIX}{APIGroups:[""], Resources:["pods"], Verbs:["list"]}`],
  ],
  [
    'a RoleBinding to a role narrower than its rules',
    write('rolebindings', 'ns', binding('b', 'Role', 'less')),
    undefined,
  ],
  [
    'a RoleBinding to a ClusterRole checks its rules in the namespace',
    write('rolebindings', 'ns', binding('b', 'ClusterRole', 'secrets')),
    [403, `rolebindings.rbac.authorization.k8s.io "b" ${PREFIX}{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`],
  ],
  [
    "`bind` on that role name, in the binding's namespace",
    write('rolebindings', 'bindns', binding('b', 'Role', 'more')),
    undefined,
  ],
  [
    '`bind` on one name is not `bind` on another',
    write('rolebindings', 'bindns', binding('b', 'ClusterRole', 'secrets')),
    [403, `rolebindings.rbac.authorization.k8s.io "b" ${PREFIX}{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`],
  ],
  [
    "a binding to a missing role is the registry's 404",
    write('rolebindings', 'ns', binding('b', 'Role', 'nope')),
    [404, 'roles.rbac.authorization.k8s.io "nope" not found'],
  ],
  [
    'a ClusterRoleBinding to a missing ClusterRole',
    write('clusterrolebindings', '', binding('b', 'ClusterRole', 'nope')),
    [404, 'clusterroles.rbac.authorization.k8s.io "nope" not found'],
  ],
  [
    'an update changing only ownerReferences and finalizers is not checked',
    write(
      'rolebindings',
      'ns',
      { ...binding('b', 'Role', 'more'), metadata: { name: 'b', ownerReferences: [{ uid: 'x' }], finalizers: ['f'] } },
      binding('b', 'Role', 'more'),
      'b',
    ),
    undefined,
  ],
  [
    'an update changing labels is',
    write(
      'rolebindings',
      'ns',
      { ...binding('b', 'Role', 'more'), metadata: { name: 'b', labels: { a: 'b' } } },
      binding('b', 'Role', 'more'),
      'b',
    ),
    [403, `rolebindings.rbac.authorization.k8s.io "b" ${PREFIX}{APIGroups:[""], Resources:["pods"], Verbs:["list"]}`],
  ],
];

for (const [name, w, want] of WRITES) {
  test(`RBAC storage: ${name}`, () => {
    const got = rbacWriteRefusal(STATE, SA, w);
    assert.equal(got && [got.code, got.message], want);
  });
}

test('system:masters and other resources are not checked', () => {
  const masters = { name: 'admin', groups: ['system:masters', 'system:authenticated'] };
  assert.is(
    rbacWriteRefusal(
      STATE,
      masters,
      write('clusterroles', '', role('c', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }])),
    ),
    undefined,
  );
  assert.is(rbacWriteRefusal(STATE, SA, { ...write('configmaps', 'ns', {}), apiGroup: '' }), undefined);
});

test("a refusal is kube-apiserver's Forbidden Status", () => {
  const status = rbacWriteRefusal(STATE, SA, write('roles', 'ns', role('r', [pods(['list'])])))!.toStatus();
  assert.equal(
    { reason: status.reason, code: status.code, details: status.details },
    { reason: 'Forbidden', code: 403, details: { name: 'r', group: 'rbac.authorization.k8s.io', kind: 'roles' } },
  );
});

test('onlyGcFieldsChange: unset and empty are equal; no old object is a create', () => {
  assert.ok(
    onlyGcFieldsChange(
      { apiVersion: 'v1', metadata: { name: 'a', labels: {} }, rules: [] },
      { metadata: { name: 'a' } },
    ),
  );
  assert.not.ok(onlyGcFieldsChange({ metadata: { name: 'a' } }, undefined));
  assert.not.ok(
    onlyGcFieldsChange(
      { metadata: { name: 'a' }, rules: [pods(['get'])] },
      { metadata: { name: 'a' }, rules: [pods(['list'])] },
    ),
  );
});

test.run();
