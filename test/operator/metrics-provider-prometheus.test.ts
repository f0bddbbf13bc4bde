// The Prometheus provider against local HTTP servers answering in the Prometheus API format
// (the same cases against a real Prometheus are in test/operator/analysis-prometheus.test.ts): result
// parsing, request shape, and the typed errors that keep failures apart from numbers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BadQueryError,
  BadResponseError,
  EmptyResultError,
  MetricProviderError,
  PrometheusProvider,
  ProviderTimeoutError,
  ProviderUnreachableError,
  UnknownProviderError,
  createMetricProvider,
  isAllowedAddress,
  isMetricProviderType,
  ProviderRefusedError,
  RefusedProvider,
  parseSampleValue,
  requireSamples,
} from '../../operator/metrics-providers/index.js';

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

async function serve(handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => handler(req, body, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
};

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

test('vector and scalar results become samples; NaN and ±Inf are kept as such', async () => {
  const seen: Array<{ url?: string; method?: string; form: URLSearchParams }> = [];
  const { url, server } = await serve((req, body, res) => {
    const form = new URLSearchParams(body);
    seen.push({ url: req.url, method: req.method, form });
    if (form.get('query') === 'scalar(1)')
      return json(res, 200, { status: 'success', data: { resultType: 'scalar', result: [1767225600.5, '42'] } });
    json(res, 200, {
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { head: 'smile', outcome: 'correct' }, value: [1767225600.5, '12.5'] },
          { metric: {}, value: [1767225600.5, 'NaN'] },
          { metric: { le: '+Inf' }, value: [1767225600.5, '+Inf'] },
        ],
      },
    });
  });
  try {
    const p = new PrometheusProvider({ address: `${url}/prefix/`, timeoutMs: 5000 });
    const at = new Date('2026-01-01T00:00:00.500Z');
    const samples = await p.query('sum by (head, outcome) (x)', at);
    assert.equal(samples[0], { labels: { head: 'smile', outcome: 'correct' }, value: 12.5, timestamp: at });
    assert.ok(Number.isNaN(samples[1].value));
    assert.is(samples[2].value, Infinity);
    assert.is(seen[0].method, 'POST');
    assert.is(seen[0].url, '/prefix/api/v1/query', 'a path prefix in the address is kept');
    assert.is(seen[0].form.get('query'), 'sum by (head, outcome) (x)');
    assert.is(seen[0].form.get('time'), '1767225600.500');
    assert.is(seen[0].form.get('timeout'), '5s');
    assert.equal(await p.query('scalar(1)'), [{ labels: {}, value: 42, timestamp: new Date(1767225600500) }]);
    assert.is(seen[1].form.get('time'), null, 'no time: Prometheus evaluates at now');
  } finally {
    await close(server);
  }
});

test('error answers map to distinguishable typed errors', async () => {
  const { url, server } = await serve((_req, body, res) => {
    const q = new URLSearchParams(body).get('query');
    if (q === 'bad') return json(res, 400, { status: 'error', errorType: 'bad_data', error: 'parse error at char 4' });
    if (q === 'exec')
      return json(res, 422, { status: 'error', errorType: 'execution', error: 'many-to-many matching not allowed' });
    if (q === 'slow')
      return json(res, 503, {
        status: 'error',
        errorType: 'timeout',
        error: 'query timed out in expression evaluation',
      });
    if (q === 'range') return json(res, 200, { status: 'success', data: { resultType: 'matrix', result: [] } });
    if (q === 'html') return json(res, 502, '<html>Bad Gateway</html>');
    if (q === 'weird')
      return json(res, 200, {
        status: 'success',
        data: { resultType: 'vector', result: [{ metric: {}, value: ['x'] }] },
      });
    json(res, 200, { status: 'success', data: { resultType: 'vector', result: [] } });
  });
  try {
    const p = new PrometheusProvider({ address: url });
    const cases: Array<[string, new (...a: any[]) => MetricProviderError, string]> = [
      ['bad', BadQueryError, 'BadQuery'],
      ['range', BadQueryError, 'BadQuery'],
      ['slow', ProviderTimeoutError, 'ProviderTimeout'],
      ['exec', BadResponseError, 'BadResponse'],
      ['html', BadResponseError, 'BadResponse'],
      ['weird', BadResponseError, 'BadResponse'],
    ];
    for (const [q, cls, reason] of cases) {
      const err = await rejection(p.query(q));
      assert.instance(err, cls, q);
      assert.instance(err, MetricProviderError, q);
      assert.is((err as MetricProviderError).reason, reason, q);
    }
    assert.match(String(await rejection(p.query('bad'))), /parse error at char 4/);
    assert.equal(await p.query('empty'), [], 'no series is an empty list, not 0');
    const empty = await rejection(requireSamples(p, 'empty'));
    assert.instance(empty, EmptyResultError);
    assert.is((empty as EmptyResultError).query, 'empty');
  } finally {
    await close(server);
  }
});

test('a redirect is not followed and what a server sends is not echoed (SSRF through spec.prometheus.address)', async () => {
  let internalHits = 0;
  const internal = await serve((_req, _body, res) => {
    internalHits++;
    json(res, 200, { status: 'success', data: { resultType: 'vector', result: [] } });
  });
  const secret = 'SECRET-TOKEN-'.repeat(20);
  const hostile = await serve((req, body, res) => {
    const q = new URLSearchParams(body).get('query');
    if (q === 'moved') {
      res.writeHead(302, { location: `${internal.url}/api/v1/query` });
      return res.end(secret);
    }
    if (q === 'html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      return res.end(`<html>${secret}</html>`);
    }
    json(res, 500, { status: 'error', errorType: 'internal', error: `${secret}\n${secret}` });
  });
  try {
    const p = new PrometheusProvider({ address: hostile.url });
    for (let i = 0; i < 5; i++) {
      const moved = await rejection(p.query('moved'));
      assert.instance(moved, BadResponseError);
      assert.match(String(moved), /answered HTTP 302, a redirect, which the operator does not follow/);
      assert.not.match(String(moved), /SECRET/);
    }
    assert.is(internalHits, 0, 'the address a redirect points to is never requested');
    const html = await rejection(p.query('html'));
    assert.match(String(html), /characters that are not JSON \(text\/html\)/);
    assert.not.match(String(html), /SECRET/, 'a body that is not JSON is described, never echoed');
    const long = String(await rejection(p.query('other')));
    assert.ok(long.length < 400, `a server's error text is cut: ${long.length} characters`);
    assert.not.match(long, /\n/, 'and has no control characters');
  } finally {
    await close(hostile.server);
    await close(internal.server);
  }
});

test('allowed addresses: the listed ones and paths below them, nothing else; a refused address is never requested', async () => {
  const allowed = ['http://prometheus.monitoring:9090', 'https://thanos.example.com/query/'];
  const cases: Array<[string, boolean]> = [
    ['http://prometheus.monitoring:9090', true],
    ['http://prometheus.monitoring:9090/', true],
    ['HTTP://Prometheus.Monitoring:9090', true],
    ['https://thanos.example.com/query', true],
    ['https://thanos.example.com/query/tenant-a', true],
    ['https://thanos.example.com/querying', false],
    ['http://prometheus.monitoring:9091', false],
    ['https://prometheus.monitoring:9090', false],
    ['http://prometheus.monitoring:9090@evil.example', false],
    ['http://user:pw@prometheus.monitoring:9090', false],
    ['http://prometheus.monitoring:9090?x=1', false],
    ['http://169.254.169.254/latest/meta-data', false],
    ['not a url', false],
  ];
  for (const [address, ok] of cases) assert.is(isAllowedAddress(address, allowed), ok, address);
  assert.is(isAllowedAddress('http://p:9090', []), false, 'nothing is allowed by an empty list');

  let hits = 0;
  const { url, server } = await serve((_req, _body, res) => {
    hits++;
    json(res, 200, { status: 'success', data: { resultType: 'vector', result: [] } });
  });
  try {
    const refused = await rejection(new RefusedProvider(url).query('up'));
    assert.instance(refused, ProviderRefusedError);
    assert.is((refused as MetricProviderError).reason, 'ProviderRefused');
    assert.match(
      String(refused),
      /prometheusAllowedUrls \(operator flag --prometheus-allowed-url\); nothing was requested/,
    );
    assert.is(hits, 0);
  } finally {
    await close(server);
  }
});

test('unreachable and hanging servers: ProviderUnreachableError and ProviderTimeoutError', async () => {
  const { url, server } = await serve(() => undefined); // never answers
  const dead = await serve(() => undefined);
  const deadUrl = dead.url;
  await close(dead.server);
  try {
    const started = Date.now();
    const timeout = await rejection(new PrometheusProvider({ address: url, timeoutMs: 300 }).query('up'));
    assert.instance(timeout, ProviderTimeoutError);
    assert.ok(Date.now() - started < 3000, 'the client timeout is honoured');
    const refused = await rejection(new PrometheusProvider({ address: deadUrl }).query('up'));
    assert.instance(refused, ProviderUnreachableError);
    assert.match((refused as Error).message, /ECONNREFUSED/);
    assert.ok((refused as Error).cause, 'the cause is chained');
  } finally {
    await close(server);
  }
});

test('factory: prometheus by name; unknown types are an error, never a fallback', () => {
  const p = createMetricProvider({ type: 'prometheus', address: 'http://prometheus.monitoring:9090' });
  assert.instance(p, PrometheusProvider);
  assert.is(p.type, 'prometheus');
  assert.ok(isMetricProviderType('prometheus'));
  assert.not.ok(isMetricProviderType('datadog'));
  let err: unknown;
  try {
    createMetricProvider({ type: 'datadog', address: 'x' });
  } catch (e) {
    err = e;
  }
  assert.instance(err, UnknownProviderError);
  assert.is((err as UnknownProviderError).providerType, 'datadog');
  assert.match((err as Error).message, /known types: prometheus/);
  assert.throws(
    () => createMetricProvider({ type: 'prometheus', address: 'not a url' }),
    (e: unknown) => e instanceof TypeError,
  );
  assert.throws(
    () => new PrometheusProvider({ address: 'ftp://x' }),
    (e: unknown) => e instanceof TypeError,
  );
});

test('sample values as Prometheus writes them', () => {
  assert.equal(
    [
      parseSampleValue('1.5'),
      parseSampleValue('-2'),
      parseSampleValue('1e3'),
      parseSampleValue('+Inf'),
      parseSampleValue('-Inf'),
    ],
    [1.5, -2, 1000, Infinity, -Infinity],
  );
  assert.ok(Number.isNaN(parseSampleValue('NaN')));
  assert.throws(
    () => parseSampleValue('abc'),
    (e: unknown) => e instanceof BadResponseError,
  );
  assert.throws(
    () => parseSampleValue(''),
    (e: unknown) => e instanceof BadResponseError,
  );
});

test.run();
