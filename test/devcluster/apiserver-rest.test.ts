// REST semantics of the dev cluster API server over plain HTTP: Status bodies, optimistic
// concurrency, generation, status subresource, selectors, pagination, watch (replay, 410,
// bookmarks, selector transitions, timeout), finalizers, garbage collection, namespaces,
// patches, fault injection, counters and persistence.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startApiServer, type ApiServer } from '../../hack/devcluster/apiserver/index.js';

interface Ctx {
  api: ApiServer;
}
const rest = suite<Ctx>('apiserver REST');

const json = 'application/json';
async function call(
  api: ApiServer,
  method: string,
  path: string,
  body?: unknown,
  contentType = json,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(`${api.url}${path}`, {
    method,
    headers: { 'Content-Type': contentType, Accept: json },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
const cmPath = (ns = 'default', name = '') => `/api/v1/namespaces/${ns}/configmaps${name ? `/${name}` : ''}`;
const cm = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...extra },
  data: { a: '1' },
});

/** Reads a watch stream until `count` events arrived, the stream ended, or the timeout. */
async function watchEvents(
  api: ApiServer,
  path: string,
  opts: { count?: number; timeoutMs?: number; during?: () => Promise<void> } = {},
): Promise<{ events: any[]; ended: boolean }> {
  const ac = new AbortController();
  const res = await fetch(`${api.url}${path}`, { signal: ac.signal });
  const reader = res.body!.getReader();
  const events: any[] = [];
  let buf = '';
  let ended = false;
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 3000);
  const reading = (async () => {
    try {
      while (events.length < (opts.count ?? Infinity)) {
        const { value, done } = await reader.read();
        if (done) {
          ended = true;
          break;
        }
        buf += new TextDecoder().decode(value);
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
        }
      }
    } catch {
      /* aborted */
    }
  })();
  if (opts.during) {
    await new Promise((r) => setTimeout(r, 50));
    await opts.during();
  }
  await reading;
  clearTimeout(timer);
  ac.abort();
  return { events, ended };
}

rest.before(async (ctx) => {
  ctx.api = await startApiServer({ port: 0, bookmarkIntervalMs: 200, historyLimit: 200 });
});
rest.after(async (ctx) => {
  await ctx.api.stop();
});

rest('404 / 409 AlreadyExists / 409 Conflict / 404 namespace: kube-apiserver Status bodies', async ({ api }) => {
  const missing = await call(api, 'GET', cmPath('default', 'nope'));
  assert.is(missing.status, 404);
  assert.equal(missing.body, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'configmaps "nope" not found',
    reason: 'NotFound',
    details: { name: 'nope', kind: 'configmaps' },
    code: 404,
  });
  const dep = await call(api, 'GET', '/apis/apps/v1/namespaces/default/deployments/x');
  assert.is(dep.body.message, 'deployments.apps "x" not found');
  assert.equal(dep.body.details, { name: 'x', group: 'apps', kind: 'deployments' });
  const created = await call(api, 'POST', cmPath(), cm('a'));
  assert.is(created.status, 201);
  const again = await call(api, 'POST', cmPath(), cm('a'));
  assert.is(again.status, 409);
  assert.is(again.body.reason, 'AlreadyExists');
  assert.is(again.body.message, 'configmaps "a" already exists');
  const stale = { ...created.body, metadata: { ...created.body.metadata, resourceVersion: '1' }, data: { a: '2' } };
  const conflict = await call(api, 'PUT', cmPath('default', 'a'), stale);
  assert.is(conflict.status, 409);
  assert.is(conflict.body.reason, 'Conflict');
  assert.is(
    conflict.body.message,
    'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
  );
  const noNs = await call(api, 'POST', cmPath('ghost'), cm('a'));
  assert.is(noNs.status, 404);
  assert.is(noNs.body.message, 'namespaces "ghost" not found');
  const unknown = await call(api, 'GET', '/apis/nope.dev/v1/things');
  assert.is(unknown.status, 404);
});

rest('one global monotonic resourceVersion; uid, creationTimestamp; generate names', async ({ api }) => {
  const a = await call(api, 'POST', cmPath(), cm('rv1'));
  const b = await call(api, 'POST', '/api/v1/namespaces/default/secrets', {
    metadata: { name: 's' },
    stringData: { k: 'v' },
  });
  assert.ok(Number(b.body.metadata.resourceVersion) > Number(a.body.metadata.resourceVersion));
  assert.is(b.body.data.k, Buffer.from('v').toString('base64'), 'stringData folded into data');
  assert.is(b.body.type, 'Opaque');
  const g = await call(api, 'POST', cmPath(), { metadata: { generateName: 'gen-' } });
  assert.match(g.body.metadata.name, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  const warned = await call(api, 'POST', cmPath(), { metadata: { name: 'warned' }, spec: { x: 1 }, data: { a: 'b' } });
  assert.is(
    warned.headers.get('warning'),
    '299 - "unknown field \\"spec\\""',
    'Warn is the default: dropped with a warning',
  );
  assert.is(warned.body.spec, undefined);
  const strict = await call(api, 'POST', `${cmPath()}?fieldValidation=Strict`, {
    metadata: { name: 'strict', bogus: 1 },
  });
  assert.is(strict.status, 400);
  assert.is(
    strict.body.message,
    'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.bogus"',
  );
  const strictPatch = await call(
    api,
    'PATCH',
    `${cmPath('default', 'warned')}?fieldValidation=Strict`,
    { spec: { y: 1 } },
    'application/merge-patch+json',
  );
  assert.is(strictPatch.body.message, 'strict decoding error: unknown field "spec"', 'patches carry no decoder prefix');
  const noName = await call(api, 'POST', cmPath(), { metadata: {} });
  assert.is(noName.status, 422);
  assert.is(
    noName.body.message,
    'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
  );
  const list = await call(api, 'GET', cmPath());
  assert.is(list.body.kind, 'ConfigMapList');
  assert.ok(Number(list.body.metadata.resourceVersion) >= Number(g.body.metadata.resourceVersion));
});

rest('generation bumps on spec changes only; status subresource semantics', async ({ api }) => {
  const path = '/apis/apps/v1/namespaces/default/deployments';
  const d = {
    metadata: { name: 'g' },
    spec: {
      selector: { matchLabels: { a: 'b' } },
      template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    },
    status: { replicas: 7 },
  };
  const created = (await call(api, 'POST', path, d)).body;
  assert.is(created.metadata.generation, 1);
  assert.equal(created.status, {}, 'status reset on create');
  const labelled = (
    await call(api, 'PATCH', `${path}/g`, { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json')
  ).body;
  assert.is(labelled.metadata.generation, 1);
  const scaled = (
    await call(
      api,
      'PATCH',
      `${path}/g`,
      { spec: { replicas: 4 }, status: { replicas: 9 } },
      'application/merge-patch+json',
    )
  ).body;
  assert.is(scaled.metadata.generation, 2);
  assert.is(scaled.status.replicas, undefined, 'main resource ignores status');
  const st = (
    await call(api, 'PUT', `${path}/g/status`, {
      ...scaled,
      spec: { ...scaled.spec, replicas: 1 },
      status: { replicas: 4, observedGeneration: 2 },
    })
  ).body;
  assert.is(st.status.replicas, 4);
  assert.is(st.spec.replicas, 4, '/status ignores spec');
  assert.is(st.metadata.generation, 2);
  const scale = (await call(api, 'GET', `${path}/g/scale`)).body;
  assert.equal(
    [scale.kind, scale.apiVersion, scale.spec.replicas, scale.status.replicas, scale.status.selector],
    ['Scale', 'autoscaling/v1', 4, 4, 'a=b'],
  );
});

rest('patch types: merge, JSON, strategic (merge keys, $patch delete), 415 for unknown types', async ({ api }) => {
  const path = '/api/v1/namespaces/default/pods';
  await call(api, 'POST', path, {
    metadata: { name: 'p', finalizers: ['a/x'] },
    spec: {
      containers: [
        { name: 'a', image: 'i', env: [{ name: 'X', value: '1' }] },
        { name: 'b', image: 'j' },
      ],
      tolerations: [{ key: 'k' }],
    },
  });
  const smp = await call(
    api,
    'PATCH',
    `${path}/p`,
    {
      metadata: { finalizers: ['a/y'] },
      spec: {
        containers: [
          { name: 'a', env: [{ name: 'Y', value: '2' }] },
          { name: 'b', $patch: 'delete' },
        ],
        tolerations: [{ key: 'z' }],
      },
    },
    'application/strategic-merge-patch+json',
  );
  assert.is(smp.status, 200, JSON.stringify(smp.body));
  assert.equal(
    smp.body.spec.containers.map((c: any) => c.name),
    ['a'],
  );
  assert.equal(smp.body.spec.containers[0].env, [
    { name: 'X', value: '1' },
    { name: 'Y', value: '2' },
  ]);
  assert.equal(smp.body.spec.tolerations, [{ key: 'z' }], 'tolerations are replaced');
  assert.equal(smp.body.metadata.finalizers, ['a/x', 'a/y'], 'finalizers merge');
  const jp = await call(
    api,
    'PATCH',
    `${path}/p`,
    [
      { op: 'test', path: '/spec/containers/0/name', value: 'a' },
      { op: 'replace', path: '/spec/containers/0/image', value: 'k' },
      { op: 'remove', path: '/metadata/finalizers' },
    ],
    'application/json-patch+json',
  );
  assert.is(jp.body.spec.containers[0].image, 'k');
  assert.is(jp.body.metadata.finalizers, undefined);
  const failing = await call(
    api,
    'PATCH',
    `${path}/p`,
    [{ op: 'test', path: '/spec/containers/0/name', value: 'zzz' }],
    'application/json-patch+json',
  );
  assert.is(failing.status, 422);
  const mp = await call(
    api,
    'PATCH',
    `${path}/p`,
    { metadata: { labels: { l: 'v' } }, spec: { tolerations: null } },
    'application/merge-patch+json',
  );
  assert.is(mp.body.metadata.labels.l, 'v');
  assert.is(mp.body.spec.tolerations, undefined);
  const bad = await call(api, 'PATCH', `${path}/p`, {}, 'text/plain');
  assert.is(bad.status, 415);
  assert.is(bad.body.reason, 'UnsupportedMediaType');
  const noManager = await call(api, 'PATCH', `${path}/p`, 'metadata: {name: p}', 'application/apply-patch+yaml');
  assert.is(noManager.status, 400);
  const stale = await call(
    api,
    'PATCH',
    `${path}/p`,
    { metadata: { resourceVersion: '2' } },
    'application/merge-patch+json',
  );
  assert.is(stale.status, 409);
});

rest('server-side apply creates, owns fields, conflicts (409 with causes), force takes over', async ({ api }) => {
  const path = `${cmPath()}/applied`;
  const apply = (manager: string, data: Record<string, string>, force = false) =>
    call(
      api,
      'PATCH',
      `${path}?fieldManager=${manager}${force ? '&force=true' : ''}`,
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata: ${JSON.stringify(data)}\n`,
      'application/apply-patch+yaml',
    );
  const created = await apply('one', { a: '1', b: '2' });
  assert.is(created.status, 201);
  assert.equal(
    created.body.metadata.managedFields.map((m: any) => [m.manager, m.operation]),
    [['one', 'Apply']],
  );
  const same = await apply('two', { a: '1' });
  assert.is(same.status, 200, 'same value: shared ownership, no conflict');
  const conflict = await apply('two', { a: '9' });
  assert.is(conflict.status, 409);
  assert.is(conflict.body.message, 'Apply failed with 1 conflict: conflict with "one" using v1: .data.a');
  assert.equal(conflict.body.details.causes, [
    { reason: 'FieldManagerConflict', message: 'conflict with "one" using v1', field: '.data.a' },
  ]);
  const forced = await apply('two', { a: '9' }, true);
  assert.is(forced.body.data.a, '9');
  const dropped = await apply('one', { a: '9' });
  assert.equal(dropped.body.data, { a: '9' }, 'b removed when its only manager stops applying it');
});

rest('list: label selector operators, field selectors, limit/continue', async ({ api }) => {
  const ns = 'sel';
  await call(api, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
  await api.settled(); // kube-root-ca.crt published in the new namespace, as on a real cluster
  const labels: Record<string, Record<string, string>> = {
    x1: { env: 'prod', tier: 'a' },
    x2: { env: 'dev', tier: 'b' },
    x3: { env: 'test' },
    x4: {},
    x5: { env: 'prod' },
  };
  for (const [name, l] of Object.entries(labels)) await call(api, 'POST', cmPath(ns), cm(name, { labels: l }));
  const cases: Array<[string, string[]]> = [
    ['env=prod', ['x1', 'x5']],
    ['env==prod', ['x1', 'x5']],
    ['env!=prod', ['kube-root-ca.crt', 'x2', 'x3', 'x4']],
    ['env in (dev,test)', ['x2', 'x3']],
    ['env notin (prod,dev)', ['kube-root-ca.crt', 'x3', 'x4']],
    ['tier', ['x1', 'x2']],
    ['!tier', ['kube-root-ca.crt', 'x3', 'x4', 'x5']],
    ['env=prod,tier=a', ['x1']],
  ];
  for (const [sel, want] of cases) {
    const r = await call(api, 'GET', `${cmPath(ns)}?labelSelector=${encodeURIComponent(sel)}`);
    assert.equal(
      r.body.items.map((i: any) => i.metadata.name),
      want,
      sel,
    );
  }
  const byName = await call(api, 'GET', `${cmPath(ns)}?fieldSelector=metadata.name%3Dx2`);
  assert.equal(
    byName.body.items.map((i: any) => i.metadata.name),
    ['x2'],
  );
  const notName = await call(api, 'GET', `${cmPath(ns)}?fieldSelector=metadata.name!%3Dx2,metadata.namespace%3D${ns}`);
  assert.is(notName.body.items.length, 5);
  const badSel = await call(api, 'GET', `${cmPath(ns)}?labelSelector=${encodeURIComponent('a in (b')}`);
  assert.is(badSel.status, 400);
  const names: string[] = [];
  let token = '';
  let pages = 0;
  do {
    const r = await call(api, 'GET', `${cmPath(ns)}?limit=2${token ? `&continue=${token}` : ''}`);
    names.push(...r.body.items.map((i: any) => i.metadata.name));
    token = r.body.metadata.continue ?? '';
    if (token) assert.is(r.body.metadata.remainingItemCount, 6 - names.length);
    pages++;
  } while (token);
  assert.equal(names, ['kube-root-ca.crt', 'x1', 'x2', 'x3', 'x4', 'x5']);
  assert.is(pages, 3);
  const firstPage = await call(api, 'GET', `${cmPath(ns)}?limit=2`);
  await call(api, 'PATCH', cmPath(ns, 'x1'), { data: { touched: 'yes' } }, 'application/merge-patch+json');
  api.faults.compact();
  const expired = await call(api, 'GET', `${cmPath(ns)}?limit=2&continue=${firstPage.body.metadata.continue}`);
  assert.is(expired.status, 410, 'a continue token older than the compacted history expires');
  assert.is(expired.body.reason, 'Expired');
  assert.is((await call(api, 'GET', `${cmPath(ns)}?limit=2&continue=garbage`)).status, 400);
  const all = await call(api, 'GET', '/api/v1/configmaps?labelSelector=env%3Dprod');
  assert.is(all.body.items.length, 2, 'cluster-wide list of a namespaced kind');
  await call(api, 'POST', '/api/v1/namespaces/sel/pods', {
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', image: 'i' }] },
  });
  const pending = await call(api, 'GET', '/api/v1/namespaces/sel/pods?fieldSelector=status.phase%3DPending');
  assert.is(pending.body.items.length, 1);
  const badField = await call(api, 'GET', '/api/v1/namespaces/sel/pods?fieldSelector=spec.bogus%3Dx');
  assert.is(badField.status, 400);
  assert.is(badField.body.message, 'field label not supported: spec.bogus');
});

rest(
  'watch: synthetic ADDED, live events, DELETED with the final object, replay from a resourceVersion',
  async ({ api }) => {
    const ns = 'w1';
    await call(api, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
    await api.settled(); // kube-root-ca.crt published in the new namespace, as on a real cluster
    const first = (await call(api, 'POST', cmPath(ns), cm('one'))).body;
    const { events } = await watchEvents(api, `${cmPath(ns)}?watch=true`, {
      count: 5,
      during: async () => {
        await call(api, 'POST', cmPath(ns), cm('two'));
        await call(api, 'PATCH', cmPath(ns, 'two'), { data: { b: '2' } }, 'application/merge-patch+json');
        await call(api, 'DELETE', cmPath(ns, 'two'));
      },
    });
    assert.equal(
      events.map((e) => `${e.type} ${e.object.metadata.name}`),
      ['ADDED kube-root-ca.crt', 'ADDED one', 'ADDED two', 'MODIFIED two', 'DELETED two'],
    );
    assert.equal(events[4].object.data, { a: '1', b: '2' }, 'DELETED carries the final state');
    assert.ok(Number(events[4].object.metadata.resourceVersion) > Number(events[3].object.metadata.resourceVersion));
    const replay = await watchEvents(
      api,
      `${cmPath(ns)}?watch=true&resourceVersion=${first.metadata.resourceVersion}`,
      { count: 3 },
    );
    assert.equal(
      replay.events.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'DELETED'],
      'replay after the given RV only',
    );
  },
);

rest('watch: 410 Expired for a compacted resourceVersion, bookmarks, timeoutSeconds', async ({ api }) => {
  const ns = 'w2';
  await call(api, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
  const old = (await call(api, 'POST', cmPath(ns), cm('c'))).body.metadata.resourceVersion;
  await call(api, 'PATCH', cmPath(ns, 'c'), { data: { b: '1' } }, 'application/merge-patch+json');
  api.faults.compact();
  const expired = await watchEvents(api, `${cmPath(ns)}?watch=true&resourceVersion=${old}`);
  assert.is(expired.ended, true);
  assert.is(expired.events.length, 1);
  assert.is(expired.events[0].type, 'ERROR');
  assert.is(expired.events[0].object.code, 410);
  assert.is(expired.events[0].object.reason, 'Expired');
  assert.match(expired.events[0].object.message, /^too old resource version: \d+ \(\d+\)$/);
  const rv = String(api.resourceVersion());
  const bm = await watchEvents(
    api,
    `${cmPath(ns)}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`,
    { timeoutMs: 4000 },
  );
  assert.is(bm.ended, true, 'timeoutSeconds closes the stream');
  assert.ok(
    bm.events.some(
      (e) => e.type === 'BOOKMARK' && e.object.kind === 'ConfigMap' && e.object.metadata.resourceVersion === rv,
    ),
    JSON.stringify(bm.events),
  );
  // history overflow also expires old versions (historyLimit 200)
  for (let i = 0; i < 260; i++)
    await call(api, 'PATCH', cmPath(ns, 'c'), { data: { i: String(i) } }, 'application/merge-patch+json');
  const overflow = await watchEvents(api, `${cmPath(ns)}?watch=true&resourceVersion=${rv}`);
  assert.is(overflow.events[0]?.object.code, 410);
});

rest('watch with a label selector: objects entering / leaving the selection are ADDED / DELETED', async ({ api }) => {
  const ns = 'w3';
  await call(api, 'POST', '/api/v1/namespaces', { metadata: { name: ns } });
  await call(api, 'POST', cmPath(ns), cm('m', { labels: { pick: 'no' } }));
  const { events } = await watchEvents(api, `${cmPath(ns)}?watch=true&labelSelector=pick%3Dyes`, {
    count: 3,
    during: async () => {
      await call(
        api,
        'PATCH',
        cmPath(ns, 'm'),
        { metadata: { labels: { pick: 'yes' } } },
        'application/merge-patch+json',
      );
      await call(api, 'PATCH', cmPath(ns, 'm'), { data: { z: '1' } }, 'application/merge-patch+json');
      await call(
        api,
        'PATCH',
        cmPath(ns, 'm'),
        { metadata: { labels: { pick: 'no' } } },
        'application/merge-patch+json',
      );
    },
  });
  assert.equal(
    events.map((e) => e.type),
    ['ADDED', 'MODIFIED', 'DELETED'],
  );
});

rest(
  'finalizers: deletionTimestamp, still readable, gone when the last finalizer goes; no new finalizers',
  async ({ api }) => {
    await call(api, 'POST', cmPath(), cm('fin', { finalizers: ['test/hold'] }));
    const del = await call(api, 'DELETE', cmPath('default', 'fin'));
    assert.is(del.status, 200);
    assert.match(del.body.metadata.deletionTimestamp, /Z$/);
    const still = await call(api, 'GET', cmPath('default', 'fin'));
    assert.is(still.status, 200);
    const add = await call(
      api,
      'PATCH',
      cmPath('default', 'fin'),
      { metadata: { finalizers: ['test/hold', 'test/more'] } },
      'application/merge-patch+json',
    );
    assert.is(add.status, 422);
    assert.match(
      add.body.message,
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"test/more"}',
    );
    const released = await call(
      api,
      'PATCH',
      cmPath('default', 'fin'),
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    assert.is(released.status, 200);
    assert.is((await call(api, 'GET', cmPath('default', 'fin'))).status, 404);
    const pre = await call(api, 'POST', cmPath(), cm('pre'));
    const wrongUid = await call(api, 'DELETE', cmPath('default', 'pre'), { preconditions: { uid: 'nope' } });
    assert.is(wrongUid.status, 409);
    const okDel = await call(api, 'DELETE', cmPath('default', 'pre'), {
      preconditions: { uid: pre.body.metadata.uid },
    });
    assert.equal([okDel.body.kind, okDel.body.status, okDel.body.details.name], ['Status', 'Success', 'pre']);
  },
);

rest('garbage collection: Background, Orphan and Foreground propagation', async ({ api }) => {
  const owned = async (owner: string, name: string, block = false) => {
    const o = (await call(api, 'GET', cmPath('default', owner))).body;
    return call(
      api,
      'POST',
      cmPath(),
      cm(name, {
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: owner,
            uid: o.metadata.uid,
            ...(block ? { blockOwnerDeletion: true } : {}),
          },
        ],
      }),
    );
  };
  const exists = async (name: string) => (await call(api, 'GET', cmPath('default', name))).status === 200;
  await call(api, 'POST', cmPath(), cm('bg-owner'));
  await owned('bg-owner', 'bg-dep');
  await call(api, 'DELETE', cmPath('default', 'bg-owner'), { propagationPolicy: 'Background' });
  await api.settled();
  assert.is(await exists('bg-dep'), false, 'background: dependent collected');

  await call(api, 'POST', cmPath(), cm('or-owner'));
  await owned('or-owner', 'or-dep');
  await call(api, 'DELETE', cmPath('default', 'or-owner'), { propagationPolicy: 'Orphan' });
  await api.settled();
  assert.is(await exists('or-owner'), false);
  const orphan = (await call(api, 'GET', cmPath('default', 'or-dep'))).body;
  assert.is(orphan.metadata.ownerReferences, undefined, 'orphan: reference removed, dependent kept');

  await call(api, 'POST', cmPath(), cm('fg-owner'));
  await owned('fg-owner', 'fg-dep', true);
  await call(
    api,
    'PATCH',
    cmPath('default', 'fg-dep'),
    { metadata: { finalizers: ['test/slow'] } },
    'application/merge-patch+json',
  );
  const fg = await call(api, 'DELETE', cmPath('default', 'fg-owner'), { propagationPolicy: 'Foreground' });
  assert.ok(fg.body.metadata.finalizers.includes('foregroundDeletion'));
  await api.settled();
  assert.is(await exists('fg-owner'), true, 'foreground: owner waits for its blocking dependent');
  assert.ok((await call(api, 'GET', cmPath('default', 'fg-dep'))).body.metadata.deletionTimestamp);
  await call(
    api,
    'PATCH',
    cmPath('default', 'fg-dep'),
    { metadata: { finalizers: null } },
    'application/merge-patch+json',
  );
  await api.settled();
  assert.is(await exists('fg-dep'), false);
  assert.is(await exists('fg-owner'), false);

  await call(
    api,
    'POST',
    cmPath(),
    cm('dangling', {
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' },
      ],
    }),
  );
  await api.settled();
  assert.is(await exists('dangling'), false, 'an object whose owner never existed is collected');
});

rest('namespace deletion: Terminating, no new content, content removed, then the namespace', async ({ api }) => {
  await call(api, 'POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
  await call(api, 'POST', cmPath('doomed'), cm('held', { finalizers: ['test/hold'] }));
  await call(api, 'POST', cmPath('doomed'), cm('free'));
  const del = await call(api, 'DELETE', '/api/v1/namespaces/doomed');
  assert.is(del.body.status.phase, 'Terminating');
  await api.settled();
  const refused = await call(api, 'POST', cmPath('doomed'), cm('late'));
  assert.is(refused.status, 403);
  assert.is(
    refused.body.message,
    'configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated',
  );
  assert.is((await call(api, 'GET', cmPath('doomed', 'free'))).status, 404);
  assert.is((await call(api, 'GET', '/api/v1/namespaces/doomed')).status, 200, 'held by content with a finalizer');
  await call(
    api,
    'PATCH',
    cmPath('doomed', 'held'),
    { metadata: { finalizers: null } },
    'application/merge-patch+json',
  );
  await api.settled();
  assert.is((await call(api, 'GET', '/api/v1/namespaces/doomed')).status, 404);
});

rest('fault injection and request counters', async ({ api }) => {
  api.faults.failNext({ verb: 'create', resource: 'configmaps', code: 500 });
  const failed = await call(api, 'POST', cmPath(), cm('f1'));
  assert.is(failed.status, 500);
  assert.is(failed.body.reason, 'InternalError');
  assert.is((await call(api, 'POST', cmPath(), cm('f1'))).status, 201, 'count defaults to one');
  const ctl = await call(api, 'POST', '/debug/faults', {
    op: 'fail',
    verb: 'update',
    resource: 'configmaps',
    name: 'f1',
    code: 409,
    count: 2,
  });
  assert.is(ctl.status, 200);
  const cur = (await call(api, 'GET', cmPath('default', 'f1'))).body;
  assert.is((await call(api, 'PUT', cmPath('default', 'f1'), cur)).status, 409);
  assert.is((await call(api, 'PUT', cmPath('default', 'f1'), cur)).status, 409);
  assert.is((await call(api, 'PUT', cmPath('default', 'f1'), { ...cur, data: { n: '1' } })).status, 200);
  api.faults.addLatency({ verb: 'get', resource: 'configmaps', latencyMs: 150, count: 1 });
  const t0 = Date.now();
  await call(api, 'GET', cmPath('default', 'f1'));
  assert.ok(Date.now() - t0 >= 140);
  // dropped watch streams
  const dropped = await watchEvents(api, `${cmPath()}?watch=true&resourceVersion=${api.resourceVersion()}`, {
    timeoutMs: 3000,
    during: async () => {
      assert.is(api.faults.dropWatches({ resource: 'configmaps' }), 1);
    },
  });
  assert.is(dropped.ended, true);
  // counters: steady state means no writes
  api.resetCounters();
  await call(api, 'GET', cmPath());
  await call(api, 'GET', cmPath('default', 'f1'));
  let counters = api.counters();
  assert.is(counters.writes, 0);
  assert.is(counters.byKey['list configmaps'], 1);
  assert.is(counters.byKey['get configmaps'], 1);
  await call(
    api,
    'PATCH',
    '/apis/apps/v1/namespaces/default/deployments/g/status',
    { status: { replicas: 1 } },
    'application/merge-patch+json',
  );
  counters = (await call(api, 'GET', '/debug/counters')).body;
  assert.is(counters.writes, 1);
  assert.is(counters.byKey['patch deployments.apps/status'], 1);
  const metrics = await (await fetch(`${api.url}/metrics`)).text();
  assert.match(
    metrics,
    'apiserver_request_total{verb="PATCH",resource="deployments.apps",subresource="status",code="200"} 1',
  );
});

rest(
  'CRD versions: each served version in discovery (preferred by priority), objects read through any served version',
  async ({ api }) => {
    const version = (name: string, served: boolean, storage: boolean) => ({
      name,
      served,
      storage,
      subresources: { status: {} },
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: { spec: { type: 'object', properties: { n: { type: 'integer' } } }, status: { type: 'object' } },
        },
      },
    });
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.multi.test' },
      spec: {
        group: 'multi.test',
        scope: 'Cluster',
        names: { kind: 'Gadget', plural: 'gadgets', singular: 'gadget', listKind: 'GadgetList' },
        versions: [version('v1alpha1', true, false), version('v1beta1', true, true), version('v1', false, false)],
      },
    };
    const created = await call(api, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    assert.is(created.status, 201, JSON.stringify(created.body));
    assert.equal(
      created.body.status.conditions.map((c: any) => [c.type, c.status]),
      [
        ['NamesAccepted', 'True'],
        ['Established', 'True'],
      ],
    );
    assert.equal(created.body.status.storedVersions, ['v1beta1']);
    const group = (await call(api, 'GET', '/apis/multi.test')).body;
    assert.equal(
      group.versions.map((v: any) => v.version),
      ['v1beta1', 'v1alpha1'],
    );
    assert.is(group.preferredVersion.version, 'v1beta1');
    assert.is((await call(api, 'GET', '/apis/multi.test/v1/gadgets')).status, 404, 'unserved version');
    const resources = (await call(api, 'GET', '/apis/multi.test/v1alpha1')).body.resources.map((r: any) => r.name);
    assert.equal(resources, ['gadgets', 'gadgets/status']);
    await call(api, 'POST', '/apis/multi.test/v1alpha1/gadgets', {
      apiVersion: 'multi.test/v1alpha1',
      kind: 'Gadget',
      metadata: { name: 'g1' },
      spec: { n: 1 },
    });
    const viaBeta = (await call(api, 'GET', '/apis/multi.test/v1beta1/gadgets/g1')).body;
    assert.equal([viaBeta.apiVersion, viaBeta.spec.n], ['multi.test/v1beta1', 1]);
    const list = (await call(api, 'GET', '/apis/multi.test/v1alpha1/gadgets')).body;
    assert.equal(
      [list.kind, list.apiVersion, list.items[0].apiVersion],
      ['GadgetList', 'multi.test/v1alpha1', 'multi.test/v1alpha1'],
    );
    const wrongKind = await call(api, 'POST', '/apis/multi.test/v1alpha1/gadgets', {
      apiVersion: 'multi.test/v1alpha1',
      kind: 'Other',
      metadata: { name: 'g2' },
    });
    assert.is(wrongKind.status, 400);
    await call(api, 'DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.multi.test');
    await api.settled();
    assert.is((await call(api, 'GET', '/apis/multi.test/v1alpha1/gadgets')).status, 404, 'types go with the CRD');
    assert.is((await call(api, 'GET', '/apis/multi.test')).status, 404);
    assert.is(
      (await call(api, 'GET', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.multi.test')).status,
      404,
    );
  },
);

rest.run();

const persist = suite('apiserver persistence');
persist('state survives a restart with the same data dir; resourceVersions keep increasing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'apiserver-persist-'));
  try {
    let api = await startApiServer({ port: 0, dataDir: dir });
    const created = (await call(api, 'POST', cmPath(), cm('kept'))).body;
    const svc = (
      await call(api, 'POST', '/api/v1/namespaces/default/services', {
        metadata: { name: 's' },
        spec: { ports: [{ port: 80 }] },
      })
    ).body;
    await api.stop();
    api = await startApiServer({ port: 0, dataDir: dir });
    try {
      const back = (await call(api, 'GET', cmPath('default', 'kept'))).body;
      assert.is(back.metadata.uid, created.metadata.uid);
      assert.is(back.metadata.resourceVersion, created.metadata.resourceVersion);
      const next = (await call(api, 'POST', cmPath(), cm('after'))).body;
      assert.ok(Number(next.metadata.resourceVersion) > Number(svc.metadata.resourceVersion));
      const svc2 = (
        await call(api, 'POST', '/api/v1/namespaces/default/services', {
          metadata: { name: 's2' },
          spec: { ports: [{ port: 80 }] },
        })
      ).body;
      assert.is.not(svc2.spec.clusterIP, svc.spec.clusterIP, 'restored cluster IPs stay allocated');
      assert.is((await call(api, 'GET', '/api/v1/namespaces/default/serviceaccounts/default')).status, 200);
    } finally {
      await api.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
persist.run();
