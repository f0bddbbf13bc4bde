// The open-loop generator: pure helpers, and against a real local server that it keeps the
// arrival rate when answers are slow (new connections, no waiting for a free one) and counts
// latency from the scheduled time, so that its own stall shows up (no coordinated omission).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeRequest, frameResponse, percentile, runOpenLoop } from '../../hack/loadgen/open-loop.js';

test('percentile is nearest-rank', () => {
  const xs = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  assert.is(percentile(xs, 0.5), 5);
  assert.is(percentile(xs, 0.99), 10);
  assert.is(percentile(xs, 0.1), 1);
  assert.is(percentile(xs, 1), 10);
  assert.ok(Number.isNaN(percentile([], 0.5)));
});

test('encodeRequest writes head and body in one buffer', () => {
  const req = encodeRequest('127.0.0.1:8080', 'POST', '/predict', 'image/jpeg', Buffer.from('abc'));
  assert.is(
    req.toString('latin1'),
    'POST /predict HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: image/jpeg\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nabc',
  );
});

test('frameResponse waits for the whole head, then frames by Content-Length', () => {
  assert.is(frameResponse(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le')), undefined);
  const head = 'HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n';
  assert.equal(frameResponse(Buffer.from(`${head}{"a"`)), {
    status: 503,
    headBytes: head.length,
    totalBytes: head.length + 12,
  });
  assert.throws(
    () => frameResponse(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n')),
    /Content-Length/,
  );
});

async function withServer(
  delayMs: number,
  fn: (url: string, seen: { requests: number; bodies: Set<string> }) => Promise<void>,
): Promise<void> {
  const seen = { requests: 0, bodies: new Set<string>() };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.requests++;
      seen.bodies.add(Buffer.concat(chunks).toString());
      setTimeout(() => {
        const body = JSON.stringify({ latencyMs: delayMs });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const serverTimeMs = (body: Buffer) => Number(/"latencyMs":([\d.]+)/.exec(body.toString())?.[1]);

test('slow answers do not lower the rate: requests due while all connections are busy get new ones', async () => {
  await withServer(60, async (url, seen) => {
    const r = await runOpenLoop({
      url,
      path: '/x',
      bodies: [Buffer.from('a'), Buffer.from('b')],
      contentType: 'text/plain',
      rate: 100,
      durationMs: 600,
      warmConnections: 1,
      serverTimeMs,
    });
    assert.is(r.sent, 60);
    assert.is(r.ok, 60);
    assert.is(seen.requests, 60);
    assert.equal([...seen.bodies].sort(), ['a', 'b']);
    // 60 ms answers at one arrival per 10 ms need about 6 connections at once
    assert.ok(r.connections >= 5, `connections ${r.connections}`);
    assert.ok(percentile(r.latencyMs, 0.5) >= 60, `p50 ${percentile(r.latencyMs, 0.5)}`);
    assert.equal([...new Set(r.serverMs)], [60]);
  });
});

test('a generator stall is counted from the scheduled send time, not hidden', async () => {
  await withServer(0, async (url) => {
    // block this event loop for 150 ms in the middle of a 0.5 s run at 100/s
    const stall = setTimeout(() => {
      const until = performance.now() + 150;
      while (performance.now() < until) {
        /* busy */
      }
    }, 200);
    const r = await runOpenLoop({
      url,
      path: '/x',
      bodies: [Buffer.from('a')],
      contentType: 'text/plain',
      rate: 100,
      durationMs: 500,
    });
    clearTimeout(stall);
    assert.is(r.ok, 50);
    assert.ok(percentile(r.sendLagMs, 1) >= 100, `largest send lag ${percentile(r.sendLagMs, 1)}`);
    assert.ok(percentile(r.latencyMs, 1) >= 100, `largest latency ${percentile(r.latencyMs, 1)}`);
    // the requests due during the stall all went out right after it (arrival count kept)
    assert.ok(r.latencyMs.filter((ms) => ms >= 50).length >= 8);
  });
});

test('a closed connection counts as a failure', async () => {
  const server = createServer((req) => {
    req.socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const r = await runOpenLoop({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      path: '/',
      bodies: [Buffer.from('x')],
      contentType: 'text/plain',
      rate: 50,
      durationMs: 200,
    });
    assert.is(r.sent, 10);
    assert.is(r.failed, 10);
    assert.is(r.ok, 0);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test.run();
