// Serving throughput and latency on the trained face-attributes CNN with 256×256 JPEGs.
//   1. in-process pipeline ceiling: decode + resize + features + inference, all cores
//      (several onnxruntime thread / concurrency settings; the best is the ceiling)
//   2. HTTP /predict with keep-alive (wrk, closed loop) at several concurrencies:
//      throughput, p50/p99, server CPU per request, peak RSS; the server runs its defaults
//   3. p99 at half the peak throughput, 3 rounds, the median reported
//   4. feature-extraction share of request CPU
// Targets (2-core machine): HTTP ≥ 70% of the ceiling; p99 ≤ 20 ms at half peak;
// features ≤ 10% of request CPU; RSS ≤ 300 MB.
// Usage: npx tsx hack/bench/serving.bench.ts [seconds per run, default 4]
//
// How the half-peak latency is measured (hack/loadgen/open-loop.ts, run as its own process):
// open loop at a fixed arrival rate of half the wrk peak; request k is due at start + k/rate
// whatever earlier answers did, and its latency runs from that scheduled time to the last
// response byte, so a stalled server (or a stalled generator) shows as queueing instead of
// lowering the offered rate (no coordinated omission). The generator keeps its own cost small:
// requests are encoded once, written in one write each on raw keep-alive sockets, responses
// framed by Content-Length only (~0.3 ms CPU per request on this machine); a request due while
// every connection is busy gets a new one. Each round prints the 1-minute load average, the
// server's own time (/predict's latencyMs) and the generator's send lag, to tell apart
// queueing in the server, time outside it, and generator stalls (which do count).
//
// History of the half-peak p99 (2 shared cores; 3 other agents compile and run tests, so the
// load average below includes their work; "load" = 1-minute load average):
//   before (commit 2d0608f, in-process http.request generator, measured from the scheduled time):
//     228 ms at load 6–10; 22 ms in the quietest run
//     2026-11-22 13:49 UTC, load 1.0 → 6.2 during the run: peak 406 req/s, half-peak 203 req/s:
//       p50 5.9 ms, p99 96 ms; RSS peak 280 MB
//   after (JPEG/PNG header read in JS instead of a sharp metadata() round-trip; serve mode no
//   longer loads the router's Kubernetes client; onnxruntime pool threads do not spin; this
//   open-loop generator):
//     2026-11-22 14:20 UTC, same rate 230 req/s, old and new server interleaved, 5 rounds of 4 s,
//       load 5.5–6.3:  p99 before/after 160/154, 108/30, 21/21, 16/12, 15/14 ms;
//       p50 before/after ~4.6/3.9 ms; server-side p50 3.3/2.7 ms; RSS peak 288/162 MB
//     2026-11-22 14:21 UTC, load 3.0 → 5.4: peak 617 req/s, half-peak 309 req/s: rounds p99 294,
//       26, 37 ms (median 37 ms; server-side p99 25 ms), p50 4.5 ms; RSS peak 183 MB
//     2026-11-22 14:22 UTC, load 5.2 → 6.2: peak 645 req/s, half-peak 322 req/s: rounds p99 64,
//       47, 50 ms (median 50 ms; server-side 29 ms), p50 3.6 ms; RSS peak 184 MB
//     2026-11-22 14:30 UTC, load 2.9 → 3.7 (started when the 1-minute load fell under 3): peak
//       537 req/s, half-peak 269 req/s: rounds p99 48, 128, 340 ms (median 128 ms; server-side
//       96 ms), generator lag p99 up to 52 ms, i.e. the whole benchmark was off the CPU at times
//     2026-11-22 14:36 UTC, 270 req/s, old and new interleaved, 4 rounds, load 2.3–4.3: p99
//       before/after 134/287, 377/42, 19/47, 24/26 ms (p50 29/31, 14/7.8, 4.9/4.1, 5.3/5.6 ms):
//       at this rate the rounds differ far more with the neighbours' bursts than old vs new
//     2026-11-22 15:49 UTC, the machine otherwise idle (load 0.9 before, 2.8–3.5 during): peak
//       917 req/s (8 conns; in-process ceiling 620 img/s measured), half-peak 458 req/s: rounds
//       p99 23, 27, 35 ms (median 27 ms; server-side p99 15–25 ms), p50 3.7 ms; RSS peak 187 MB.
//       A faster server raised "half of the peak" too: at 458 req/s and 2.0 CPU ms a request
//       the server alone keeps one of the two cores busy, the generator 0.1 more.
//   after (the server's libuv pool at one thread per core, UV_THREADPOOL_SIZE=2, as the operator
//   now sets it per pod; before, Node's 4 threads time-sliced four decodes on 2 cores):
//     2026-11-22 17:00–17:16 UTC, 450 req/s, 4 and 2 threads interleaved, 4 pairs of 3 rounds,
//       load 1.3–3.1: median p99 23.7/10.1, 21.9/18.4, 24.5/17.3, 19.8/16.0 ms (4/2 threads)
//     full runs of this benchmark, load 1.8–2.9: half-peak p99 9.8 ms at 471 req/s (peak 942),
//       21.9 ms at 447, 21.5 ms at 433, 16.1 ms at 485 (peak 971; server-side p99 10.7 ms)
//   Verdict (before the pool change): the 20 ms target is met only while the other agents are mostly idle (rounds of
//   12–16 ms at 230 req/s, load ≈ 5.5 of which ~1 is this benchmark); with them busy our share of
//   the 2 cores shrinks and "half of the peak" (measured in a quieter second) is nearly full
//   load, so p99 is 30–300 ms, set by the other tenants' bursts.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureSampleModel } from '../../test/support/models.js';
import { imageFeatures } from '../../serving/lib/pipeline/image-features.js';
import { decodeForModel } from '../../serving/lib/pipeline/image-decode.js';
import { Model } from '../../serving/lib/model/onnx-model.js';
import { prepareImages } from '../../serving/lib/pipeline/prepare.js';
import type { ImageInput } from '../../serving/lib/model/schema.js';
import type { OpenLoopSummary } from '../loadgen/open-loop.js';
import { benchImages, procStat, startModelship, threadpool, WRK_LUA, wrk as runWrk } from './http-bench.js';

const seconds = Number(process.argv[2] ?? 4);
const scratch = mkdtempSync(join(tmpdir(), 'serving-bench-'));
let server: ChildProcess | undefined;
const cleanup = () => {
  server?.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
};
process.on('exit', cleanup);

const fmt = (v: number, digits = 1) => v.toFixed(digits);
const mark = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

interface InProcess {
  rate: number;
  cpuMsPerImage: number;
}

async function inProcessThroughput(
  dir: string,
  images: Buffer[],
  intraOpThreads: number,
  concurrency: number,
  intraOpSpinning = false,
): Promise<InProcess> {
  const model = await Model.load(dir, { intraOpThreads, intraOpSpinning });
  const input = model.signature.input as ImageInput;
  let done = 0;
  let i = 0;
  const run = async (ms: number) => {
    const end = performance.now() + ms;
    const loop = async () => {
      while (performance.now() < end) {
        const batch = await prepareImages(input, [images[i++ % images.length]], 25_000_000);
        await model.predict(batch.input, batch.dims);
        done++;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
  };
  await run(300); // warm-up: first runs allocate and JIT
  done = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await run(seconds * 1000);
  const used = process.cpuUsage(cpu);
  const rate = done / ((performance.now() - started) / 1000);
  await model.close();
  return { rate, cpuMsPerImage: (used.user + used.system) / 1000 / done };
}

/** Mean µs of imageFeatures on a model-sized decoded image (the per-request feature cost). */
async function featureMicros(images: Buffer[], input: ImageInput): Promise<number> {
  const decoded = await Promise.all(images.map((b) => decodeForModel(b, input, 25_000_000)));
  const n = 20_000;
  const started = process.cpuUsage();
  for (let k = 0; k < n; k++) {
    const d = decoded[k % decoded.length];
    imageFeatures({ rgb: d.rgb, width: input.width, height: input.height }, d);
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / n;
}

async function cpuMicros(n: number, fn: (i: number) => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 20; i++) await fn(i);
  const started = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / n;
}

/** CPU per image of each stage, sequentially; tells whether micro-batching could pay. */
async function breakdown(dir: string, images: Buffer[]): Promise<void> {
  const model = await Model.load(dir, { intraOpThreads: 1 });
  const input = model.signature.input as ImageInput;
  const n = Math.max(100, Math.round(seconds * 60));
  const decode = await cpuMicros(n, (i) => decodeForModel(images[i % images.length], input, 25_000_000));
  const one = await prepareImages(input, [images[0]], 25_000_000);
  const eight = await prepareImages(input, images.slice(0, 8), 25_000_000);
  const infer1 = await cpuMicros(n, () => model.predict(one.input, one.dims));
  const infer8 = (await cpuMicros(Math.ceil(n / 8), () => model.predict(eight.input, eight.dims))) / 8;
  await model.close();
  const total = decode + infer1;
  console.log(
    `  header check + decode + resize: ${fmt(decode, 0)} µs/img (${fmt((100 * decode) / total)}%), inference batch 1: ${fmt(infer1, 0)} µs/img (${fmt((100 * infer1) / total)}%), batch 8: ${fmt(infer8, 0)} µs/img`,
  );
  console.log(
    `  micro-batching could save at most ${fmt((100 * Math.max(0, infer1 - infer8)) / total)}% of pipeline CPU (micro-batching only pays above 10%, so the server does not batch)`,
  );
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0];

/**
 * Open loop at a fixed arrival rate (hack/loadgen/open-loop.ts) in a process of its own: latency
 * from the scheduled send time, pre-encoded requests on raw keep-alive sockets.
 */
function openLoop(url: string, rate: number, paths: string[]): OpenLoopSummary & { load: string } {
  const load = loadAverage();
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'hack/loadgen/open-loop-main.ts',
      '--url',
      url,
      '--rate',
      String(rate),
      '--duration',
      String(seconds),
      '--content-type',
      'image/jpeg',
      ...paths,
    ],
    { encoding: 'utf8' },
  );
  return { ...(JSON.parse(out.trim().split('\n').pop()!) as OpenLoopSummary), load };
}

async function main(): Promise<void> {
  const dir = await ensureSampleModel();
  const paths = await benchImages(scratch);
  const images = paths.map((p) => readFileSync(p));
  const model = await Model.load(dir);
  const input = model.signature.input as ImageInput;
  await model.close();
  console.log(
    `model: ${model.signature.name} (${input.width}x${input.height}, ${model.signature.heads.length} heads), images: ${images.length} JPEGs 256x256 (~${fmt(images.reduce((a, b) => a + b.length, 0) / images.length / 1024)} KiB), ${cpus().length} cores, ${seconds}s per run`,
  );

  console.log('\n# in-process pipeline (decode + resize + features + inference), images/s');
  // onnxruntime's default threads with and without spinning pool threads (the server's
  // --intra-op-spinning), next to the server's default of 1 thread (no pool)
  const configs: Array<[number, number, boolean?]> = [
    [1, 2],
    [1, 4],
    [1, 8],
    [0, 4],
    [0, 4, true],
  ];
  let ceiling = 0;
  let bestThreads = 1;
  let cpuMsPerImage = Infinity;
  for (const [threads, concurrency, spinning] of configs) {
    const r = await inProcessThroughput(dir, images, threads, concurrency, spinning);
    console.log(
      `  intra-op threads ${threads || 'default'}${threads === 1 ? '' : spinning ? ' (spinning)' : ' (no spinning)'}, concurrency ${concurrency}: ${fmt(r.rate)} img/s, ${fmt(r.cpuMsPerImage, 3)} CPU ms/img`,
    );
    if (r.rate > ceiling) {
      ceiling = r.rate;
      bestThreads = threads;
    }
    cpuMsPerImage = Math.min(cpuMsPerImage, r.cpuMsPerImage);
  }
  const cpuCeiling = (cpus().length * 1000) / cpuMsPerImage;
  console.log(
    `  ceiling: ${fmt(ceiling)} img/s measured (intra-op threads ${bestThreads || 'default'}); CPU-bound ceiling ${fmt(cpuCeiling)} img/s (${cpus().length} cores / ${fmt(cpuMsPerImage, 3)} CPU ms per image)`,
  );
  await breakdown(dir, images);
  const featureUs = await featureMicros(images, input);

  console.log(
    `\n# HTTP POST /predict (raw image/jpeg), keep-alive, wrk closed loop; server UV_THREADPOOL_SIZE=${threadpool} as the operator sets it`,
  );
  const started = startModelship(dir);
  server = started.child;
  const url = await started.ready;
  const pid = server.pid!;
  const luaPath = join(scratch, 'predict.lua');
  writeFileSync(luaPath, WRK_LUA);
  const wrk = (u: string, c: number) => runWrk(u, c, { seconds, imagesList: paths.join(':'), luaPath });
  wrk(url, 2); // warm-up
  let peak = { rps: 0, cpuPerReqMs: 0, connections: 0 };
  console.log('  conns   req/s    p50 ms   p99 ms  server CPU ms/req  errors');
  for (const c of [1, 2, 4, 8, 16]) {
    const before = procStat(pid);
    const r = wrk(url, c);
    const after = procStat(pid);
    const cpuPerReq = (after.cpuMs - before.cpuMs) / Math.max(1, r.requests);
    console.log(
      `  ${String(c).padStart(5)} ${fmt(r.rps).padStart(7)} ${fmt(r.p50, 2).padStart(9)} ${fmt(r.p99, 2).padStart(8)} ${fmt(cpuPerReq, 3).padStart(18)} ${String(r.errors).padStart(7)}`,
    );
    if (r.rps > peak.rps) peak = { rps: r.rps, cpuPerReqMs: cpuPerReq, connections: c };
  }
  // Three open-loop rounds at half the peak; the median p99 damps other tenants' noise.
  console.log(
    `\n# POST /predict at half the peak, ${fmt(peak.rps / 2)} req/s open loop (fixed arrival rate, latency from the scheduled send time)`,
  );
  console.log(
    '  load    p50 ms   p99 ms   max ms | server p50/p99 ms | generator lag p99 ms, CPU ms/req | conns  failed',
  );
  openLoop(url, peak.rps / 2, paths.slice(0, 4)); // warm-up of the generator's path
  const rounds = [];
  for (let k = 0; k < 3; k++) {
    const r = openLoop(url, peak.rps / 2, paths);
    console.log(
      `  ${r.load.padStart(5)} ${fmt(r.p50, 2).padStart(8)} ${fmt(r.p99, 2).padStart(8)} ${fmt(r.max, 1).padStart(8)} | ${fmt(r.serverP50, 2).padStart(7)} / ${fmt(r.serverP99, 2).padEnd(7)} | ${fmt(r.lagP99, 2).padStart(8)}, ${fmt(r.cpuPerRequestMs, 3).padEnd(18)} | ${String(r.connections).padStart(5)} ${String(r.failed).padStart(7)}`,
    );
    rounds.push(r);
  }
  rounds.sort((a, b) => a.p99 - b.p99);
  const half = rounds[1];
  const stats = procStat(pid);
  const featureShare = featureUs / 1000 / peak.cpuPerReqMs;

  console.log('\n# summary against the targets');
  console.log(
    `  HTTP peak ${fmt(peak.rps)} req/s (${peak.connections} conns) = ${fmt((100 * peak.rps) / ceiling)}% of the measured in-process ceiling ${fmt(ceiling)} img/s   target ≥ 70%   ${mark(peak.rps >= 0.7 * ceiling)}`,
  );
  console.log(
    `  CPU efficiency: ${fmt(cpuMsPerImage, 3)} CPU ms/img in-process vs ${fmt(peak.cpuPerReqMs, 3)} server CPU ms per HTTP request = ${fmt((100 * cpuMsPerImage) / peak.cpuPerReqMs)}% (HTTP capacity ${fmt((100 * cpuMsPerImage) / peak.cpuPerReqMs)}% of the CPU-bound ceiling)   target ≥ 70%   ${mark(cpuMsPerImage / peak.cpuPerReqMs >= 0.7)}`,
  );
  console.log(
    `  at half peak (${fmt(peak.rps / 2)} req/s open loop, median of 3 rounds, load ${half.load}, ${half.sent} sent, ${half.failed} failed): p50 ${fmt(half.p50, 2)} ms, p99 ${fmt(half.p99, 2)} ms (server-side p99 ${fmt(half.serverP99, 2)} ms)   target p99 ≤ 20 ms   ${mark(half.p99 <= 20)}`,
  );
  console.log(
    `  feature extraction ${fmt(featureUs, 1)} µs/image = ${fmt(100 * featureShare, 2)}% of ${fmt(peak.cpuPerReqMs, 3)} ms server CPU per request   target ≤ 10%   ${mark(featureShare <= 0.1)}`,
  );
  console.log(
    `  server RSS peak ${fmt(stats.hwmMb)} MB (now ${fmt(stats.rssMb)} MB)   target ≤ 300 MB   ${mark(stats.hwmMb <= 300)}`,
  );
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
