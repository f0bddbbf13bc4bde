// `npm run devcluster -- --dir <dir> --port 0`: foreground start, kubeconfig written when
// ready, URLs printed, SIGTERM stops everything, and a restart with the same dir keeps state.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN_DIR, run } from '../support/devcluster.js';

const dir = mkdtempSync(join(tmpdir(), 'devcluster-main-'));
const children = new Set<ChildProcess>();

function start(): Promise<{ child: ChildProcess; apiUrl: string; output: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'hack/devcluster/main.ts', '--dir', dir, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  const output: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devcluster did not start: ${output.join('\n')}`)), 45_000);
    createInterface(child.stderr!).on('line', (l) => output.push(l));
    let apiUrl = '';
    createInterface(child.stdout!).on('line', (l) => {
      output.push(l);
      apiUrl ||= /^devcluster: API server (http:\/\/\S+)$/.exec(l)?.[1] ?? '';
      // The kubeconfig line comes last, once every component is up.
      if (apiUrl && l.startsWith('devcluster: kubeconfig ')) {
        clearTimeout(timer);
        resolve({ child, apiUrl, output });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`devcluster exited ${code}: ${output.join('\n')}`));
    });
  });
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) {
      resolve(child.exitCode);
      return;
    }
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

const kubectl = (args: string[]) =>
  run(join(BIN_DIR, 'kubectl'), args, { ...process.env, KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir });

test.after(async () => {
  for (const c of children) await stop(c);
  rmSync(dir, { recursive: true, force: true });
});

test('starts in the foreground, writes the kubeconfig, stops on SIGTERM, keeps state across restarts', async () => {
  const first = await start();
  assert.ok(existsSync(join(dir, 'kubeconfig')), 'kubeconfig written once ready');
  // The object store is in the summary, with where its credentials are (hack/devcluster/s3).
  const s3Line = first.output.find((l) => l.startsWith('devcluster: S3 (s3rver) '));
  const endpoint =
    /^devcluster: S3 \(s3rver\) (http:\/\/127\.0\.0\.1:\d+) {2}\(credentials in (\S+) and Secret default\/modelship-s3;/.exec(
      s3Line ?? '',
    );
  assert.ok(endpoint, `S3 line in ${first.output.join('\n')}`);
  assert.is(endpoint[2], join(dir, 's3.env'));
  assert.ok(readFileSync(endpoint[2], 'utf8').includes(`export AWS_ENDPOINT_URL=${endpoint[1]}\n`));
  let r = await kubectl(['create', 'configmap', 'kept', '--from-literal=k=v']);
  assert.is(r.code, 0, r.stderr);
  const uid = JSON.parse((await kubectl(['get', 'cm', 'kept', '-o', 'json'])).stdout).metadata.uid;
  assert.is(await stop(first.child), 0, 'SIGTERM exits cleanly');
  assert.is((await fetch(`${first.apiUrl}/version`).catch(() => undefined))?.status, undefined, 'API server gone');

  const second = await start();
  r = await kubectl(['get', 'cm', 'kept', '-o', 'json']);
  assert.is(r.code, 0, r.stderr);
  assert.is(JSON.parse(r.stdout).metadata.uid, uid, 'same object after the restart');
  assert.ok(second.output.includes(s3Line!), 'same S3 endpoint after the restart');
  r = await kubectl(['get', 'secret', 'modelship-s3', '-o', 'jsonpath={.data.AWS_ENDPOINT_URL}']);
  assert.is(Buffer.from(r.stdout, 'base64').toString(), endpoint[1], r.stderr);
  assert.is(await stop(second.child), 0);
});

test.run();
