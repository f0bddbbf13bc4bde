#!/usr/bin/env node
// Test image "modelship/test-http-server": a trivial HTTP server for the dev cluster's tests.
// Plain JavaScript (no tsx) so that it starts in a few tens of milliseconds.
//   GET /            → "hello from <pod name>"
//   GET /healthz     → 200
//   GET /ready       → 200 when ready, else 503 (readiness probe target)
//   GET /set-ready?value=true|false → toggles readiness
//   GET /status/<code> → that HTTP status (e.g. a liveness probe that always fails)
//   GET /metrics     → Prometheus text format (testserver_requests_total, testserver_ready)
// Listens on all addresses (the pod's own, as in its network namespace) on $PORT (else 8080). Env READY_AFTER_MS delays readiness;
// env METRICS_BODY is appended to /metrics (series with labels of a test's choosing).
import http from 'node:http';

const port = Number(process.env.PORT || 8080);
const name = process.env.HOSTNAME || 'test-http-server';
let ready = !process.env.READY_AFTER_MS;
if (!ready) setTimeout(() => (ready = true), Number(process.env.READY_AFTER_MS));
const requests = new Map();

const server = http.createServer((req, res) => {
  const url = new URL(req.url || '/', 'http://x');
  requests.set(url.pathname, (requests.get(url.pathname) || 0) + 1);
  if (url.pathname === '/healthz') return send(res, 200, 'ok\n');
  if (url.pathname === '/ready') return send(res, ready ? 200 : 503, ready ? 'ready\n' : 'not ready\n');
  if (url.pathname === '/set-ready') {
    ready = url.searchParams.get('value') !== 'false';
    return send(res, 200, `ready=${ready}\n`);
  }
  const forced = /^\/status\/(\d{3})$/.exec(url.pathname);
  if (forced) return send(res, Number(forced[1]), `status ${forced[1]}\n`);
  if (url.pathname === '/metrics') {
    const lines = [
      '# HELP testserver_requests_total Requests served, by path.',
      '# TYPE testserver_requests_total counter',
    ];
    for (const [path, n] of requests) lines.push(`testserver_requests_total{path="${path}"} ${n}`);
    lines.push(
      '# HELP testserver_ready Whether the server reports ready.',
      '# TYPE testserver_ready gauge',
      `testserver_ready ${ready ? 1 : 0}`,
    );
    if (process.env.METRICS_BODY) lines.push(process.env.METRICS_BODY.trimEnd());
    return send(res, 200, lines.join('\n') + '\n', 'text/plain; version=0.0.4');
  }
  return send(res, 200, `hello from ${name}\n`);
});

function send(res, status, body, type = 'text/plain') {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

// As servers behind load balancers are set: idle keep-alive connections outlive a client's
// pauses (Node's default is 5 s), so a test can hold one across a slow step.
server.keepAliveTimeout = 65_000;
server.listen(port, () => console.log(`listening on ${JSON.stringify(server.address())}`));
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    console.log(`received ${sig}, shutting down`);
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  });
}
