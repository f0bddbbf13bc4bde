// The scheduler's and the attach/detach controller's pure decisions: node filters (nodeSelector,
// required node affinity, taints and tolerations, cordoned nodes, resources), the spread of replicas,
// kube-scheduler's FailedScheduling wording, and which node a claim volume is attached to.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../hack/devcluster/agent/kube-client.js';
import {
  failedSchedulingMessage,
  nodeFilterReason,
  schedulePod,
  tolerates,
  REASON_AFFINITY,
  REASON_RWOP,
  REASON_UNBOUND,
} from '../../hack/devcluster/agent/scheduler-logic.js';
import {
  claimVolumes,
  multiAttachAllowed,
  multiAttachMessage,
  planAttachments,
  unattachedVolumes,
} from '../../hack/devcluster/agent/attach-logic.js';
import { nodeObject, NODE_NAMES } from '../../hack/devcluster/agent/node.js';

const nodes = NODE_NAMES.map((n) => nodeObject(n, '2024-01-01T00:00:00Z'));
const [A, B] = NODE_NAMES;

let seq = 0;
function pod(
  name: string,
  spec: Record<string, any> = {},
  extra: { ns?: string; owner?: string; phase?: string; created?: string } = {},
): KubeObject {
  seq++;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: extra.ns ?? 'default',
      uid: `uid-${name}`,
      creationTimestamp: extra.created ?? `2024-01-01T00:00:${String(seq % 60).padStart(2, '0')}Z`,
      ...(extra.owner
        ? {
            ownerReferences: [
              { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: extra.owner, uid: extra.owner, controller: true },
            ],
          }
        : {}),
    },
    spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec },
    status: { phase: extra.phase ?? 'Pending' },
  };
}

function claim(name: string, accessModes: string[], phase = 'Bound', ns = 'default'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: ns, uid: `c-${name}` },
    spec: { accessModes },
    status: { phase, accessModes },
  };
}

const claimsOf =
  (...list: KubeObject[]) =>
  (ns: string, name: string) =>
    list.find((c) => c.metadata.namespace === ns && c.metadata.name === name);
const withClaim = (claimName: string) => ({ volumes: [{ name: 'data', persistentVolumeClaim: { claimName } }] });
const affinity = (key: string, operator: string, values?: string[]) => ({
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] }],
      },
    },
  },
});
const tainted = (node: KubeObject, taints: any[]) => ({ ...node, spec: { ...node.spec, taints } });

test('nodes are workers: no control-plane label or taint, own hostname label and pod CIDR', () => {
  for (const n of nodes) {
    assert.is(n.metadata.labels!['kubernetes.io/hostname'], n.metadata.name);
    assert.not.ok('node-role.kubernetes.io/control-plane' in n.metadata.labels!);
    assert.is(n.spec.taints, undefined);
  }
  assert.is.not(nodes[0].spec.podCIDR, nodes[1].spec.podCIDR);
});

const filterCases: Array<[string, Record<string, any>, KubeObject, string | undefined]> = [
  ['no constraint fits', {}, nodes[0], undefined],
  [
    'nodeSelector on the hostname fits that node',
    { nodeSelector: { 'kubernetes.io/hostname': A } },
    nodes[0],
    undefined,
  ],
  [
    'nodeSelector on the hostname refuses the other',
    { nodeSelector: { 'kubernetes.io/hostname': A } },
    nodes[1],
    REASON_AFFINITY,
  ],
  ['nodeSelector on a missing label refuses', { nodeSelector: { gpu: 'true' } }, nodes[0], REASON_AFFINITY],
  ['affinity In', affinity('kubernetes.io/hostname', 'In', [B]), nodes[1], undefined],
  ['affinity NotIn', affinity('kubernetes.io/hostname', 'NotIn', [B]), nodes[1], REASON_AFFINITY],
  ['affinity Exists', affinity('kubernetes.io/os', 'Exists'), nodes[0], undefined],
  ['affinity DoesNotExist', affinity('kubernetes.io/os', 'DoesNotExist'), nodes[0], REASON_AFFINITY],
  [
    'affinity on metadata.name field',
    {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [A] }] }],
          },
        },
      },
    },
    nodes[1],
    REASON_AFFINITY,
  ],
  [
    'an empty term matches nothing',
    { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{}] } } } },
    nodes[0],
    REASON_AFFINITY,
  ],
  [
    'untolerated NoSchedule taint',
    {},
    tainted(nodes[0], [{ key: 'gpu', value: 'a100', effect: 'NoSchedule' }]),
    'node(s) had untolerated taint {gpu: a100}',
  ],
  ['PreferNoSchedule is not a filter', {}, tainted(nodes[0], [{ key: 'gpu', effect: 'PreferNoSchedule' }]), undefined],
  [
    'tolerated by Equal',
    { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'a100', effect: 'NoSchedule' }] },
    tainted(nodes[0], [{ key: 'gpu', value: 'a100', effect: 'NoSchedule' }]),
    undefined,
  ],
  [
    'tolerated by Exists on every key',
    { tolerations: [{ operator: 'Exists' }] },
    tainted(nodes[0], [{ key: 'x', effect: 'NoExecute' }]),
    undefined,
  ],
  ['cordoned node', {}, { ...nodes[0], spec: { ...nodes[0].spec, unschedulable: true } }, 'node(s) were unschedulable'],
];
for (const [name, spec, node, want] of filterCases) {
  test(`filter: ${name}`, () => assert.is(nodeFilterReason(pod('p', spec), node), want));
}

test('tolerations: a different value or effect does not tolerate', () => {
  assert.not.ok(
    tolerates([{ key: 'k', value: 'v1', effect: 'NoSchedule' }], { key: 'k', value: 'v2', effect: 'NoSchedule' }),
  );
  assert.not.ok(tolerates([{ key: 'k', operator: 'Exists', effect: 'NoExecute' }], { key: 'k', effect: 'NoSchedule' }));
  assert.ok(tolerates([{ key: 'k', operator: 'Exists' }], { key: 'k', value: 'any', effect: 'NoSchedule' }));
});

test('replicas of one controller spread over both nodes; then the emptier node wins', () => {
  const placed: KubeObject[] = [];
  for (const name of ['r1', 'r2', 'r3', 'r4']) {
    const p = pod(name, {}, { owner: 'rs-1' });
    const r = schedulePod(p, nodes, placed, claimsOf());
    assert.ok('node' in r);
    placed.push({ ...p, spec: { ...p.spec, nodeName: (r as { node: string }).node } });
  }
  assert.equal(
    placed.map((p) => p.spec.nodeName),
    [A, B, A, B],
  );
  // A lone pod goes where fewer unfinished pods run; finished pods do not count.
  const busy = [A, A, B].map((n, i) => ({ ...pod(`x${i}`, { nodeName: n }), status: { phase: 'Running' } }));
  assert.equal(schedulePod(pod('lone'), nodes, busy, claimsOf()), { node: B });
  const done = [A, B, B].map((n, i) => ({
    ...pod(`d${i}`, { nodeName: n }),
    status: { phase: n === B ? 'Succeeded' : 'Running' },
  }));
  assert.equal(schedulePod(pod('lone'), nodes, done, claimsOf()), { node: B });
});

test('no node fits: kube-scheduler wording with counts and the preemption part', () => {
  const r = schedulePod(pod('p', { nodeSelector: { gpu: 'true' } }), nodes, [], claimsOf());
  assert.equal(r, {
    unschedulable:
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
  });
  const mixed = schedulePod(
    pod('p', { nodeSelector: { 'kubernetes.io/hostname': B } }),
    [nodes[0], tainted(nodes[1], [{ key: 'k', value: 'v', effect: 'NoSchedule' }])],
    [],
    claimsOf(),
  );
  assert.equal(mixed, {
    unschedulable:
      "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {k: v}. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
  });
  assert.is(failedSchedulingMessage(0, [], []), 'no nodes available to schedule pods');
});

// NodeResourcesFit, on nodes of a fixed size (the agent's own Nodes report this machine's).
const sized = (node: KubeObject, allocatable: Record<string, string>) => ({
  ...node,
  status: { ...node.status, allocatable },
});
const small = nodes.map((n) => sized(n, { cpu: '2', memory: '4Gi', pods: '3' }));
const asking = (requests: Record<string, string>, more: Record<string, any> = {}) => ({
  containers: [{ name: 'c', image: 'busybox', resources: { requests } }],
  ...more,
});
const running = (name: string, node: string, requests: Record<string, string>, phase = 'Running') => ({
  ...pod(name, { ...asking(requests), nodeName: node }),
  status: { phase },
});
const NO_VICTIMS = 'No preemption victims found for incoming pod';

for (const [name, spec, bound, expected] of [
  [
    'a GPU on nodes without one',
    asking({ 'nvidia.com/gpu': '1' }),
    [],
    `0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 nodes are available: 2 ${NO_VICTIMS}.`,
  ],
  ['what is left on the other node', asking({ cpu: '1500m' }), [running('x', A, { cpu: '1' })], { node: B }],
  [
    'what is left on neither',
    asking({ cpu: '1500m' }),
    [running('x', A, { cpu: '1' }), running('y', B, { cpu: '600m' })],
    `0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 ${NO_VICTIMS}.`,
  ],
  [
    'finished pods free what they asked for',
    asking({ cpu: '1500m' }),
    [running('x', A, { cpu: '2' }, 'Succeeded'), running('y', B, { cpu: '2' }, 'Failed')],
    { node: A },
  ],
  [
    'every resource short is a reason of its own',
    asking({ cpu: '3', memory: '5Gi' }),
    [],
    `0/2 nodes are available: 2 Insufficient cpu, 2 Insufficient memory. preemption: 0/2 nodes are available: 2 ${NO_VICTIMS}.`,
  ],
  [
    'an init container needs its requests while it runs',
    asking({ cpu: '500m' }, { initContainers: [{ name: 'i', image: 'b', resources: { requests: { cpu: '1800m' } } }] }),
    [running('x', A, { cpu: '500m' }), running('y', B, { cpu: '500m' })],
    `0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 ${NO_VICTIMS}.`,
  ],
  [
    'sidecars (init containers that keep running) add up, also while an init container runs',
    asking(
      { cpu: '200m' },
      {
        initContainers: [
          { name: 's1', image: 'b', restartPolicy: 'Always', resources: { requests: { cpu: '600m' } } },
          { name: 's2', image: 'b', restartPolicy: 'Always', resources: { requests: { cpu: '600m' } } },
          { name: 'i', image: 'b', resources: { requests: { cpu: '500m' } } },
        ],
      },
    ),
    [running('x', A, { cpu: '400m' }), running('y', B, { cpu: '400m' })],
    `0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 ${NO_VICTIMS}.`,
  ],
  [
    'nodes at their pod count',
    asking({}),
    [A, A, A, B, B, B].map((node, k) => running(`x${k}`, node, {})),
    `0/2 nodes are available: 2 Too many pods. preemption: 0/2 nodes are available: 2 ${NO_VICTIMS}.`,
  ],
  [
    'resources are judged after node affinity',
    asking({ cpu: '3' }, { nodeSelector: { 'kubernetes.io/hostname': B } }),
    [],
    `0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 1 ${NO_VICTIMS}, 1 Preemption is not helpful for scheduling.`,
  ],
] as const) {
  test(`resources: ${name}`, () => {
    const r = schedulePod(pod('p', spec as Record<string, any>), small, bound as unknown as KubeObject[], claimsOf());
    assert.equal(r, typeof expected === 'string' ? { unschedulable: expected } : expected);
  });
}

test('volumes: an unbound claim waits; a ReadWriteOncePod claim in use refuses every node; RWO does not', () => {
  assert.match(
    (schedulePod(pod('p', withClaim('c')), nodes, [], claimsOf(claim('c', ['ReadWriteOnce'], 'Pending'))) as any)
      .unschedulable,
    REASON_UNBOUND,
  );
  const holder = { ...pod('holder', { ...withClaim('solo'), nodeName: A }), status: { phase: 'Running' } };
  const rwop = schedulePod(
    pod('second', withClaim('solo')),
    nodes,
    [holder],
    claimsOf(claim('solo', ['ReadWriteOncePod'])),
  );
  assert.equal(rwop, {
    unschedulable: `0/2 nodes are available: 2 ${REASON_RWOP}. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.`,
  });
  // Once the holder finished, the claim is free.
  assert.ok(
    'node' in
      schedulePod(
        pod('second', withClaim('solo')),
        nodes,
        [{ ...holder, status: { phase: 'Succeeded' } }],
        claimsOf(claim('solo', ['ReadWriteOncePod'])),
      ),
  );
  // kube-scheduler does not avoid ReadWriteOnce conflicts: the attach fails later, visibly.
  assert.ok(
    'node' in
      schedulePod(pod('second', withClaim('solo')), nodes, [holder], claimsOf(claim('solo', ['ReadWriteOnce']))),
  );
});

const attachModes: Array<[string[], boolean]> = [
  [['ReadWriteOnce'], false],
  [['ReadWriteOncePod'], false],
  [['ReadWriteMany'], true],
  [['ReadOnlyMany'], true],
  [['ReadWriteOnce', 'ReadOnlyMany'], true],
  [[], true],
];
for (const [modes, allowed] of attachModes) {
  test(`multi-attach ${allowed ? 'allowed' : 'refused'} for [${modes.join(', ')}]`, () =>
    assert.is(multiAttachAllowed(modes), allowed));
}

test("attach: an RWO volume stays with the first node; the other node's pods get a Multi-Attach error", () => {
  const claims = claimsOf(claim('models', ['ReadWriteOnce']));
  const first = pod('trainer', { ...withClaim('models'), nodeName: A }, { created: '2024-01-01T00:00:01Z' });
  const second = pod('server', { ...withClaim('models'), nodeName: B }, { created: '2024-01-01T00:00:02Z' });
  const sameNode = pod('helper', { ...withClaim('models'), nodeName: A }, { created: '2024-01-01T00:00:03Z' });
  const unique = claimVolumes(first, claims)[0].uniqueName;
  const plan = planAttachments([...NODE_NAMES], new Map(), [second, sameNode, first], claims);
  assert.equal(plan.attached.get(A), [unique]);
  assert.equal(plan.attached.get(B), []);
  assert.equal(
    plan.errors.map((e) => [e.pod.metadata.name, e.message]),
    [['server', 'Multi-Attach error for volume "pvc-c-models" Volume is already used by pod(s) trainer, helper']],
  );
  // The holder finishes: the volume moves to the waiting pod's node.
  const done = (p: KubeObject) => ({ ...p, status: { phase: 'Succeeded' } });
  const moved = planAttachments([...NODE_NAMES], plan.attached, [second, done(sameNode), done(first)], claims);
  assert.equal([moved.attached.get(A), moved.attached.get(B), moved.errors], [[], [unique], []]);
  // An attachment the current state already has is kept even when an older pod now asks elsewhere.
  const kept = planAttachments([...NODE_NAMES], new Map([[B, [unique]]]), [first, second], claims);
  assert.equal([kept.attached.get(B), kept.errors.map((e) => e.pod.metadata.name)], [[unique], ['trainer']]);
});

test('attach: RWX and ROX volumes attach to every node that asks', () => {
  for (const mode of ['ReadWriteMany', 'ReadOnlyMany']) {
    const claims = claimsOf(claim('shared', [mode]));
    const pods = [pod('a', { ...withClaim('shared'), nodeName: A }), pod('b', { ...withClaim('shared'), nodeName: B })];
    const plan = planAttachments([...NODE_NAMES], new Map(), pods, claims);
    assert.is(plan.errors.length, 0, mode);
    assert.is(plan.attached.get(A)!.length + plan.attached.get(B)!.length, 2, mode);
  }
});

test('attach: unbound or missing claims, unbound pods and finished pods attach nothing', () => {
  const claims = claimsOf(claim('pending', ['ReadWriteOnce'], 'Pending'));
  const pods = [
    pod('x', { ...withClaim('pending'), nodeName: A }),
    pod('y', { ...withClaim('missing'), nodeName: A }),
    pod('z', withClaim('pending')),
    pod('w', { ...withClaim('pending'), nodeName: B }, { phase: 'Failed' }),
  ];
  const plan = planAttachments([...NODE_NAMES], new Map(), pods, claims);
  assert.equal([plan.attached.get(A), plan.attached.get(B), plan.errors], [[], [], []]);
});

test("Multi-Attach wording names only pods in the waiting pod's namespace", () => {
  const waiting = pod('w', {}, { ns: 'team-a' });
  const local = pod('l', {}, { ns: 'team-a' });
  const other = pod('o', {}, { ns: 'team-b' });
  assert.is(
    multiAttachMessage('pvc-1', waiting, [local, other]),
    'Multi-Attach error for volume "pvc-1" Volume is already used by pod(s) l and 1 pod(s) in different namespaces',
  );
  assert.is(
    multiAttachMessage('pvc-1', waiting, [other]),
    'Multi-Attach error for volume "pvc-1" Volume is already used by 1 pod(s) in different namespaces',
  );
  assert.is(
    multiAttachMessage('pvc-1', waiting, []),
    'Multi-Attach error for volume "pvc-1" Volume is already exclusively attached to one node and can\'t be attached to another',
  );
});

test('the kubelet waits for exactly the claim volumes its node does not list as attached', () => {
  const claims = claimsOf(claim('models', ['ReadWriteOnce']), claim('data', ['ReadWriteMany']));
  const p = pod('p', {
    nodeName: A,
    volumes: [
      { name: 'm', persistentVolumeClaim: { claimName: 'models' } },
      { name: 'd', persistentVolumeClaim: { claimName: 'data' } },
      { name: 'tmp', emptyDir: {} },
    ],
  });
  const node = {
    ...nodes[0],
    status: { ...nodes[0].status, volumesAttached: [{ name: claimVolumes(p, claims)[1].uniqueName, devicePath: '' }] },
  };
  assert.equal(
    unattachedVolumes(p, node, claims).map((v) => v.podVolume),
    ['m'],
  );
  assert.equal(
    unattachedVolumes(p, nodes[0], claims).map((v) => v.podVolume),
    ['m', 'd'],
  );
});

test.run();
