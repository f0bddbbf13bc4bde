// Modelship's model server next to the stack the seed projects serve with — FastAPI on uvicorn,
// PyTorch on CPU, Pillow (hack/bench/fastapi_server.py, Debian's python3-fastapi,
// python3-uvicorn, python3-torch, python3-pil) — serving the same architecture (the sample
// model's MultiHeadCNN, width 8, 64×64 input, five heads) on the same 256×256 JPEGs and the same
// cores: uvicorn with one worker per core and one PyTorch thread each, Modelship as the
// operator runs it. Closed loop (wrk) at several concurrencies, the two servers taking turns at
// each so that neighbours' noise falls on both. Prints throughput and p99 side by side and the
// ratios; the goal is at least 5× the throughput at a lower p99. Next to them, Modelship as one
// one-core replica per core (replicas.ts): what scaling out gives on the same cores. Then the
// ceiling the ratios live under: the model's own work alone (work-ceiling.ts), in one process
// and one per core.
// Usage: npx tsx hack/bench/vs-fastapi.bench.ts [seconds per run, default 4]
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureSampleModel } from '../../test/support/models.js';
import { benchImages, startModelship, threadpool, whenReady, WRK_LUA, wrk, type WrkResult } from './http-bench.js';

const seconds = Number(process.argv[2] ?? 4);
const PYTHON = process.env.MODELSHIP_PYTHON ?? '/usr/bin/python3';
const scratch = mkdtempSync(join(tmpdir(), 'vs-fastapi-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

const fmt = (v: number, digits = 1) => v.toFixed(digits);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function startFastApi(dir: string): Promise<string> {
  const port = await freePort();
  const child = spawn(
    PYTHON,
    [
      '-m',
      'uvicorn',
      'fastapi_server:app',
      '--app-dir',
      'hack/bench',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
    ].concat(['--workers', String(cpus().length), '--log-level', 'warning']),
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      // The sample model is trained with --width=8 (examples/sample-model.sh).
      env: { ...process.env, MODEL_DIR: dir, MODEL_WIDTH: '8', OMP_NUM_THREADS: '1' },
    },
  );
  children.push(child);
  return whenReady(child, () => `http://127.0.0.1:${port}`, '/ready');
}

/** Modelship as one one-core replica per core sharing a port (replicas.ts). */
async function startReplicas(dir: string): Promise<string> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'hack/bench/replicas.ts', dir, String(port), String(cpus().length)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  return whenReady(child, () => `http://127.0.0.1:${port}`, '/v2/health/ready');
}

type Work = 'decode' | 'decode+infer';

/** work-ceiling.ts in `processes` processes at once, each with `pool` libuv threads: their summed rate. */
async function ceiling(work: Work, dir: string, images: string, processes: number, pool: string): Promise<number> {
  const inFlight = String(2 * Number(pool));
  const runs = Array.from({ length: processes }, () =>
    promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'hack/bench/work-ceiling.ts', work, dir, String(seconds), inFlight, images],
      { env: { ...process.env, UV_THREADPOOL_SIZE: pool } },
    ),
  );
  const rates = (await Promise.all(runs)).map(({ stdout }) => (JSON.parse(stdout) as { rate: number }).rate);
  return rates.reduce((a, b) => a + b, 0);
}

/**
 * Why the throughput ratio is what it is: the rate of the model's own work alone (sharp's
 * decode, then inference) on these cores, next to both servers' peaks.
 */
async function printCeilings(dir: string, images: string, fastApiPeak: number): Promise<void> {
  const cores = cpus().length;
  console.log("\n# the model's own work alone (no HTTP), same images and cores");
  console.log('  work           | one process, pod libuv pool | one process per core | ×FastAPI peak (best)');
  for (const work of ['decode', 'decode+infer'] as const) {
    const one = await ceiling(work, dir, images, 1, threadpool);
    const perCore = await ceiling(work, dir, images, cores, '1');
    console.log(
      `  ${work.padEnd(14)} | ${fmt(one).padStart(24)} /s | ${fmt(perCore).padStart(17)} /s | ${fmt(Math.max(one, perCore) / fastApiPeak, 2).padStart(19)}x`,
    );
  }
}

async function main(): Promise<void> {
  const dir = await ensureSampleModel();
  const paths = await benchImages(scratch);
  const luaPath = join(scratch, 'predict.lua');
  writeFileSync(luaPath, WRK_LUA);
  const run = { seconds, imagesList: paths.join(':'), luaPath };

  const modelship = startModelship(dir);
  children.push(modelship.child);
  const servers = {
    modelship: await modelship.ready,
    replicas: await startReplicas(dir),
    fastapi: await startFastApi(dir),
  };
  for (const url of Object.values(servers)) wrk(url, 2, { ...run, seconds: 2 }); // warm-up

  const cores = cpus().length;
  console.log(
    `same model architecture, same 16 JPEGs 256x256, ${cores} cores, ${seconds}s per run; FastAPI: uvicorn --workers ${cores}, 1 torch thread each; Modelship: one pod of ${cores} cores, and ${cores} pods of 1 core`,
  );
  const cell = (r: WrkResult, width: number) =>
    `${fmt(r.rps).padStart(width)} ${fmt(r.p50, 2).padStart(7)} ${fmt(r.p99, 2).padStart(7)} ${String(r.errors).padStart(6)}`;
  console.log(
    `  conns | Modelship req/s  p50 ms  p99 ms errors | ${cores}×1-core req/s  p50 ms  p99 ms errors | FastAPI+PyTorch req/s  p50 ms  p99 ms errors`,
  );
  const results: Array<{ c: number; ms: WrkResult; rep: WrkResult; fa: WrkResult }> = [];
  for (const c of [1, 2, 4, 8, 16]) {
    const ms = wrk(servers.modelship, c, run);
    const rep = wrk(servers.replicas, c, run);
    const fa = wrk(servers.fastapi, c, run);
    results.push({ c, ms, rep, fa });
    console.log(`  ${String(c).padStart(5)} | ${cell(ms, 15)} | ${cell(rep, 16)} | ${cell(fa, 21)}`);
  }
  const peak = (k: 'ms' | 'rep' | 'fa') => results.reduce((a, b) => (b[k].rps > a[k].rps ? b : a));
  const msPeak = peak('ms');
  const faPeak = peak('fa');
  const atFaPeak = results.find((r) => r.c === faPeak.c)!;
  const ratio = msPeak.ms.rps / faPeak.fa.rps;
  console.log('\n# summary');
  console.log(
    `  peak throughput: Modelship ${fmt(msPeak.ms.rps)} req/s (${msPeak.c} conns) vs FastAPI+PyTorch ${fmt(faPeak.fa.rps)} req/s (${faPeak.c} conns) = ${fmt(ratio, 2)}x   goal ≥ 5x   ${ratio >= 5 ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    `  p99 at FastAPI's peak concurrency (${faPeak.c} conns): Modelship ${fmt(atFaPeak.ms.p99, 2)} ms vs FastAPI+PyTorch ${fmt(atFaPeak.fa.p99, 2)} ms = ${fmt(atFaPeak.fa.p99 / atFaPeak.ms.p99, 2)}x lower   goal lower   ${atFaPeak.ms.p99 < atFaPeak.fa.p99 ? 'PASS' : 'FAIL'}`,
  );
  const repPeak = peak('rep');
  console.log(
    `  scaled out, ${cores} one-core replicas: ${fmt(repPeak.rep.rps)} req/s (${repPeak.c} conns) = ${fmt(repPeak.rep.rps / faPeak.fa.rps, 2)}x FastAPI+PyTorch; p99 at FastAPI's peak concurrency ${fmt(atFaPeak.rep.p99, 2)} ms`,
  );
  for (const child of children) child.kill('SIGTERM'); // idle servers out of the ceiling runs
  await printCeilings(dir, run.imagesList, faPeak.fa.rps);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
