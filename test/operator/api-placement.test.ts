// podPlacement: the one merge of the operator's workload defaults with a resource's own pod
// placement (table), and the checks of the --workload-defaults JSON (table of bad inputs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUILTIN_WORKLOAD_DEFAULTS,
  parseWorkloadDefaults,
  podPlacement,
  WorkloadDefaultsError,
  type PodPlacement,
  type PodSecurityContext,
  type WorkloadDefaults,
} from '../../operator/api/index.js';

const RESTRICTED = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };

interface Row {
  name: string;
  own?: PodPlacement;
  defaults?: WorkloadDefaults;
  base?: PodSecurityContext;
  expect: object;
}
const rows: Row[] = [
  {
    name: 'nothing set: the built-in fsGroup, restricted fields only',
    expect: { securityContext: { fsGroup: 65532, ...RESTRICTED } },
  },
  { name: 'empty defaults: restricted fields only', defaults: {}, expect: { securityContext: RESTRICTED } },
  {
    name: 'defaults alone land as they are',
    defaults: {
      imagePullSecrets: [{ name: 'regcred' }],
      nodeSelector: { pool: 'ml' },
      tolerations: [{ key: 'ml', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { a: 1 } },
      podSecurityContext: { fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch' },
    },
    expect: {
      securityContext: { fsGroup: 2000, fsGroupChangePolicy: 'OnRootMismatch', ...RESTRICTED },
      imagePullSecrets: [{ name: 'regcred' }],
      nodeSelector: { pool: 'ml' },
      tolerations: [{ key: 'ml', operator: 'Exists', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { a: 1 } },
    },
  },
  {
    name: 'the resource wins per nodeSelector key, per affinity kind and per security field',
    defaults: {
      nodeSelector: { pool: 'general', os: 'linux' },
      affinity: { nodeAffinity: { d: 1 }, podAntiAffinity: { d: 2 } },
      podSecurityContext: { fsGroup: 65532, runAsGroup: 65532 },
    },
    own: {
      nodeSelector: { pool: 'gpu' },
      affinity: { nodeAffinity: { own: 1 } },
      securityContext: { fsGroup: 1000, runAsUser: 1000 },
    },
    expect: {
      securityContext: { fsGroup: 1000, runAsGroup: 65532, runAsUser: 1000, ...RESTRICTED },
      nodeSelector: { pool: 'gpu', os: 'linux' },
      affinity: { nodeAffinity: { own: 1 }, podAntiAffinity: { d: 2 } },
    },
  },
  {
    name: 'pull secrets add up by name, defaults first',
    defaults: { imagePullSecrets: [{ name: 'cluster' }, { name: 'shared' }] },
    own: { imagePullSecrets: [{ name: 'shared' }, { name: 'team' }] },
    expect: {
      securityContext: RESTRICTED,
      imagePullSecrets: [{ name: 'cluster' }, { name: 'shared' }, { name: 'team' }],
    },
  },
  {
    name: 'tolerations add up without duplicates, the resource first',
    defaults: {
      tolerations: [
        { key: 'ml', operator: 'Exists' },
        { key: 'spot', operator: 'Equal', value: 'true', effect: 'NoSchedule' },
      ],
    },
    own: {
      tolerations: [
        { key: 'spot', value: 'true', effect: 'NoSchedule' },
        { key: 'ml', operator: 'Exists' },
      ],
    },
    expect: {
      securityContext: RESTRICTED,
      tolerations: [
        { key: 'spot', value: 'true', effect: 'NoSchedule' },
        { key: 'ml', operator: 'Exists' },
      ],
    },
  },
  {
    name: 'the ServiceAccount comes from the resource only',
    own: { serviceAccountName: 'trainer' },
    defaults: {},
    expect: { securityContext: RESTRICTED, serviceAccountName: 'trainer' },
  },
  {
    name: 'the builder base is under the defaults and the resource',
    base: { runAsUser: 65532 },
    defaults: { podSecurityContext: { runAsGroup: 3000 } },
    own: { securityContext: { supplementalGroups: [4000] } },
    expect: { securityContext: { runAsUser: 65532, runAsGroup: 3000, supplementalGroups: [4000], ...RESTRICTED } },
  },
  {
    name: 'runAsNonRoot and seccomp are forced whatever the inputs say',
    base: { runAsNonRoot: false } as PodSecurityContext,
    defaults: { podSecurityContext: { runAsNonRoot: false } as PodSecurityContext },
    expect: { securityContext: RESTRICTED },
  },
  {
    name: 'empty maps and lists are left out',
    own: { nodeSelector: {}, tolerations: [], imagePullSecrets: [], affinity: {} },
    defaults: {},
    expect: { securityContext: RESTRICTED },
  },
];

for (const r of rows) {
  test(`podPlacement: ${r.name}`, () => {
    assert.equal(podPlacement(r.own, r.defaults, r.base), r.expect);
  });
}

test('podPlacement copies: changing the result leaves the inputs alone', () => {
  const defaults: WorkloadDefaults = {
    imagePullSecrets: [{ name: 'a' }],
    affinity: { nodeAffinity: { x: { y: 1 } } },
    podSecurityContext: { supplementalGroups: [1] },
  };
  const before = structuredClone(defaults);
  const out = podPlacement({}, defaults);
  out.imagePullSecrets![0].name = 'changed';
  (out.affinity!.nodeAffinity as { x: { y: number } }).x.y = 2;
  out.securityContext.supplementalGroups!.push(2);
  assert.equal(defaults, before);
});

test("the built-in defaults give fresh claims to the non-root images' group", () => {
  assert.equal(BUILTIN_WORKLOAD_DEFAULTS, { podSecurityContext: { fsGroup: 65532 } });
});

test("parseWorkloadDefaults accepts the chart's shape", () => {
  const v = {
    imagePullSecrets: [{ name: 'regcred' }],
    nodeSelector: { pool: 'ml' },
    tolerations: [{ key: 'ml', operator: 'Exists', effect: 'NoSchedule' }],
    affinity: {},
    podSecurityContext: { fsGroup: 65532, runAsNonRoot: true },
  };
  assert.equal(parseWorkloadDefaults(JSON.stringify(v)), v);
  assert.equal(parseWorkloadDefaults('{}'), {});
});

const bad: [string, string, string][] = [
  ['not JSON', '{', 'not valid JSON'],
  ['a list', '[]', '(root) must be a JSON object'],
  [
    'an unknown key',
    '{"serviceAccountName":"x"}',
    '(root).serviceAccountName is not supported (allowed: imagePullSecrets, nodeSelector, tolerations, affinity, podSecurityContext)',
  ],
  [
    'a pull secret as a string',
    '{"imagePullSecrets":["regcred"]}',
    'imagePullSecrets[0] must be {name: <Secret name>}',
  ],
  ['a nodeSelector value that is a number', '{"nodeSelector":{"gpu":1}}', 'nodeSelector.gpu must be a string'],
  [
    'a toleration with a bad operator',
    '{"tolerations":[{"key":"a","operator":"In"}]}',
    'tolerations[0].operator must be Exists or Equal',
  ],
  [
    'a toleration Exists with a value',
    '{"tolerations":[{"key":"a","operator":"Exists","value":"b"}]}',
    'tolerations[0] with operator Exists must not set a value',
  ],
  [
    'an unknown affinity kind',
    '{"affinity":{"nodeSelector":{}}}',
    'affinity.nodeSelector is not supported (allowed: nodeAffinity, podAffinity, podAntiAffinity)',
  ],
  [
    'root',
    '{"podSecurityContext":{"runAsUser":0}}',
    'podSecurityContext.runAsUser must not be 0 (root); pods run as non-root',
  ],
  [
    'runAsNonRoot false',
    '{"podSecurityContext":{"runAsNonRoot":false}}',
    'podSecurityContext.runAsNonRoot cannot be false; pods run as non-root',
  ],
  [
    'a privileged field',
    '{"podSecurityContext":{"sysctls":[]}}',
    'podSecurityContext.sysctls is not supported (allowed: runAsUser, runAsGroup, fsGroup, runAsNonRoot, fsGroupChangePolicy, supplementalGroups)',
  ],
  [
    'a negative fsGroup',
    '{"podSecurityContext":{"fsGroup":-1}}',
    'podSecurityContext.fsGroup must be an integer from 0 to 2147483647',
  ],
  [
    'a bad fsGroupChangePolicy',
    '{"podSecurityContext":{"fsGroupChangePolicy":"Never"}}',
    'podSecurityContext.fsGroupChangePolicy must be OnRootMismatch or Always',
  ],
  [
    'supplemental groups as text',
    '{"podSecurityContext":{"supplementalGroups":["a"]}}',
    'podSecurityContext.supplementalGroups must be a list of integers from 0 to 2147483647',
  ],
];

for (const [name, text, message] of bad) {
  test(`parseWorkloadDefaults rejects ${name}`, () => {
    try {
      parseWorkloadDefaults(text);
      assert.unreachable('accepted');
    } catch (e) {
      assert.instance(e, WorkloadDefaultsError);
      assert.ok((e as Error).message.startsWith(message), (e as Error).message);
    }
  });
}

test.run();
