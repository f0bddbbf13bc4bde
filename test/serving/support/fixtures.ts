// Test support: tiny real ONNX models with known answers (built by make_models.py with
// Debian's torch, cached under .cache/ by the script's hash), temp copies, and an
// in-process server.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { crc32, deflateSync } from 'node:zlib';
import { readArtifact } from '../../../serving/lib/model/artifact.js';
import { Model } from '../../../serving/lib/model/onnx-model.js';
import type { AppOptions } from '../../../serving/lib/protocol/options.js';
import { ServingApp } from '../../../serving/lib/protocol/server.js';

const here = dirname(fileURLToPath(import.meta.url));
const script = join(here, 'make_models.py');
const repoRoot = resolve(here, '..', '..', '..');

export interface FixtureModels {
  colours: string;
  iris: string;
}

/** Builds (once per script version) the colours image model and the iris tabular model. */
export function fixtureModels(): FixtureModels {
  const hash = createHash('sha256').update(readFileSync(script)).digest('hex').slice(0, 16);
  const dir = join(repoRoot, '.cache', 'serving-fixtures', hash);
  if (!existsSync(join(dir, 'iris', 'metrics.json'))) {
    const tmp = `${dir}.tmp-${process.pid}-${randomBytes(3).toString('hex')}`;
    execFileSync('/usr/bin/python3', [script, tmp], { stdio: 'pipe' });
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
    } // another process won the race
  }
  return { colours: join(dir, 'colours'), iris: join(dir, 'iris') };
}

/** A private, writable copy of a model directory; remove it with the returned cleanup. */
export function copyModel(src: string): { dir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'modelship-serving-'));
  const dir = join(root, 'model');
  cpSync(src, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export const TEST_KEY = Buffer.from('0123456789abcdef0123456789abcdef');

export interface RunningApp {
  app: ServingApp;
  url: string;
  close: () => Promise<void>;
}

/** Starts a ServingApp on 127.0.0.1 with a random port and a loaded model. */
export async function startApp(modelDir: string, opts: Partial<AppOptions> = {}, load = true): Promise<RunningApp> {
  const artifact = await readArtifact(modelDir);
  const app = new ServingApp({ artifact, version: 'v1', feedbackKey: TEST_KEY, processMetrics: false, ...opts });
  const address = await app.listen(0, '127.0.0.1');
  if (load) app.setModel(await Model.fromArtifact(artifact, { intraOpThreads: 1 }));
  return { app, url: `http://127.0.0.1:${address.port}`, close: () => app.drain(2000) };
}

/** A solid-colour PNG (with a little noise) of a known class for the colours model. */
export async function colourImage(
  rgb: [number, number, number],
  width = 48,
  height = 40,
  format: 'png' | 'jpeg' = 'png',
): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.max(0, Math.min(255, rgb[i % 3] + ((i * 7919) % 17) - 8));
  const img = sharp(pixels, { raw: { width, height, channels: 3 } });
  return format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 90 }).toBuffer();
}

/** Parses Prometheus text into a lookup of `name{labels}` → value (labels sorted). */
export function parseMetrics(text: string): (name: string, labels?: Record<string, string>) => number | undefined {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = [...(m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)]
      .map(([, k, v]) => `${k}=${v}`)
      .sort()
      .join(',');
    series.set(`${m[1]}{${labels}}`, Number(m[4]));
  }
  return (name, labels = {}) => {
    const want = Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .sort();
    // Match on a subset of labels, summing when several series match.
    let sum: number | undefined;
    for (const [key, value] of series) {
      const [n, rest] = [key.slice(0, key.indexOf('{')), key.slice(key.indexOf('{') + 1, -1)];
      if (n !== name) continue;
      const have = new Set(rest ? rest.split(',') : []);
      if (want.every((w) => have.has(w))) sum = (sum ?? 0) + value;
    }
    return sum;
  };
}

/** A Buffer as a fetch/Blob body (DOM typings want an ArrayBuffer-backed view). */
export function bytes(b: Buffer): Uint8Array<ArrayBuffer> {
  return new Uint8Array(b);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(body.length + 8);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), body.length + 4);
  return out;
}

/** A well-formed PNG whose header claims width × height but holds only a few bytes of pixels. */
export function pngClaimingSize(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  return Buffer.concat([
    Buffer.from('89504e470d0a1a0a', 'hex'),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1000))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  log: () => string;
}

/** The real `serve` process (serving/main.ts) with `args` and `env`; resolves once it is ready. */
export async function startServeProcess(args: string[], env: Record<string, string>): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'serving/main.ts', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let log = '';
  let url = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not become ready: ${log}`)), 30_000);
    child.stderr!.on('data', (d) => {
      log += d;
      const m = /"address":"([^"]+)"/.exec(log);
      if (m && !url) url = `http://${m[1]}`;
      if (url && log.includes('ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${log}`)));
  });
  return { child, url, log: () => log };
}
