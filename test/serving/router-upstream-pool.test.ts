// The router's upstream pool keeps connections alive between requests, and lets go of an idle
// one before a draining model server closes it (its shutdown delay), so the router never sends
// a request on a socket the pod is closing at that instant.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { UpstreamPool } from '../../serving/router/upstreams.js';
import { DEFAULT_SHUTDOWN_DELAY_MS } from '../../serving/lib/protocol/options.js';

function send(pool: UpstreamPool, url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = pool.get(url).request({ method: 'GET', path: '/' });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res));
    });
    req.on('error', reject);
    req.end();
  });
}

test('an idle upstream socket is reused at once and closed before a pod’s shutdown delay ends', async () => {
  const sockets: { closedAt?: number }[] = [];
  // The model server's own keep-alive timeout is 65 s: only the router's side can close first.
  const server = createServer({ keepAliveTimeout: 65_000 }, (_req, res) => res.end('ok'));
  server.on('connection', (socket: Socket) => {
    const seen: { closedAt?: number } = {};
    sockets.push(seen);
    socket.on('close', () => (seen.closedAt = Date.now()));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const pool = new UpstreamPool();
  try {
    await send(pool, url);
    await send(pool, url);
    assert.is(sockets.length, 1, 'the second request reuses the pooled connection');
    const idleSince = Date.now();
    // A drain starts now: the pod closes whatever is still idle after DEFAULT_SHUTDOWN_DELAY_MS.
    while (sockets[0].closedAt === undefined && Date.now() - idleSince < DEFAULT_SHUTDOWN_DELAY_MS + 2000)
      await new Promise((r) => setTimeout(r, 50));
    const idleMs = (sockets[0].closedAt ?? Infinity) - idleSince;
    assert.ok(
      idleMs < DEFAULT_SHUTDOWN_DELAY_MS,
      `the router closed its idle socket after ${idleMs} ms, not before the pod's ${DEFAULT_SHUTDOWN_DELAY_MS} ms`,
    );
  } finally {
    pool.destroy();
    await new Promise((r) => server.close(r));
  }
});

test.run();
