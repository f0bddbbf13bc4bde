// A request refused before its body is read (at capacity, too large) is answered at once; if
// the connection were then closed outright, the bytes the client is still sending would meet a
// reset, and a reset destroys the answer in the client's receive buffer before it reads it:
// the client would see EPIPE or ECONNRESET, not the 503 or 413 that says what to do (the test
// of admission control on a busy CI machine saw 19 of 26 refusals lost this way). The client
// here reads late, as a busy one does: it sends part of the body, waits, sends more, then reads.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { connect } from 'node:net';
import { startRouter, type RunningRouter } from '../../serving/router/router.js';
import { StaticRoutingSource } from '../../serving/router/source.js';
import { fixtureModels, startApp, type RunningApp } from './support/fixtures.js';

const test = suite('lingering close after a refused body');
let full: RunningApp;
let server: RunningApp;
let router: RunningRouter;

test.before(async () => {
  // No request may be in flight: every body-carrying request is refused at admission.
  full = await startApp(fixtureModels().iris, { admission: { maxInFlight: 0, maxBufferedBytes: 0 } });
  server = await startApp(fixtureModels().iris);
  router = await startRouter({
    source: new StaticRoutingSource({
      model: 'iris',
      upstreams: [{ role: 'stable', version: 'v1', url: server.url, weight: 100 }],
    }),
    host: '127.0.0.1',
    port: 0,
  });
});
test.after(async () => {
  await router.close(100);
  await server.close();
  await full.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the head and 64 KiB of a `declared`-byte body, waits, sends 1 MB more, then reads. */
async function lateReader(url: string, path: string, declared: number): Promise<{ statusLine: string; error: string }> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise((r) => socket.once('connect', r));
  socket.pause();
  let received = '';
  let error = '';
  socket.on('data', (d) => (received += d));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
  socket.write(
    `POST ${path} HTTP/1.1\r\nhost: test\r\ncontent-type: application/json\r\ncontent-length: ${declared}\r\n\r\n`,
  );
  socket.write(Buffer.alloc(64 * 1024, 0x20));
  await sleep(200);
  socket.write(Buffer.alloc(1_000_000, 0x20));
  await sleep(200);
  socket.resume();
  await sleep(200);
  socket.destroy();
  return { statusLine: received.split('\r\n')[0], error };
}

const cases: [string, () => string, string, number, string][] = [
  ['model server, at capacity', () => full.url, '/predict', 2_000_000, 'HTTP/1.1 503 Service Unavailable'],
  ['model server, body over the limit', () => server.url, '/feedback', 50_000_000, 'HTTP/1.1 413 Payload Too Large'],
  ['router, feedback over 64 KiB', () => router.url, '/feedback', 2_000_000, 'HTTP/1.1 413 Payload Too Large'],
];
for (const [name, url, path, declared, expected] of cases)
  test(`${name}: the client still reads the answer`, async () => {
    const { statusLine, error } = await lateReader(url(), path, declared);
    assert.is(statusLine, expected, `received ${JSON.stringify(statusLine)}, socket error ${error || 'none'}`);
  });

test.run();
