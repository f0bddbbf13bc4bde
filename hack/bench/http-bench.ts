// What the HTTP benchmarks share: wrk in a closed loop over a set of JPEGs (raw image/jpeg
// POSTs), the /proc figures of a server process, and the Modelship server started as the
// operator runs it in a pod with this machine's cores.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { servingThreadpoolSize } from '../../operator/controllers/inferenceservice/threadpool.js';
import { generateImages } from '../../test/support/models.js';

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
}

export const WRK_LUA = `
local paths = {}
for p in string.gmatch(os.getenv("BENCH_IMAGES"), "[^:]+") do table.insert(paths, p) end
local bodies = {}
for i, p in ipairs(paths) do local f = assert(io.open(p, "rb")); bodies[i] = f:read("*a"); f:close() end
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format("POST", "/predict", { ["Content-Type"] = "image/jpeg" }, bodies[n])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('{"requests":%d,"duration_us":%d,"errors":%d,"status_errors":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status, latency:percentile(50), latency:percentile(99)))
end
`;

/** wrk against `${url}/predict` for `seconds` with `connections`, over the JPEGs in `imagesList` (":"-separated). */
export function wrk(
  url: string,
  connections: number,
  run: { seconds: number; imagesList: string; luaPath: string },
): WrkResult {
  const out = execFileSync(
    'wrk',
    [`-t${Math.min(2, connections)}`, `-c${connections}`, `-d${run.seconds}s`, '-s', run.luaPath, `${url}/predict`],
    { encoding: 'utf8', env: { ...process.env, BENCH_IMAGES: run.imagesList } },
  );
  const line = out.split('\n').find((l) => l.startsWith('{"requests"'));
  if (!line) throw new Error(`wrk output not understood:\n${out}`);
  const r = JSON.parse(line);
  return {
    rps: r.requests / (r.duration_us / 1e6),
    p50: r.p50 / 1000,
    p99: r.p99 / 1000,
    requests: r.requests,
    errors: r.errors + r.status_errors,
  };
}

export function procStat(pid: number): { cpuMs: number; hwmMb: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)![1]);
  return { cpuMs: (ticks * 1000) / 100, hwmMb: kb('VmHWM') / 1024, rssMb: kb('VmRSS') / 1024 };
}

/** UV_THREADPOOL_SIZE the operator would give a pod with this machine's cores. */
export const threadpool = String(servingThreadpoolSize({ limits: { cpu: cpus().length } }));

/** Resolves with `url` once GET url+path answers 200; rejects if the process exits first. */
export function whenReady(child: ChildProcess, url: () => string | undefined, path: string): Promise<string> {
  let log = '';
  child.stderr?.on('data', (d) => {
    log += d;
  });
  return new Promise((resolve, reject) => {
    const poll = setInterval(async () => {
      const base = url() ?? /"address":"([^"]+)"/.exec(log)?.[1];
      if (!base) return;
      const full = base.startsWith('http') ? base : `http://${base}`;
      try {
        if ((await fetch(`${full}${path}`)).status === 200) {
          clearInterval(poll);
          resolve(full);
        }
      } catch {
        /* not yet */
      }
    }, 200);
    child.once('exit', (code) => {
      clearInterval(poll);
      reject(new Error(`server exited ${code}: ${log.slice(-2000)}`));
    });
  });
}

/**
 * The server as the operator runs it in a pod with this machine's cores: 1 intra-op thread,
 * sharp cache off, UV_THREADPOOL_SIZE from the pod's CPU (operator/.../threadpool.ts).
 */
export function startModelship(dir: string): { child: ChildProcess; ready: Promise<string> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'serving/main.ts', '--model-dir', dir, '--port', '0', '--host', '127.0.0.1'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, MODELSHIP_FEEDBACK_KEY: 'bench-key-0123456789abcdef', UV_THREADPOOL_SIZE: threadpool },
    },
  );
  return { child, ready: whenReady(child, () => undefined, '/v2/health/ready') };
}

/** The HTTP benchmarks' images: 16 generated face JPEGs of 256×256 (seeded), their paths. */
export async function benchImages(scratch: string): Promise<string[]> {
  const { dir, labels } = await generateImages({
    count: 16,
    seed: 31337,
    out: join(scratch, 'images'),
    size: 256,
    format: 'jpg',
  });
  return labels.map((l) => join(dir, l.file));
}
