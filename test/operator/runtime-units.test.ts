// Pure parts of the operator runtime, table-driven: backoff, lease decisions, store deltas,
// status diffing and conditions, error mapping, paths and owner keys, Event building.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff, backoffDelay } from '../../operator/runtime/backoff.js';
import { ownerKeys } from '../../operator/runtime/controller.js';
import {
  AlreadyExistsError,
  ConflictError,
  errorFromResponse,
  ForbiddenError,
  GoneError,
  InvalidError,
  KubeApiError,
  NotFoundError,
  UnavailableError,
} from '../../operator/runtime/errors.js';
import { Kinds, parseKey, resourcePath, keyString } from '../../operator/runtime/kinds.js';
import { Informer } from '../../operator/runtime/informer.js';
import type { KubeClient } from '../../operator/runtime/client.js';
import { decideLease, microTime, releasedSpec } from '../../operator/runtime/lease.js';
import { errorChain } from '../../operator/runtime/logger.js';
import { FlagError, parseFlags } from '../../operator/runtime/flags.js';
import { buildEvent } from '../../operator/runtime/recorder.js';
import { semanticEqual, setCondition } from '../../operator/runtime/status.js';
import { Store } from '../../operator/runtime/store.js';

const policy = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 };

test('backoff grows exponentially, is capped, and jitter stays within bounds', () => {
  const table: Array<[attempt: number, random: number, expected: number]> = [
    [0, 0.5, 100],
    [1, 0.5, 200],
    [2, 0.5, 400],
    [3, 0.5, 800],
    [4, 0.5, 1000],
    [20, 0.5, 1000],
    [0, 0, 80],
    [0, 1, 120],
    [2, 0, 320],
    [10, 1, 1000], // the cap holds even with positive jitter
  ];
  for (const [attempt, r, expected] of table)
    assert.is(
      backoffDelay(attempt, policy, () => r),
      expected,
      `attempt ${attempt} r=${r}`,
    );
});

test('Backoff counts failures and resets', () => {
  const b = new Backoff({ ...policy, jitter: 0 });
  assert.equal([b.next(), b.next(), b.next()], [100, 200, 400]);
  b.reset();
  assert.is(b.next(), 100);
});

const ME = { identity: 'me', leaseDurationSeconds: 15 };

test('lease decisions: create, acquire free/released/expired, renew own, wait for a live holder', () => {
  const t0 = 1_700_000_000_000;
  const held = {
    holderIdentity: 'other',
    leaseDurationSeconds: 15,
    renewTime: microTime(t0),
    acquireTime: microTime(t0),
    leaseTransitions: 3,
  };
  const cases = [
    { name: 'no lease: create', current: undefined, prev: undefined, now: t0, action: 'create', transitions: 0 },
    { name: 'live holder: wait', current: held, prev: undefined, now: t0, action: 'wait' },
    {
      name: 'holder seen recently: wait',
      current: held,
      prev: { spec: held, observedAtMs: t0 },
      now: t0 + 14_000,
      action: 'wait',
    },
    {
      name: 'holder not renewed for the duration: acquire',
      current: held,
      prev: { spec: held, observedAtMs: t0 },
      now: t0 + 15_001,
      action: 'update',
      transitions: 4,
    },
    {
      name: 'released lease: acquire at once',
      current: { ...held, holderIdentity: '' },
      prev: undefined,
      now: t0,
      action: 'update',
      transitions: 4,
    },
    {
      name: 'own lease: renew keeps transitions',
      current: { ...held, holderIdentity: 'me' },
      prev: undefined,
      now: t0 + 1000,
      action: 'update',
      transitions: 3,
    },
  ] as const;
  for (const c of cases) {
    const d = decideLease(c.current, c.prev, ME, c.now);
    assert.is(d.action, c.action, c.name);
    if (d.action !== 'wait') {
      assert.is(d.spec.holderIdentity, 'me', c.name);
      assert.is(d.spec.leaseTransitions, (c as { transitions?: number }).transitions, c.name);
      assert.is(d.spec.renewTime, microTime(c.now), c.name);
    }
  }
});

test('lease expiry is measured on the local clock from when the record last changed', () => {
  const t0 = 1_700_000_000_000;
  // The holder's renewTime is far in the past by our clock (skew), but we only just saw it: wait.
  const skewed = { holderIdentity: 'other', leaseDurationSeconds: 15, renewTime: microTime(t0 - 3_600_000) };
  assert.is(decideLease(skewed, undefined, ME, t0).action, 'wait');
  // A renewal (changed record) restarts the observation clock.
  const first = decideLease(skewed, undefined, ME, t0);
  const renewed = { ...skewed, renewTime: microTime(t0 + 10_000) };
  const later = decideLease(renewed, first.observation, ME, t0 + 20_000);
  assert.is(later.action, 'wait');
  assert.is(later.observation.observedAtMs, t0 + 20_000);
});

test('a released lease has no holder and a short duration', () => {
  const r = releasedSpec({ holderIdentity: 'me', leaseDurationSeconds: 15, leaseTransitions: 2 }, 0);
  assert.is(r.holderIdentity, '');
  assert.is(r.leaseDurationSeconds, 1);
  assert.is(r.leaseTransitions, 2);
});

const cm = (ns: string, name: string, rv: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: ns, name, resourceVersion: rv, labels: { app: name } },
});

test('store replace reports adds, real updates and deletes, limited to its scope', () => {
  const s = new Store();
  s.replace([cm('a', 'x', '1'), cm('a', 'y', '1'), cm('b', 'z', '1')]);
  const d = s.replace([cm('a', 'x', '1'), cm('a', 'w', '2'), cm('a', 'y', '5')], (o) => o.metadata?.namespace === 'a');
  assert.equal(
    d.added.map((o) => o.metadata?.name),
    ['w'],
  );
  assert.equal(
    d.updated.map((u) => u.obj.metadata?.name),
    ['y'],
  );
  assert.equal(
    d.deleted.map((o) => o.metadata?.name),
    [],
    'x is unchanged and z is outside the scope',
  );
  assert.is(s.size, 4);
  assert.equal(
    s.list('a', { app: 'w' }).map((o) => o.metadata?.name),
    ['w'],
  );
  const d2 = s.replace([], (o) => o.metadata?.namespace === 'b');
  assert.equal(
    d2.deleted.map((o) => o.metadata?.name),
    ['z'],
  );
});

test('semanticEqual ignores key order and undefined fields, not values', () => {
  const table: Array<[unknown, unknown, boolean]> = [
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1, b: undefined }, { a: 1 }, true],
    [{ a: 1 }, { a: 2 }, false],
    [[1, 2], [2, 1], false],
    [{ a: null }, { a: undefined }, false],
    [undefined, {}, false],
    [{ a: [] }, { a: {} }, false],
  ];
  for (const [a, b, eq] of table) assert.is(semanticEqual(a, b), eq, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
});

test('setCondition keeps lastTransitionTime unless the status flips', () => {
  const t1 = new Date('2026-01-01T00:00:00Z');
  const t2 = new Date('2026-01-02T00:00:00Z');
  const c1 = setCondition(undefined, { type: 'Ready', status: 'False', reason: 'Pending', message: 'waiting' }, t1);
  const c2 = setCondition(c1, { type: 'Ready', status: 'False', reason: 'StillPending', message: 'still waiting' }, t2);
  assert.is(c2[0].lastTransitionTime, '2026-01-01T00:00:00Z');
  assert.is(c2[0].reason, 'StillPending');
  const c3 = setCondition(c2, { type: 'Ready', status: 'True', reason: 'Done', message: 'ok' }, t2);
  assert.is(c3[0].lastTransitionTime, '2026-01-02T00:00:00Z');
  const c4 = setCondition(c3, { type: 'Other', status: 'True', reason: 'X', message: '' }, t2);
  assert.equal(
    c4.map((c) => c.type),
    ['Ready', 'Other'],
  );
  assert.ok(
    semanticEqual(setCondition(c4, { type: 'Ready', status: 'True', reason: 'Done', message: 'ok' }, t2), c4),
    'recomputing is a no-op',
  );
});

test('HTTP answers map to typed errors with the Status details', () => {
  const status = (code: number, reason: string, causes?: object[]) => ({
    kind: 'Status',
    code,
    reason,
    message: `m${code}`,
    details: { causes },
  });
  const table: Array<[number, unknown, new (...a: never[]) => KubeApiError]> = [
    [404, status(404, 'NotFound'), NotFoundError],
    [409, status(409, 'Conflict'), ConflictError],
    [409, status(409, 'AlreadyExists'), AlreadyExistsError],
    [410, status(410, 'Expired'), GoneError],
    [422, status(422, 'Invalid', [{ field: 'spec.x', message: 'bad' }]), InvalidError],
    [400, status(400, 'BadRequest', [{ field: 'spec.y' }]), InvalidError],
    [403, status(403, 'Forbidden'), ForbiddenError],
    [500, 'oops', UnavailableError],
    [503, undefined, UnavailableError],
    [429, status(429, 'TooManyRequests'), UnavailableError],
    [400, status(400, 'BadRequest'), KubeApiError],
  ];
  for (const [code, body, cls] of table) {
    const e = errorFromResponse(code, body, 'GET /x');
    assert.instance(e, cls, `${code}`);
    assert.is(e.statusCode, code);
  }
  const invalid = errorFromResponse(
    422,
    status(422, 'Invalid', [{ field: 'spec.x', message: 'bad' }]),
    'POST /x',
  ) as InvalidError;
  assert.equal(invalid.causes, [{ field: 'spec.x', message: 'bad' }]);
  assert.is(invalid.message, 'POST /x: m422');
  const chained = new Error('reconcile failed', {
    cause: errorFromResponse(500, 'boom', 'GET /y', new Error('socket hang up')),
  });
  assert.is(errorChain(chained), 'reconcile failed: GET /y: boom: socket hang up');
});

test('resource paths for core, grouped, namespaced, cluster-scoped kinds and subresources', () => {
  const table: Array<[string, string]> = [
    [resourcePath(Kinds.ConfigMap, 'ns', 'a'), '/api/v1/namespaces/ns/configmaps/a'],
    [resourcePath(Kinds.ConfigMap), '/api/v1/configmaps'],
    [resourcePath(Kinds.Job, 'ns'), '/apis/batch/v1/namespaces/ns/jobs'],
    [
      resourcePath(Kinds.TrainingRun, 'ml', 'r1', 'status'),
      '/apis/modelship.dev/v1alpha1/namespaces/ml/trainingruns/r1/status',
    ],
    [resourcePath(Kinds.Namespace, 'ignored', 'ml'), '/api/v1/namespaces/ml'],
  ];
  for (const [got, want] of table) assert.is(got, want);
  assert.equal(parseKey('ns/a'), { namespace: 'ns', name: 'a' });
  assert.equal(parseKey('cluster'), { namespace: '', name: 'cluster' });
  assert.is(keyString({ namespace: '', name: 'n' }), 'n');
});

test('ownerKeys finds owners of the controller kind by group and kind, in the child namespace', () => {
  const child = {
    metadata: {
      namespace: 'ml',
      name: 'job-1',
      ownerReferences: [
        { apiVersion: 'modelship.dev/v1alpha1', kind: 'TrainingRun', name: 'run-1', uid: 'u1', controller: true },
        { apiVersion: 'other.dev/v1', kind: 'TrainingRun', name: 'foreign', uid: 'u2' },
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'cm', uid: 'u3' },
      ],
    },
  };
  assert.equal(ownerKeys(child, Kinds.TrainingRun), [{ namespace: 'ml', name: 'run-1' }]);
  assert.equal(ownerKeys(child, Kinds.ConfigMap), [{ namespace: 'ml', name: 'cm' }]);
  assert.equal(ownerKeys({ metadata: { name: 'x' } }, Kinds.TrainingRun), []);
});

test('buildEvent references the object and caps the message', () => {
  const obj = {
    apiVersion: 'modelship.dev/v1alpha1',
    kind: 'TrainingRun',
    metadata: { namespace: 'ml', name: 'r', uid: 'u', resourceVersion: '7' },
  };
  const e = buildEvent({
    obj,
    namespace: 'ml',
    name: 'r.1',
    type: 'Warning',
    reason: 'Failed',
    message: 'x'.repeat(2000),
    now: 'T',
    component: 'c',
  }) as Record<string, any>;
  assert.equal(e.involvedObject, {
    apiVersion: 'modelship.dev/v1alpha1',
    kind: 'TrainingRun',
    name: 'r',
    namespace: 'ml',
    uid: 'u',
    resourceVersion: '7',
  });
  assert.is(e.type, 'Warning');
  assert.is(e.count, 1);
  assert.is(e.message.length, 1024);
});

test('operator flags: values, repeats, booleans and errors', () => {
  const ok: Array<[string[], Record<string, unknown>]> = [
    [[], { namespaces: [], metricsPort: 8081, leaderElect: true, leaseName: 'modelship-operator' }],
    [
      ['--kubeconfig', 'k.yaml', '--namespace', 'a', '--namespace=b,c'],
      { kubeconfig: 'k.yaml', namespaces: ['a', 'b', 'c'] },
    ],
    [
      ['--metrics-port=0', '--leader-elect=false', '--lease-namespace', 'ops'],
      { metricsPort: 0, leaderElect: false, leaseNamespace: 'ops' },
    ],
    [
      ['--leader-elect', '--prometheus-url', 'http://prom:9090/'],
      { leaderElect: true, prometheusUrl: 'http://prom:9090', prometheusAllowedUrls: [] },
    ],
    [
      ['--prometheus-allowed-url', 'http://a:9090/', '--prometheus-allowed-url=https://b/prom'],
      { prometheusAllowedUrls: ['http://a:9090', 'https://b/prom'] },
    ],
    [['-h'], { help: true }],
    [
      ['--workload-defaults={"podSecurityContext":{"fsGroup":2000},"nodeSelector":{"pool":"ml"}}'],
      { workloadDefaults: { podSecurityContext: { fsGroup: 2000 }, nodeSelector: { pool: 'ml' } } },
    ],
    [[], { workloadDefaults: undefined, scrapeAnnotations: true }],
    [['--scrape-annotations=false'], { scrapeAnnotations: false }],
    [[], { trainingRunAllowlist: { serviceAccounts: [], priorityClasses: [], secrets: [] } }],
    [
      [
        '--trainingrun-allowed-secret=modelship-s3',
        '--trainingrun-allowed-secret',
        'hf-token',
        '--trainingrun-allowed-service-account=trainer',
        '--trainingrun-allowed-priority-class=batch-low',
      ],
      {
        trainingRunAllowlist: {
          serviceAccounts: ['trainer'],
          priorityClasses: ['batch-low'],
          secrets: ['modelship-s3', 'hf-token'],
        },
      },
    ],
  ];
  for (const [argv, want] of ok) {
    const got = parseFlags(argv) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, `${argv.join(' ')}: ${k}`);
  }
  const bad: Array<[string[], RegExp]> = [
    [['--nope'], /unknown flag --nope/],
    [['--namespace'], /needs a value/],
    [['--metrics-port', 'x'], /port number/],
    [['--leader-elect=maybe'], /true or false/],
    [['--scrape-annotations=no'], /--scrape-annotations must be true or false/],
    [['--prometheus-url', 'ftp://x'], /http\(s\) URL/],
    [['--prometheus-allowed-url', 'x'], /^--prometheus-allowed-url must be an http\(s\) URL/],
    [['stray'], /unexpected argument/],
    [['--workload-defaults', '{'], /^--workload-defaults: not valid JSON/],
    [
      ['--workload-defaults', '{"podSecurityContext":{"runAsUser":0}}'],
      /^--workload-defaults: podSecurityContext\.runAsUser must not be 0 \(root\)/,
    ],
  ];
  for (const [argv, re] of bad) {
    assert.throws(
      () => parseFlags(argv),
      (e: unknown) => e instanceof FlagError && re.test(e.message),
      argv.join(' '),
    );
  }
});

test('an undecodable watch line ends the watch, which resumes from the last decoded event (not skipped)', async () => {
  const cm = (rv: string) => ({ metadata: { namespace: 'ns', name: 'a', resourceVersion: rv }, data: { rv } });
  const streams = [
    [
      JSON.stringify({ type: 'ADDED', object: cm('2') }),
      '',
      '{"type":"MODIFIED","object":{"meta',
      JSON.stringify({ type: 'MODIFIED', object: cm('4') }),
    ],
    [JSON.stringify({ type: 'MODIFIED', object: cm('5') })],
  ];
  const watchedFrom: string[] = [];
  let lists = 0;
  const client = {
    list: async () => {
      lists++;
      return { items: [], resourceVersion: '1' };
    },
    transport: {
      stream: async (req: { query: { resourceVersion: string } }) => {
        watchedFrom.push(req.query.resourceVersion);
        const lines = streams.shift() ?? [];
        let closed = false;
        return {
          close: () => {
            closed = true;
          },
          lines: (async function* () {
            for (const l of lines) yield l;
            while (!closed) await new Promise((r) => setTimeout(r, 10)); // an open, quiet stream
          })(),
        };
      },
    },
  } as unknown as KubeClient;
  const reasons: string[] = [];
  const inf = new Informer(client, {
    kind: Kinds.ConfigMap,
    backoff: { initialMs: 1, maxMs: 5, factor: 2, jitter: 0 },
    onRestart: (r) => reasons.push(r),
  });
  inf.start();
  try {
    const deadline = Date.now() + 5_000;
    while (inf.store.list('ns')[0]?.metadata?.resourceVersion !== '5' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.is(inf.store.list('ns')[0]?.metadata?.resourceVersion, '5');
    assert.equal(watchedFrom, ['1', '2'], 'the second watch resumes after the last decoded event');
    assert.is(lists, 1, 'no re-list');
    assert.match(reasons[0] ?? '', /unable to decode an event from the watch stream/);
  } finally {
    await inf.stop();
  }
});

test.run();
