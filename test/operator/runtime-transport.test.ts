// The transport as a real cluster needs it: HTTPS verified against the kubeconfig's CA, bearer
// token sent, typed errors from Status bodies, and watch streams read line by line (split
// across chunks) and closed by the client without an error.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KubeClient } from '../../operator/runtime/client.js';
import { ForbiddenError, UnavailableError } from '../../operator/runtime/errors.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { KubeTransport } from '../../operator/runtime/transport.js';

let dir: string;
let server: https.Server;
let port: number;
const seen: Array<{ auth?: string; url?: string }> = [];

function kubeconfig(token: string, caFile?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'c', server: `https://127.0.0.1:${port}`, caFile, skipTLSVerify: false, tlsServerName: 'localhost' },
    ],
    users: [{ name: 'u', token }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'runtime-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
    ],
    { stdio: 'ignore' },
  );
  server = https.createServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (req, res) => {
      seen.push({ auth: req.headers.authorization, url: req.url });
      if (req.headers.authorization !== 'Bearer good') {
        res.writeHead(403, { 'Content-Type': 'application/json' });
        return res.end(
          JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'configmaps is forbidden' }),
        );
      }
      if (req.url?.includes('watch=1')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        // One event split across two writes, then an event per write; the stream stays open.
        const ev = JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '2' } } });
        res.write(ev.slice(0, 10));
        setTimeout(() => res.write(`${ev.slice(10)}\n`), 20);
        setTimeout(
          () =>
            res.write(
              `${JSON.stringify({ type: 'DELETED', object: { metadata: { name: 'a', resourceVersion: '3' } } })}\n`,
            ),
          40,
        );
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', namespace: 'ns' } }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

test.after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('HTTPS is verified against the kubeconfig CA and the bearer token is sent', async () => {
  const client = new KubeClient(new KubeTransport(kubeconfig('good', join(dir, 'cert.pem'))));
  const cm = await client.get(Kinds.ConfigMap, 'ns', 'x');
  assert.is(cm.metadata?.name, 'x');
  assert.is(seen.at(-1)?.auth, 'Bearer good');
  assert.is(seen.at(-1)?.url, '/api/v1/namespaces/ns/configmaps/x');
});

test('a server whose certificate the CA does not vouch for is refused', async () => {
  const client = new KubeClient(new KubeTransport(kubeconfig('good')));
  const before = seen.length;
  try {
    await client.get(Kinds.ConfigMap, 'ns', 'x');
    assert.unreachable('should have failed TLS verification');
  } catch (e) {
    assert.instance(e, UnavailableError);
    assert.match(String((e as Error).message), /self-signed|certificate/i);
  }
  assert.is(seen.length, before, 'no request reached the server');
});

test('a 403 Status becomes a ForbiddenError', async () => {
  const client = new KubeClient(new KubeTransport(kubeconfig('bad', join(dir, 'cert.pem'))));
  try {
    await client.get(Kinds.ConfigMap, 'ns', 'x');
    assert.unreachable();
  } catch (e) {
    assert.instance(e, ForbiddenError);
    assert.is((e as ForbiddenError).reason, 'Forbidden');
  }
});

test('watch streams yield whole lines across chunks and close quietly from our side', async () => {
  const transport = new KubeTransport(kubeconfig('good', join(dir, 'cert.pem')));
  const stream = await transport.stream({ path: '/api/v1/configmaps', query: { watch: 1 } }, 5000);
  const types: string[] = [];
  for await (const line of stream.lines) {
    types.push(JSON.parse(line).type);
    if (types.length === 2) stream.close();
  }
  assert.equal(types, ['ADDED', 'DELETED']);
});

test('a watch that goes silent is cut by the idle timeout with an Unavailable error', async () => {
  const transport = new KubeTransport(kubeconfig('good', join(dir, 'cert.pem')));
  const stream = await transport.stream({ path: '/api/v1/configmaps', query: { watch: 1 } }, 150);
  const types: string[] = [];
  try {
    for await (const line of stream.lines) types.push(JSON.parse(line).type);
    assert.unreachable('an idle stream must fail, not end quietly');
  } catch (e) {
    assert.instance(e, UnavailableError);
    assert.match((e as Error).message, /no data for 150 ms/);
  }
  assert.equal(types, ['ADDED', 'DELETED']);
});

test.run();
