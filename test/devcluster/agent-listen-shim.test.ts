// The listen shim (hack/devcluster/agent/listen-shim.mjs), preloaded into every Node process of
// a dev cluster pod: a listen on all addresses gets the pod's IP, as a pod's network namespace
// gives it only its own addresses; named addresses, ports of another form and socket paths are
// left as they are. Each form of net.Server#listen, in a real Node process with the shim.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LISTEN_SHIM, POD_IP_ENV } from '../../hack/devcluster/agent/pod-worker.js';

const POD_IP = '127.64.250.17';

/** Runs `calls` (listen calls on `s`, a fresh net.Server each) with the shim; their addresses. */
function addresses(calls: string[], env: Record<string, string> = { [POD_IP_ENV]: POD_IP }): unknown[] {
  const script = `
    import net from 'node:net';
    const out = [];
    for (const call of ${JSON.stringify(calls)}) {
      const s = net.createServer();
      await new Promise((resolve, reject) => {
        s.once('error', (e) => { out.push(e.code); resolve(); });
        new Function('s', 'done', call)(s, () => resolve());
        s.once('listening', () => { const a = s.address(); out.push(typeof a === 'string' ? 'path' : a.address); s.close(); resolve(); });
      });
    }
    console.log(JSON.stringify(out));`;
  const r = spawnSync(process.execPath, [`--import=${LISTEN_SHIM}`, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    timeout: 20_000,
  });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

const dir = mkdtempSync(join(tmpdir(), 'listen-shim-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('every all-addresses form of listen gets the pod IP; named addresses and paths do not', () => {
  const cases: Array<[string, string]> = [
    ['s.listen(0)', POD_IP],
    ['s.listen()', POD_IP],
    ['s.listen(done)', POD_IP],
    ["s.listen('0')", POD_IP],
    ["s.listen(0, '0.0.0.0')", POD_IP],
    ["s.listen(0, '::', done)", POD_IP],
    ['s.listen(0, undefined, 511, done)', POD_IP],
    ['s.listen(0, 511, done)', POD_IP],
    ['s.listen({ port: 0 })', POD_IP],
    ["s.listen({ port: 0, host: '::' }, done)", POD_IP],
    ["s.listen(0, '127.0.0.1')", '127.0.0.1'],
    ["s.listen({ port: 0, host: '127.0.0.2' })", '127.0.0.2'],
    [`s.listen(${JSON.stringify(join(dir, 'a.sock'))})`, 'path'],
    [`s.listen({ path: ${JSON.stringify(join(dir, 'b.sock'))} })`, 'path'],
  ];
  assert.equal(
    addresses(cases.map(([call]) => call)),
    cases.map(([, address]) => address),
  );
});

test('two pods on one port: each gets its own address, as with a namespace each', async () => {
  // The first pod holds a port on all addresses; the second asks for the same port.
  const first = spawn(
    process.execPath,
    [
      `--import=${LISTEN_SHIM}`,
      '-e',
      "const s = require('node:net').createServer(); s.listen(0, () => console.log(s.address().port));",
    ],
    { env: { PATH: process.env.PATH, [POD_IP_ENV]: POD_IP }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const [line] = await once(first.stdout!, 'data');
    const port = Number(String(line).trim());
    assert.ok(port > 0, String(line));
    assert.equal(addresses([`s.listen(${port})`], { [POD_IP_ENV]: '127.64.250.18' }), ['127.64.250.18']);
    assert.equal(addresses([`s.listen(${port})`], { [POD_IP_ENV]: POD_IP }), ['EADDRINUSE'], 'the same pod twice');
  } finally {
    first.kill('SIGKILL');
  }
});

test('without a pod IP (a host process) nothing changes', () => {
  assert.equal(addresses(["s.listen(0, '0.0.0.0')"], {}), ['0.0.0.0']);
});

test.run();
