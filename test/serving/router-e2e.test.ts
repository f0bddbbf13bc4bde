// The router in front of two real model servers (serving/main.ts, the real sample model) as
// stable v1 and canary v2: the split, the identity header agreeing with the body, pinning, and
// feedback for a canary prediction accepted through the router by whichever replica gets it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRouter, type RunningRouter } from '../../serving/router/router.js';
import { silentLogger, StaticRoutingSource } from '../../serving/router/source.js';
import { ensureSampleModel, readLabels, REPO_ROOT } from '../support/models.js';

const KEY = 'router-e2e-feedback-key-0123456789';

async function startServer(modelDir: string, version: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'serving/main.ts',
      '--model-dir',
      modelDir,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--model-version',
      version,
    ],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, MODELSHIP_FEEDBACK_KEY: KEY },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let out = '';
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const deadline = Date.now() + 40_000;
  let url: string | undefined;
  for (;;) {
    url ??= /"address":"([^"]+:\d+)"/.exec(out)?.[1];
    if (
      url &&
      (await fetch(`http://${url}/v2/health/ready`).then(
        (r) => r.status,
        () => 0,
      )) === 200
    )
      return { child, url: `http://${url}` };
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`model server ${version} did not get ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const servers: ChildProcess[] = [];
let router: RunningRouter;
let source: StaticRoutingSource;
let image: Buffer;

const t = suite('router in front of real model servers');

t.before(async () => {
  const modelDir = await ensureSampleModel();
  const [first] = await readLabels(join(modelDir, 'reference'));
  image = readFileSync(join(modelDir, 'reference', first.file));
  const [stable, canary] = await Promise.all([startServer(modelDir, 'v1'), startServer(modelDir, 'v2')]);
  servers.push(stable.child, canary.child);
  source = new StaticRoutingSource({
    model: 'face-attributes',
    upstreams: [
      { role: 'stable', version: 'v1', url: stable.url, weight: 50 },
      { role: 'canary', version: 'v2', url: canary.url, weight: 50 },
    ],
  });
  router = await startRouter({ source, log: silentLogger, host: '127.0.0.1', port: 0 });
});

t.after(async () => {
  await router?.close(100);
  await Promise.all(
    servers.map(
      (child) =>
        new Promise((r) => {
          child.once('exit', r);
          child.kill('SIGTERM');
        }),
    ),
  );
});

function predict(headers: Record<string, string> = {}) {
  return fetch(`${router.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', ...headers },
    body: new Blob([new Uint8Array(image)]),
  });
}

t('50/50: both versions answer, and x-modelship-version always matches the answering server', async () => {
  const versions: Record<string, number> = {};
  for (let i = 0; i < 20; i++) {
    const r = await predict();
    assert.is(r.status, 200);
    const body = (await r.json()) as { version: string };
    assert.is(r.headers.get('x-modelship-version'), body.version);
    versions[body.version] = (versions[body.version] ?? 0) + 1;
  }
  assert.equal(versions, { v1: 10, v2: 10 });
});

t(
  'pinning to the canary (by the trusted header), and feedback for its prediction accepted through the router',
  async () => {
    const untrusted = source.current();
    source.set({ ...untrusted, pins: { versionHeader: 'x-pin-version' } });
    const r = await predict({ 'x-pin-version': 'v2' });
    source.set(untrusted);
    const body = (await r.json()) as {
      version: string;
      predictions: { predictionId: string; heads: Record<string, { label: string }> }[];
    };
    assert.is(body.version, 'v2');
    const [head, { label }] = Object.entries(body.predictions[0].heads)[0];
    // Feedback goes to the highest-weight upstream whatever version predicted: the signed token
    // says which version it counts for.
    const fb = await fetch(`${router.url}/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ predictionId: body.predictions[0].predictionId, labels: { [head]: label } }),
    });
    assert.is(fb.status, 200);
    assert.equal(await fb.json(), { accepted: { [head]: 'correct' } });
  },
);

t('a table change takes the canary out at once', async () => {
  source.set({
    ...source.current(),
    upstreams: source.current().upstreams.map((u) => ({ ...u, weight: u.role === 'stable' ? 100 : 0 })),
  });
  for (let i = 0; i < 6; i++) assert.is((await predict()).headers.get('x-modelship-version'), 'v1');
});

t.run();
