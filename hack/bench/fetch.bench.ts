// Object-storage steps: time and peak memory of `serve upload` and `serve fetch` on a 100 MB
// random model.onnx against s3rver (in this process, on 127.0.0.1). Each step runs as its own
// `serving/main.ts` process, as the operator's init container would; its peak RSS is the
// kernel's maxRSS, printed by a one-line exit hook given to the child with --import (no hook in
// the product), and checked against VmHWM polled from /proc. A fetch of a 1 KB model gives the
// baseline RSS of the process itself (Node, tsx, the AWS SDK), so the difference is what
// moving 100 MB costs. Target: the fetch's peak RSS stays flat in the file size (streamed:
// ≤ baseline + 64 MB) and far below the init container's 512 MiB limit.
// Usage: npx tsx hack/bench/fetch.bench.ts [MB, default 100] [rounds, default 3]
//
// Figures (2 shared cores, load average ≈ 4, node 20, through tsx):
//   100 MB: fetch + digest 1.45 s / 1.41 s (medians of 3, two runs), peak RSS 126 / 130 MiB
//           against 95 / 91 MiB for 1 KB; upload 2.51 / 4.70 s, peak RSS 170 / 159 MiB
//   300 MB: fetch + digest 3.11 s, peak RSS 130 MiB (96 MiB for 1 KB): flat in the file size
import { spawn } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';

const MB = Number(process.argv[2] ?? 100);
const ROUNDS = Number(process.argv[3] ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'fetch-bench-'));
const EXIT_HOOK =
  'data:text/javascript,process.on("exit",()=>process.stderr.write("maxRSS_KiB="+process.resourceUsage().maxRSS+"\\n"))';

interface StepRun {
  seconds: number;
  maxRssMiB: number;
  hwmMiB: number;
}

function vmHwmKiB(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function step(args: string[], env: NodeJS.ProcessEnv): Promise<StepRun> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', EXIT_HOOK, 'serving/main.ts', ...args], {
    env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  let hwm = 0;
  const poll = setInterval(() => (hwm = Math.max(hwm, vmHwmKiB(child.pid!))), 20);
  const [code] = (await once(child, 'close')) as [number | null];
  clearInterval(poll);
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`serve ${args.join(' ')} exited ${code}:\n${output}`);
  const maxRss = Number(/maxRSS_KiB=(\d+)/.exec(output)?.[1] ?? 0);
  return { seconds, maxRssMiB: maxRss / 1024, hwmMiB: hwm / 1024 };
}

async function writeRandom(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  const chunk = Buffer.alloc(1 << 20);
  for (let left = bytes; left > 0; left -= chunk.length) {
    const part = randomFillSync(chunk).subarray(0, Math.min(chunk.length, left));
    hash.update(part);
    if (!out.write(part)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  return 'sha256:' + hash.digest('hex');
}

async function startS3rver(): Promise<{ env: NodeJS.ProcessEnv; close: () => void }> {
  const specifier = 's3rver'; // ships no types
  const { default: S3rver } = (await import(specifier)) as { default: new (o: object) => any };
  const s3rver = new S3rver({
    silent: true,
    directory: join(dir, 's3'),
    vhostBuckets: false,
    configureBuckets: [{ name: 'bench' }],
  });
  await s3rver.configureBuckets();
  const server = createServer(s3rver.callback());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    env: {
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_ENDPOINT_URL: endpoint,
      AWS_S3_FORCE_PATH_STYLE: 'true',
    },
    close: () => server.close(),
  };
}

const mib = (v: number) => `${v.toFixed(0)} MiB`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const store = await startS3rver();
  try {
    mkdirSync(join(dir, 'big'));
    mkdirSync(join(dir, 'small'));
    const digest = await writeRandom(join(dir, 'big', 'model.onnx'), MB * 1e6);
    writeFileSync(join(dir, 'small', 'model.onnx'), Buffer.alloc(1000, 1));
    const up = await step(['upload', '--from', join(dir, 'big'), '--to', 's3://bench/big'], store.env);
    await step(['upload', '--from', join(dir, 'small'), '--to', 's3://bench/small'], store.env);
    console.log(
      `upload ${MB} MB: ${up.seconds.toFixed(2)} s (${(MB / up.seconds).toFixed(0)} MB/s incl. process start), peak RSS ${mib(up.maxRssMiB)} (VmHWM ${mib(up.hwmMiB)})`,
    );
    const small: StepRun[] = [];
    const big: StepRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const to = join(dir, `out-${round}`);
      small.push(await step(['fetch', '--from', 's3://bench/small', '--to', `${to}-small`], store.env));
      big.push(await step(['fetch', '--from', 's3://bench/big', '--to', to, '--expect-digest', digest], store.env));
      rmSync(to, { recursive: true, force: true });
    }
    const base = median(small.map((r) => r.maxRssMiB));
    const peak = median(big.map((r) => r.maxRssMiB));
    const secs = median(big.map((r) => r.seconds));
    console.log(
      `fetch 1 KB (baseline): ${median(small.map((r) => r.seconds)).toFixed(2)} s, peak RSS ${mib(base)} (median of ${ROUNDS})`,
    );
    console.log(
      `fetch ${MB} MB + digest check: ${secs.toFixed(2)} s (${(MB / secs).toFixed(0)} MB/s incl. process start; rounds ${big.map((r) => r.seconds.toFixed(2)).join(', ')} s), peak RSS ${mib(peak)} (VmHWM ${mib(median(big.map((r) => r.hwmMiB)))}; rounds ${big.map((r) => r.maxRssMiB.toFixed(0)).join(', ')} MiB)`,
    );
    const added = peak - base;
    console.log(
      `fetch ${MB} MB adds ${mib(added)} over the baseline  [target ≤ 64 MiB, streamed: ${added <= 64 ? 'met' : 'MISSED'}]`,
    );
  } finally {
    store.close();
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dir, { recursive: true, force: true }));
