// Router overhead: p50/p99 latency a request gains by going through `serve router` instead of
// straight to the upstream. A trivial upstream (small JSON answer) in its own process, the
// router as a real `serving/main.ts router` process, and wrk as the keep-alive client, so no
// two of them share an event loop. Target: added p50 ≤ 1 ms.
// Usage: npx tsx hack/bench/router.bench.ts [seconds per run, default 3; 3 interleaved rounds]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const seconds = Number(process.argv[2] ?? 3);
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'router-bench-'));

function start(args: string[], pattern: RegExp): Promise<string> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  return new Promise((resolve, reject) => {
    const look = (d: Buffer) => {
      out += d;
      const m = pattern.exec(out);
      if (m) resolve(m[1]);
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${out}`)));
  });
}

const UPSTREAM = `
const http = require('node:http');
const body = JSON.stringify({ model: 'bench', version: 'v1', predictions: [] });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); });
});
server.keepAliveTimeout = 65000;
server.listen(0, '127.0.0.1', () => console.log('upstream ' + server.address().port));
`;

interface WrkResult {
  p50: number;
  p99: number;
  rps: number;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value);
  if (!m) throw new Error(`cannot parse wrk latency "${value}"`);
  return Number(m[1]) * ({ us: 0.001, ms: 1, s: 1000 } as Record<string, number>)[m[2]];
}

function wrk(url: string, connections: number, duration: number): WrkResult {
  const out = execFileSync('wrk', ['-t1', `-c${connections}`, `-d${duration}s`, '--latency', url], {
    encoding: 'utf8',
  });
  const pct = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)![1]);
  return { p50: pct('50'), p99: pct('99'), rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]) };
}

const f = (ms: number) => `${ms.toFixed(3)} ms`;
const ROUNDS = 3;

function median(results: WrkResult[]): WrkResult {
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return {
    p50: mid(results.map((x) => x.p50)),
    p99: mid(results.map((x) => x.p99)),
    rps: mid(results.map((x) => x.rps)),
  };
}

async function main(): Promise<void> {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    // wrk --version exits 1 after printing; only a missing binary is a problem.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new Error('wrk is not installed (Debian package "wrk"); run make deps', { cause: err });
  }
  const upstreamPort = await start(['-e', UPSTREAM], /upstream (\d+)/);
  const upstream = `http://127.0.0.1:${upstreamPort}`;
  const config = join(dir, 'router.json');
  writeFileSync(
    config,
    JSON.stringify({
      model: 'bench',
      upstreams: [
        { role: 'stable', version: 'v1', url: upstream, weight: 90 },
        { role: 'canary', version: 'v1', url: upstream, weight: 10 },
      ],
    }),
  );
  const router = await start(
    ['--import', 'tsx', 'serving/main.ts', 'router', '--config', config, '--port', '0'],
    /"message":"router listening","url":"([^"]+)"/,
  );
  console.log(`trivial upstream, keep-alive, wrk -t1, ${seconds} s per run; router table 90/10 over two roles`);
  for (const c of [1, 8]) {
    wrk(`${upstream}/predict`, c, 1); // warm-up: JIT, sockets
    wrk(`${router}/predict`, c, 1);
    // Interleaved rounds, medians reported: this machine is shared, so one run can be unlucky.
    const direct: WrkResult[] = [];
    const routed: WrkResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      direct.push(wrk(`${upstream}/predict`, c, seconds));
      routed.push(wrk(`${router}/predict`, c, seconds));
    }
    const d = median(direct);
    const r = median(routed);
    console.log(
      `c=${c}: direct p50 ${f(d.p50)} p99 ${f(d.p99)} (${d.rps.toFixed(0)} req/s) | via router p50 ${f(r.p50)} p99 ${f(r.p99)} (${r.rps.toFixed(0)} req/s)`,
    );
    const added = r.p50 - d.p50;
    console.log(
      `c=${c}: router adds p50 ${f(added)}, p99 ${f(r.p99 - d.p99)}  [target p50 ≤ 1 ms: ${added <= 1 ? 'met' : 'MISSED'}]`,
    );
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });
