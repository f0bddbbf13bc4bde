// The router's isvc-status source against the dev cluster's API server: the table follows the
// InferenceService status by watch (a weight change is applied well under a second after the
// status write), an invalid status keeps the last good table, and a closed source stops.
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type InferenceService } from '../../operator/api/index.js';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { IsvcStatusRoutingSource, tableFromStatus } from '../../serving/router/sources/isvc-status.js';
import { readyEndpoints } from '../../serving/router/sources/endpoint-slices.js';
import { silentLogger, type RouterConfig } from '../../serving/router/index.js';
import { startTestCluster, type TestCluster } from '../support/devcluster.js';
import { REPO_ROOT } from '../support/models.js';

let cluster: TestCluster;
let client: KubeClient;
let source: IsvcStatusRoutingSource | undefined;

test.before(async () => {
  cluster = await startTestCluster();
  const r = await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { timeoutMs: 60_000 });
  assert.is(r.code, 0, r.stderr);
  client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
  await waitFor(
    async () => {
      await client.list(Kinds.InferenceService, { namespace: 'default' });
      return true;
    },
    10_000,
    'CRD served',
  );
});

test.after(async () => {
  source?.close();
  await cluster?.stop();
});

const status = (canaryWeight: number) => ({
  phase: 'Progressing' as const,
  stable: { version: 1, weight: 100 - canaryWeight, url: 'http://127.96.0.10:80' },
  canary: { version: 2, weight: canaryWeight, url: 'http://127.96.0.11:80' },
});

test('tableFromStatus: stable and canary upstreams with their weights; roles without a URL are left out', () => {
  const t = tableFromStatus({ spec: { model: 'faces' }, status: status(10) });
  assert.equal(t.upstreams, [
    { role: 'stable', version: '1', url: 'http://127.96.0.10:80', weight: 90 },
    { role: 'canary', version: '2', url: 'http://127.96.0.11:80', weight: 10 },
  ]);
  assert.equal(
    tableFromStatus({ spec: { model: 'faces' }, status: { stable: { version: 1, weight: 100 } } }).upstreams,
    [],
  );
  assert.throws(() =>
    tableFromStatus({ spec: { model: 'faces' }, status: { stable: { version: 1, weight: 100, url: 'ftp://x' } } }),
  );
});

test('tableFromStatus: each role with its ready pods; readyEndpoints reads them from EndpointSlices', () => {
  const slices = [
    {
      metadata: { labels: { 'kubernetes.io/service-name': 'faces-stable' } },
      ports: [{ name: 'http', port: 8080 }],
      endpoints: [
        { addresses: ['10.0.0.2'], conditions: { ready: true } },
        { addresses: ['10.0.0.1'], conditions: { ready: true } },
        { addresses: ['10.0.0.3'], conditions: { ready: false } },
      ],
    },
    { metadata: { labels: {} }, ports: [{ port: 8080 }], endpoints: [{ addresses: ['10.9.9.9'] }] },
  ] as never[];
  const endpoints = readyEndpoints(slices);
  assert.equal([...endpoints], [['faces-stable', ['http://10.0.0.1:8080', 'http://10.0.0.2:8080']]]);
  const t = tableFromStatus({ metadata: { name: 'faces' }, spec: { model: 'faces' }, status: status(10) }, endpoints);
  assert.equal(t.upstreams[0].endpoints, ['http://10.0.0.1:8080', 'http://10.0.0.2:8080']);
  assert.is(t.upstreams[1].endpoints, undefined, 'no pods known: feedback goes through the Service');
});

test('tableFromStatus: pins only from the headers spec.traffic.router.pinHeaders names, none by default', () => {
  assert.is(tableFromStatus({ spec: { model: 'faces' }, status: status(10) }).pins, undefined);
  const spec = { model: 'faces', traffic: { router: { pinHeaders: { version: 'x-internal-pin-version' } } } };
  assert.equal(tableFromStatus({ spec, status: status(10) }).pins, { versionHeader: 'x-internal-pin-version' });
});

test('follows the status by watch: weight changes arrive in well under a second; invalid tables are refused', async () => {
  const isvc: InferenceService = {
    apiVersion: API_VERSION,
    kind: 'InferenceService',
    metadata: { name: 'faces', namespace: 'default' },
    spec: { model: 'faces' },
  } as InferenceService;
  let obj = await client.create(isvc);
  obj = await client.updateStatus({ ...obj, status: status(10) });
  source = await IsvcStatusRoutingSource.open({
    namespace: 'default',
    name: 'faces',
    log: silentLogger,
    kubeConfig: cluster.kubeConfig(),
    retryMs: 100,
  });
  assert.is(source.current().upstreams.find((u) => u.role === 'canary')?.weight, 10);

  const seen: RouterConfig[] = [];
  source.onChange((c) => seen.push(c));
  const delays: number[] = [];
  for (const w of [25, 50, 0]) {
    const t0 = performance.now();
    obj = await client.updateStatus({ ...obj, status: status(w) });
    await waitFor(
      async () => source!.current().upstreams.find((u) => u.role === 'canary')?.weight === w || undefined,
      5_000,
      `weight ${w}`,
      5,
    );
    delays.push(performance.now() - t0);
  }
  assert.ok(Math.max(...delays) < 1000, `status → table delays ${delays.map((d) => d.toFixed(0)).join(', ')} ms`);
  assert.is(seen.length, 3);

  let rejected = 0;
  source.close();
  source = await IsvcStatusRoutingSource.open({
    namespace: 'default',
    name: 'faces',
    log: silentLogger,
    kubeConfig: cluster.kubeConfig(),
    retryMs: 100,
    onRejected: () => {
      rejected++;
    },
  });
  obj = await client.updateStatus({
    ...obj,
    status: { ...status(0), canary: { version: 2, weight: 0, url: 'not a url' } },
  });
  await waitFor(async () => rejected > 0 || undefined, 5_000, 'rejection');
  assert.is(
    source.current().upstreams.find((u) => u.role === 'canary')?.url,
    'http://127.96.0.11:80',
    'last good table kept',
  );

  source.close();
  const before = source.current();
  await client.updateStatus({ ...obj, status: status(40) });
  await new Promise((r) => setTimeout(r, 300));
  assert.is(source.current(), before, 'closed source does not change');
});

test.run();
