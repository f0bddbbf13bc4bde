// Table-driven tests of the API server's pure parts: patches, selectors, field management,
// printer-column JSONPath, human durations, version priority, protobuf decoding.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareKubeVersions } from '../../hack/devcluster/apiserver/discovery.js';
import {
  applyConfig,
  displayPath,
  fieldsOf,
  fromFieldsV1,
  recordUpdate,
  toFieldsV1,
} from '../../hack/devcluster/apiserver/managed.js';
import { jsonPatch, mergePatch, strategicMergePatch } from '../../hack/devcluster/apiserver/patch.js';
import { decodeProtobuf } from '../../hack/devcluster/apiserver/protobuf.js';
import { podQosClass } from '../../hack/devcluster/apiserver/pod-qos.js';
import { gracefulDeletionMeta, podDeletionGrace } from '../../hack/devcluster/apiserver/pod-deletion.js';
import { applyBuiltinDefaults, listeningAddresses } from '../../hack/devcluster/apiserver/builtins.js';
import { labelsMatch, parseFieldSelector, parseLabelSelector } from '../../hack/devcluster/apiserver/selectors.js';
import { evalJsonPath, humanDuration } from '../../hack/devcluster/apiserver/tables.js';

test('cluster IPs skip what the host listens on: /proc/net/tcp listeners read', () => {
  const procNetTcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1153 1',
    '   1: 0BFB607F:9A84 0100007F:ADC0 06 00000000:00000000 03:000010A3 00000000     0        0 0 3',
    '   2: 8A27607F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1',
  ].join('\n');
  assert.equal([...listeningAddresses(procNetTcp)], ['0.0.0.0', '127.96.39.138'], 'listeners only, little-endian');
});

test('pod deletion grace: the kubelet gets it only for a pod it runs', () => {
  const pod = (spec: object, phase = 'Running') => ({ metadata: { name: 'p' }, spec, status: { phase } });
  const nodes = (name: string) => name === 'node-a';
  const cases: Array<[string, object, number | undefined, number]> = [
    [
      'bound, running: terminationGracePeriodSeconds',
      pod({ nodeName: 'node-a', terminationGracePeriodSeconds: 5 }),
      undefined,
      5,
    ],
    ['the request overrides the pod', pod({ nodeName: 'node-a', terminationGracePeriodSeconds: 5 }), 2, 2],
    ['grace 0 forces', pod({ nodeName: 'node-a', terminationGracePeriodSeconds: 5 }), 0, 0],
    ['defaulted to 30', pod({ nodeName: 'node-a' }), undefined, 30],
    ['never scheduled', pod({ terminationGracePeriodSeconds: 5 }), undefined, 0],
    ['bound to a Node that does not exist', pod({ nodeName: 'gone', terminationGracePeriodSeconds: 5 }), 7, 0],
    ['Succeeded', pod({ nodeName: 'node-a' }, 'Succeeded'), undefined, 0],
    ['Failed', pod({ nodeName: 'node-a' }, 'Failed'), 9, 0],
  ];
  for (const [name, p, requested, want] of cases) assert.is(podDeletionGrace(p, requested, nodes), want, name);
});

test('pod deletion metadata: set once, only ever shortened, counted from the first request', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const first = gracefulDeletionMeta({ name: 'p' }, 30, now)!;
  assert.equal([first.deletionTimestamp, first.deletionGracePeriodSeconds], ['2026-01-01T00:00:30Z', 30]);
  assert.is(gracefulDeletionMeta(first, 30, now + 5000), undefined, 'the same grace again changes nothing');
  assert.is(gracefulDeletionMeta(first, 60, now + 5000), undefined, 'a longer grace changes nothing');
  const shorter = gracefulDeletionMeta(first, 10, now + 5000)!;
  assert.equal([shorter.deletionTimestamp, shorter.deletionGracePeriodSeconds], ['2026-01-01T00:00:10Z', 10]);
});

test('merge patch (RFC 7386)', () => {
  const cases: Array<[unknown, unknown, unknown]> = [
    [{ a: 1, b: { c: 2 } }, { b: { c: null, d: 3 } }, { a: 1, b: { d: 3 } }],
    [{ a: [1, 2] }, { a: [3] }, { a: [3] }],
    [{ a: 1 }, 'x', 'x'],
    [{}, { a: { b: { c: 1 } } }, { a: { b: { c: 1 } } }],
  ];
  for (const [target, patch, want] of cases) assert.equal(mergePatch(target, patch), want);
});

test('JSON patch (RFC 6902) including failures', () => {
  const doc = { a: [1, 2, 3], b: { c: 'x' } };
  assert.equal(
    jsonPatch(doc, [
      { op: 'add', path: '/a/-', value: 4 },
      { op: 'remove', path: '/a/0' },
      { op: 'move', from: '/b/c', path: '/d' },
      { op: 'copy', from: '/d', path: '/e' },
    ]),
    { a: [2, 3, 4], b: {}, d: 'x', e: 'x' },
  );
  assert.equal(doc, { a: [1, 2, 3], b: { c: 'x' } }, 'input untouched');
  assert.equal(jsonPatch({ 'a/b': { '~': 1 } }, [{ op: 'replace', path: '/a~1b/~0', value: 2 }]), {
    'a/b': { '~': 2 },
  });
  for (const ops of [
    [{ op: 'test', path: '/a/0', value: 9 }],
    [{ op: 'replace', path: '/zz', value: 1 }],
    [{ op: 'remove', path: '/a/9' }],
    [{ op: 'bogus', path: '/a' }],
  ]) {
    assert.throws(() => jsonPatch(doc, ops));
  }
});

test('strategic merge patch: merge keys, directives, atomic lists', () => {
  const pod = {
    spec: {
      containers: [
        { name: 'a', image: 'x', ports: [{ containerPort: 80 }] },
        { name: 'b', image: 'y' },
      ],
      volumes: [{ name: 'v', emptyDir: {} }],
      tolerations: [{ key: 't' }],
    },
    metadata: { finalizers: ['f1'] },
  };
  const cases: Array<[string, unknown, (r: any) => void]> = [
    [
      'merge container by name',
      { spec: { containers: [{ name: 'a', image: 'z' }] } },
      (r) =>
        assert.equal(
          r.spec.containers.map((c: any) => `${c.name}:${c.image}`),
          ['a:z', 'b:y'],
        ),
    ],
    [
      'ports merge by containerPort',
      { spec: { containers: [{ name: 'a', ports: [{ containerPort: 81 }] }] } },
      (r) =>
        assert.equal(
          r.spec.containers[0].ports.map((p: any) => p.containerPort),
          [80, 81],
        ),
    ],
    [
      '$patch delete item',
      { spec: { containers: [{ name: 'b', $patch: 'delete' }] } },
      (r) =>
        assert.equal(
          r.spec.containers.map((c: any) => c.name),
          ['a'],
        ),
    ],
    [
      '$patch replace list',
      { spec: { volumes: [{ $patch: 'replace' }, { name: 'w' }] } },
      (r) => assert.equal(r.spec.volumes, [{ name: 'w' }]),
    ],
    [
      'atomic list replaced',
      { spec: { tolerations: [{ key: 'u' }] } },
      (r) => assert.equal(r.spec.tolerations, [{ key: 'u' }]),
    ],
    [
      'primitive merge list',
      { metadata: { finalizers: ['f2', 'f1'] } },
      (r) => assert.equal(r.metadata.finalizers, ['f1', 'f2']),
    ],
    [
      '$deleteFromPrimitiveList',
      { metadata: { '$deleteFromPrimitiveList/finalizers': ['f1'] } },
      (r) => assert.equal(r.metadata.finalizers, []),
    ],
    [
      '$setElementOrder',
      { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } },
      (r) =>
        assert.equal(
          r.spec.containers.map((c: any) => c.name),
          ['b', 'a'],
        ),
    ],
    [
      '$retainKeys',
      { spec: { $retainKeys: ['containers'], containers: [] } },
      (r) => assert.equal(Object.keys(r.spec), ['containers']),
    ],
    ['null deletes', { spec: { volumes: null } }, (r) => assert.is(r.spec.volumes, undefined)],
  ];
  for (const [name, patch, check] of cases) {
    try {
      check(strategicMergePatch(pod, patch));
    } catch (err) {
      throw new Error(`${name}: ${(err as Error).message}`, { cause: err });
    }
  }
});

test('label selectors: every operator, and parse errors', () => {
  const labels = { env: 'prod', tier: 'a', n: '5' };
  const cases: Array<[string, boolean]> = [
    ['env=prod', true],
    ['env==prod', true],
    ['env!=prod', false],
    ['env in (prod, dev)', true],
    ['env notin (prod)', false],
    ['tier', true],
    ['!tier', false],
    ['!missing', true],
    ['missing', false],
    ['missing!=x', true],
    ['missing notin (x)', true],
    ['env=prod,tier=b', false],
    ['n>4', true],
    ['n<4', false],
    ['', true],
  ];
  for (const [sel, want] of cases) assert.is(labelsMatch(parseLabelSelector(sel), labels), want, sel);
  for (const bad of ['a in (b', 'a=b=c', 'n>x']) assert.throws(() => parseLabelSelector(bad), bad);
  assert.equal(parseFieldSelector('metadata.name=a,status.phase!=Running'), [
    { field: 'metadata.name', op: '=', value: 'a' },
    { field: 'status.phase', op: '!=', value: 'Running' },
  ]);
});

test('field management: FieldsV1 round trip, update ownership, apply conflicts and force', () => {
  const obj = {
    metadata: { name: 'x', labels: { a: '1' } },
    spec: { containers: [{ name: 'c', image: 'i' }], replicas: 1 },
  };
  const fields = fieldsOf(obj);
  assert.equal(fromFieldsV1(toFieldsV1(fields)), fields);
  assert.equal(toFieldsV1(fields), {
    'f:metadata': { 'f:labels': { 'f:a': {} } },
    'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:name': {}, 'f:image': {} } }, 'f:replicas': {} },
  });
  assert.is(displayPath(['f:spec', 'k:{"name":"c"}', 'f:image']), '.spec[name="c"].image');
  const created = recordUpdate(undefined, undefined, obj, 'creator', 'v1');
  const scaled = { ...obj, spec: { ...obj.spec, replicas: 3 } };
  const afterScale = recordUpdate(created, obj, scaled, 'scaler', 'v1');
  assert.equal(
    afterScale.map((e) => e.manager),
    ['creator', 'scaler'],
  );
  assert.equal(afterScale[1].fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  assert.not.ok(JSON.stringify(afterScale[0].fieldsV1).includes('f:replicas'), 'creator lost replicas');
  const live = { ...scaled, metadata: { ...scaled.metadata, managedFields: afterScale } };
  const merge = (base: any, cfg: any) => strategicMergePatch(base, cfg);
  const conflicting = applyConfig(
    live,
    { spec: { replicas: 5 } },
    { manager: 'applier', apiVersion: 'v1', force: false, mergeInto: merge },
  );
  assert.ok(
    'conflicts' in conflicting &&
      conflicting.conflicts[0].manager === 'scaler' &&
      conflicting.conflicts[0].path === '.spec.replicas',
  );
  const agreeing = applyConfig(
    live,
    { spec: { replicas: 3 } },
    { manager: 'applier', apiVersion: 'v1', force: false, mergeInto: merge },
  );
  assert.ok('object' in agreeing, 'same value: no conflict');
  const forced = applyConfig(
    live,
    { spec: { replicas: 5 } },
    { manager: 'applier', apiVersion: 'v1', force: true, mergeInto: merge },
  );
  assert.ok(
    'object' in forced &&
      forced.object.spec.replicas === 5 &&
      !forced.managedFields.some((e) => e.manager === 'scaler'),
  );
});

test('printer-column JSONPath and human durations', () => {
  const o = {
    status: {
      conditions: [
        { type: 'A', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
      list: [{ v: 1 }, { v: 2 }],
    },
  };
  const cases: Array<[string, unknown]> = [
    ['.status.conditions[?(@.type=="Ready")].status', 'True'],
    ['.status.list[1].v', 2],
    ['.status.list[*].v', [1, 2]],
    ['.status.missing', undefined],
    ['{.status.list[0].v}', 1],
  ];
  for (const [path, want] of cases) assert.equal(evalJsonPath(o, path), want, path);
  const durations: Array<[number, string]> = [
    [5_000, '5s'],
    [119_000, '119s'],
    [150_000, '2m30s'],
    [600_000, '10m'],
    [3 * 3600_000, '3h'],
    [3 * 3600_000 + 60_000, '3h1m'],
    [30 * 3600_000, '30h'],
    [3 * 86400_000, '3d'],
    [400 * 86400_000, '400d'],
    [-1, '<invalid>'],
  ];
  for (const [ms, want] of durations) assert.is(humanDuration(ms), want, String(ms));
});

test('version priority: GA > beta > alpha, higher numbers first', () => {
  assert.equal(['v1alpha1', 'v2', 'v1beta1', 'v1', 'v1beta2', 'foo', 'v10'].sort(compareKubeVersions), [
    'v10',
    'v2',
    'v1',
    'v1beta2',
    'v1beta1',
    'v1alpha1',
    'foo',
  ]);
});

test('protobuf bodies: a Secret as helm sends it, DeleteOptions; unknown kinds are 415', () => {
  const varint = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const field = (n: number, payload: Buffer | string) => {
    const b = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    return Buffer.from([...varint((n << 3) | 2), ...varint(b.length), ...b]);
  };
  const entry = (n: number, k: string, v: string | Buffer) => field(n, Buffer.concat([field(1, k), field(2, v)]));
  const envelope = (apiVersion: string, kind: string, raw: Buffer) =>
    Buffer.concat([
      Buffer.from('k8s\0'),
      field(1, Buffer.concat([field(1, apiVersion), field(2, kind)])),
      field(2, raw),
    ]);
  const meta = Buffer.concat([field(1, 'sh.helm.release.v1.x.v1'), field(3, ''), entry(11, 'owner', 'helm')]);
  const secret = Buffer.concat([
    field(1, meta),
    entry(2, 'release', Buffer.from('payload')),
    field(3, 'helm.sh/release.v1'),
  ]);
  assert.equal(decodeProtobuf(envelope('v1', 'Secret', secret)), {
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'helm.sh/release.v1',
    metadata: { name: 'sh.helm.release.v1.x.v1', labels: { owner: 'helm' } },
    data: { release: Buffer.from('payload').toString('base64') },
  });
  assert.equal(decodeProtobuf(envelope('v1', 'DeleteOptions', field(4, 'Foreground'))), {
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    propagationPolicy: 'Foreground',
  });
  assert.throws(
    () => decodeProtobuf(envelope('apps/v1', 'Deployment', Buffer.alloc(0))),
    (err: any) => err.code === 415,
  );
  assert.throws(
    () => decodeProtobuf(Buffer.from('nope')),
    (err: any) => err.code === 400,
  );
});

test('pod QoS class (shared by the API server and the node agent)', () => {
  const c = (requests?: Record<string, string>, limits?: Record<string, string>) => ({
    name: 'c',
    resources: { requests, limits },
  });
  const cases: Array<[string, unknown[], string]> = [
    ['no resources', [{ name: 'c' }], 'BestEffort'],
    ['empty requests and limits', [c({}, {})], 'BestEffort'],
    [
      'cpu and memory limits only (requests default to them)',
      [c(undefined, { cpu: '1', memory: '1Gi' })],
      'Guaranteed',
    ],
    ['requests equal to limits', [c({ cpu: '1', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], 'Guaranteed'],
    ['requests below limits', [c({ cpu: '500m', memory: '1Gi' }, { cpu: '1', memory: '1Gi' })], 'Burstable'],
    ['one container without limits', [c(undefined, { cpu: '1', memory: '1Gi' }), { name: 'd' }], 'Burstable'],
  ];
  for (const [name, containers, want] of cases) assert.is(podQosClass({ containers } as any), want, name);
});

test("a Pod's containers request what they limit unless they say otherwise; templates are left as written", () => {
  const resources = () => ({ limits: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' }, requests: { cpu: '250m' } });
  const pod = {
    spec: {
      containers: [
        { name: 'c', image: 'i:1', resources: resources() },
        { name: 'bare', image: 'i:1' },
      ],
      initContainers: [{ name: 'init', image: 'i:1', resources: { limits: { memory: '64Mi' } } }],
    },
  };
  applyBuiltinDefaults('Pod', pod);
  assert.equal(
    pod.spec.containers.map((c: any) => c.resources),
    [
      {
        limits: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' },
        requests: { cpu: '250m', memory: '1Gi', 'nvidia.com/gpu': '1' },
      },
      {},
    ],
  );
  assert.equal(pod.spec.initContainers[0].resources, { limits: { memory: '64Mi' }, requests: { memory: '64Mi' } });
  const deployment = {
    spec: { template: { spec: { containers: [{ name: 'c', image: 'i:1', resources: resources() }] } } },
  };
  applyBuiltinDefaults('Deployment', deployment);
  assert.equal(deployment.spec.template.spec.containers[0].resources, resources());
});

test.run();
