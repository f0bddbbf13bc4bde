// The operator's own kubeconfig loading: the current context's server, TLS and credentials
// (paths relative to the kubeconfig), KUBECONFIG lists merged first-wins, the in-cluster
// service account (token re-read, so rotation works), and client-node only for what it alone
// implements (an exec plugin here). Plus a real HTTPS request verified against the CA.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KubeClient } from '../../operator/runtime/client.js';
import { authHeaders, loadKubeConfig, tlsOptions } from '../../operator/runtime/kubeconfig.js';
import {
  inClusterAccess,
  KubeconfigError,
  mergeKubeconfigs,
  resolveKubeconfig,
} from '../../operator/runtime/kubeconfig-resolve.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { KubeTransport } from '../../operator/runtime/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'kubeconfig-test-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const doc = (
  cluster: Record<string, unknown>,
  user: Record<string, unknown> = {},
  context: Record<string, unknown> = {},
) => ({
  'current-context': 'ctx',
  clusters: [
    { name: 'other', cluster: { server: 'https://wrong' } },
    { name: 'c', cluster },
  ],
  users: [{ name: 'u', user }],
  contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', ...context } }],
});

const resolveCases: Array<[string, unknown, unknown]> = [
  [
    'plain http, no credentials, namespace',
    doc({ server: 'http://127.0.0.1:6443/', 'insecure-skip-tls-verify': true }, {}, { namespace: 'ns1' }),
    { ok: true, access: { server: 'http://127.0.0.1:6443', namespace: 'ns1', insecureSkipTlsVerify: true } },
  ],
  [
    'CA and client cert files relative to the kubeconfig',
    doc(
      { server: 'https://k:6443', 'certificate-authority': 'ca.pem' },
      { 'client-certificate': '/abs/c.pem', 'client-key': 'k.pem' },
    ),
    {
      ok: true,
      access: {
        server: 'https://k:6443',
        ca: { file: '/cfg/ca.pem' },
        clientCert: { file: '/abs/c.pem' },
        clientKey: { file: '/cfg/k.pem' },
        insecureSkipTlsVerify: false,
      },
    },
  ],
  [
    'inline data wins over files; token; tls-server-name',
    doc(
      {
        server: 'https://k',
        'certificate-authority-data': Buffer.from('CA').toString('base64'),
        'certificate-authority': 'x',
        'tls-server-name': 'kube',
      },
      { token: 't0k' },
    ),
    {
      ok: true,
      access: {
        server: 'https://k',
        ca: { data: 'CA' },
        insecureSkipTlsVerify: false,
        tlsServerName: 'kube',
        token: 't0k',
      },
    },
  ],
  [
    'token file and basic auth',
    doc({ server: 'https://k' }, { tokenFile: 'tok', username: 'me', password: 'pw' }),
    {
      ok: true,
      access: {
        server: 'https://k',
        insecureSkipTlsVerify: false,
        tokenFile: '/cfg/tok',
        basicAuth: { username: 'me', password: 'pw' },
      },
    },
  ],
  [
    'exec plugin: left to client-node',
    doc({ server: 'https://k' }, { exec: { command: 'aws' } }),
    { ok: false, server: 'https://k', unsupported: 'user field exec' },
  ],
  [
    'auth provider: left to client-node',
    doc({ server: 'https://k' }, { 'auth-provider': { name: 'oidc' } }),
    { ok: false, server: 'https://k', unsupported: 'user field auth-provider' },
  ],
  [
    'proxy: left to client-node',
    doc({ server: 'https://k', 'proxy-url': 'http://p' }),
    { ok: false, server: 'https://k', unsupported: 'cluster field proxy-url' },
  ],
  [
    'context without a user: no credentials',
    {
      'current-context': 'x',
      clusters: [{ name: 'c', cluster: { server: 'https://k' } }],
      contexts: [{ name: 'x', context: { cluster: 'c' } }],
    },
    { ok: true, access: { server: 'https://k', insecureSkipTlsVerify: false } },
  ],
];
for (const [name, input, want] of resolveCases) {
  test(`resolve: ${name}`, () => assert.equal(resolveKubeconfig(input, '/cfg'), want));
}

const brokenCases: Array<[string, unknown, RegExp]> = [
  ['no current context', { clusters: [] }, /no current-context/],
  ['unknown context', { 'current-context': 'nope', contexts: [] }, /no context named nope/],
  [
    'cluster without server',
    {
      'current-context': 'x',
      clusters: [{ name: 'c', cluster: {} }],
      contexts: [{ name: 'x', context: { cluster: 'c' } }],
    },
    /no cluster with a server/,
  ],
];
for (const [name, input, message] of brokenCases) {
  test(`resolve refuses: ${name}`, () => {
    assert.throws(
      () => resolveKubeconfig(input, '/cfg'),
      (e: unknown) => e instanceof KubeconfigError && message.test(e.message),
    );
  });
}

test('merge: first file wins per name and for current-context; paths are absolute against their own file', () => {
  const merged = mergeKubeconfigs([
    {
      doc: { clusters: [{ name: 'c', cluster: { server: 'https://first', 'certificate-authority': 'ca.pem' } }] },
      dir: '/a',
    },
    {
      doc: {
        'current-context': 'x',
        clusters: [{ name: 'c', cluster: { server: 'https://second' } }],
        users: [{ name: 'u', user: { tokenFile: 't' } }],
        contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      },
      dir: '/b',
    },
    { doc: { 'current-context': 'y' }, dir: '/c' },
  ]);
  assert.equal(resolveKubeconfig(merged, '/ignored'), {
    ok: true,
    access: { server: 'https://first', ca: { file: '/a/ca.pem' }, insecureSkipTlsVerify: false, tokenFile: '/b/t' },
  });
});

test('in cluster: service host and port (IPv6 bracketed), CA and token from the service account folder', () => {
  assert.equal(inClusterAccess({}, '/sa'), undefined);
  assert.equal(inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, '/sa'), {
    server: 'https://[fd00::1]:443',
    ca: { file: '/sa/ca.crt' },
    tokenFile: '/sa/token',
    insecureSkipTlsVerify: false,
  });
});

test('headers: static token, token file read on every call (rotation), basic auth, none', () => {
  const tokenFile = join(dir, 'rotating-token');
  writeFileSync(tokenFile, 'one\n');
  const access = { server: 'https://k', insecureSkipTlsVerify: false, tokenFile };
  assert.equal(authHeaders(access), { Authorization: 'Bearer one' });
  writeFileSync(tokenFile, 'two');
  assert.equal(authHeaders(access), { Authorization: 'Bearer two' });
  assert.equal(authHeaders({ ...access, tokenFile: undefined, token: 'static' }), { Authorization: 'Bearer static' });
  assert.equal(
    authHeaders({ server: 'x', insecureSkipTlsVerify: false, basicAuth: { username: 'a', password: 'b' } }),
    { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
  );
  assert.equal(authHeaders({ server: 'x', insecureSkipTlsVerify: false }), {});
});

test('TLS options: verification unless skipped, CA, client pair only together, server name', () => {
  assert.equal(tlsOptions({ server: 'https://k', insecureSkipTlsVerify: true }), { rejectUnauthorized: false });
  assert.equal(
    tlsOptions({
      server: 'https://k',
      insecureSkipTlsVerify: false,
      ca: { data: 'CA' },
      clientCert: { data: 'C' },
      tlsServerName: 'n',
    }),
    { rejectUnauthorized: true, ca: 'CA', servername: 'n' },
  );
  assert.equal(
    tlsOptions({
      server: 'https://k',
      insecureSkipTlsVerify: false,
      clientCert: { data: 'C' },
      clientKey: { data: 'K' },
    }),
    { rejectUnauthorized: true, cert: 'C', key: 'K' },
  );
});

test('load order: the file given, else KUBECONFIG (first existing), else ~/.kube/config, else in cluster, else a clear error', () => {
  const write = (name: string, server: string) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(doc({ server })));
    return path;
  };
  const given = write('given.json', 'https://given');
  const fromEnv = write('env.json', 'https://env');
  const home = join(dir, 'home');
  execFileSync('mkdir', ['-p', join(home, '.kube')]);
  writeFileSync(join(home, '.kube', 'config'), JSON.stringify(doc({ server: 'https://home' })));
  const inCluster = { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' };
  assert.is(loadKubeConfig(given, { env: { KUBECONFIG: fromEnv }, home }).server, 'https://given');
  assert.is(
    loadKubeConfig(undefined, { env: { KUBECONFIG: `${join(dir, 'missing')}:${fromEnv}` }, home }).server,
    'https://env',
  );
  assert.is(loadKubeConfig(undefined, { env: inCluster, home }).server, 'https://home');
  assert.is(loadKubeConfig(undefined, { env: inCluster, home: join(dir, 'nohome') }).server, 'https://10.0.0.1:443');
  assert.throws(() => loadKubeConfig(undefined, { env: {}, home: join(dir, 'nohome') }), /no kubeconfig found/);
});

test('an exec plugin is run by client-node, loaded only then', async () => {
  const credential = JSON.stringify({
    apiVersion: 'client.authentication.k8s.io/v1beta1',
    kind: 'ExecCredential',
    status: { token: 'from-exec' },
  });
  const path = join(dir, 'exec.json');
  writeFileSync(
    path,
    JSON.stringify(
      doc(
        { server: 'https://k' },
        {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1beta1',
            command: 'sh',
            args: ['-c', `echo '${credential}'`],
          },
        },
      ),
    ),
  );
  const conn = loadKubeConfig(path);
  assert.is(conn.server, 'https://k');
  assert.is((await conn.connection()).headers.Authorization, 'Bearer from-exec');
});

test('HTTPS request verified against the kubeconfig CA (a relative path), bearer token sent', async () => {
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
  const seen: Array<string | undefined> = [];
  const server = https.createServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'x', namespace: 'ns' } }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const path = join(dir, 'tls.json');
    writeFileSync(
      path,
      JSON.stringify(
        doc(
          { server: `https://127.0.0.1:${port}`, 'certificate-authority': 'cert.pem', 'tls-server-name': 'localhost' },
          { token: 'good' },
        ),
      ),
    );
    const cm = await new KubeClient(new KubeTransport(loadKubeConfig(path))).get(Kinds.ConfigMap, 'ns', 'x');
    assert.is(cm.metadata?.name, 'x');
    assert.equal(seen, ['Bearer good']);
    // Without the CA the server's self-signed certificate is refused.
    writeFileSync(
      path,
      JSON.stringify(doc({ server: `https://127.0.0.1:${port}`, 'tls-server-name': 'localhost' }, { token: 'good' })),
    );
    let refused = false;
    await new KubeClient(new KubeTransport(loadKubeConfig(path))).get(Kinds.ConfigMap, 'ns', 'x').catch(() => {
      refused = true;
    });
    assert.ok(refused, 'a certificate not signed by the configured CA is refused');
    assert.is(seen.length, 1);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test.run();
