// Dev cluster API server figures: create / get / list / update throughput and watch fan-out
// latency on 1,000 objects, and the server's memory. The server runs in its own process (as
// next to the operator); the clients here share the machine's two cores with it.
// Targets: ≥ 2,000 simple writes/s; watch delivery to 10 watchers < 50 ms p99.
import { Agent, request } from 'node:http';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const N = 1000;
const CONCURRENCY = 16;
const WATCHERS = 10;

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function call(
  base: URL,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        agent,
        headers: { 'Content-Type': contentType, ...(data ? { 'Content-Length': data.length } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function pool(n: number, fn: (i: number) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  return performance.now() - t0;
}

const perSecond = (n: number, ms: number) => Math.round((n / ms) * 1000);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const mb = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

function watch(base: URL, path: string, onEvent: (line: string) => void): () => void {
  const req = request({ host: base.hostname, port: base.port, path, method: 'GET' }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        onEvent(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

async function startServer(): Promise<{ url: string; stop(): void }> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      '--import',
      'tsx',
      'hack/devcluster/apiserver/serve.ts',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface(child.stdout).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`API server exited ${code}`)));
  });
  return { url: JSON.parse(line).url, stop: () => child.kill('SIGTERM') };
}

async function serverMetric(base: URL, name: string): Promise<number> {
  const text = (await call(base, 'GET', '/metrics')).text;
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
}

async function main(): Promise<void> {
  const api = await startServer();
  const base = new URL(api.url);
  const rss0 = await serverMetric(base, 'process_resident_memory_bytes');
  const resourceVersion = () => serverMetric(base, 'apiserver_current_resource_version');
  const ns = '/api/v1/namespaces/default/configmaps';
  const cm = (i: number) => ({
    metadata: { name: `cm-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
    data: { value: String(i), payload: 'x'.repeat(200) },
  });
  try {
    // warm-up (JIT) outside the figures
    await pool(200, async (i) => {
      await call(base, 'POST', '/api/v1/namespaces/kube-system/configmaps', { metadata: { name: `warm-${i}` } });
    });

    const cpu = () => serverMetric(base, 'process_cpu_seconds_total');
    const perOp = (c0: number, c1: number) => `${(((c1 - c0) * 1e6) / N).toFixed(0)} µs server CPU/op`;
    let c0 = await cpu();
    const createMs = await pool(N, async (i) => {
      const r = await call(base, 'POST', ns, cm(i));
      if (r.status !== 201) throw new Error(`create ${r.status} ${r.text}`);
    });
    let c1 = await cpu();
    console.log(
      `create     ${N} ConfigMaps: ${perSecond(N, createMs)} writes/s (${createMs.toFixed(0)} ms, concurrency ${CONCURRENCY}; ${perOp(c0, c1)})`,
    );

    c0 = await cpu();
    const getMs = await pool(N, async (i) => {
      await call(base, 'GET', `${ns}/cm-${i}`);
    });
    c1 = await cpu();
    console.log(`get        ${N}: ${perSecond(N, getMs)} gets/s (${perOp(c0, c1)})`);

    const LISTS = 20;
    const listMs = await pool(LISTS, async () => {
      await call(base, 'GET', ns);
    });
    const selMs = await pool(LISTS, async () => {
      await call(base, 'GET', `${ns}?labelSelector=shard%3D3`);
    });
    console.log(
      `list       ${N} objects: ${(((listMs / LISTS) * Math.min(CONCURRENCY, LISTS)) / Math.min(CONCURRENCY, LISTS)).toFixed(1)} ms/list wall (${perSecond(LISTS, listMs)} lists/s); with labelSelector: ${perSecond(LISTS, selMs)} lists/s`,
    );

    // watch fan-out: 10 watchers, N merge patches; latency from send to each delivery.
    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    let delivered = 0;
    const rv = await resourceVersion();
    const stops = Array.from({ length: WATCHERS }, () =>
      watch(base, `${ns}?watch=true&resourceVersion=${rv}`, (line) => {
        const e = JSON.parse(line);
        const t = sentAt.get(e.object.metadata.name + e.object.data.value);
        if (t !== undefined) {
          latencies.push(performance.now() - t);
          delivered++;
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 200));
    c0 = await cpu();
    const updateMs = await pool(N, async (i) => {
      sentAt.set(`cm-${i}u${i}`, performance.now());
      const r = await call(
        base,
        'PATCH',
        `${ns}/cm-${i}`,
        { data: { value: `u${i}` } },
        'application/merge-patch+json',
      );
      if (r.status !== 200) throw new Error(`patch ${r.status} ${r.text}`);
    });
    const deadline = Date.now() + 10_000;
    while (delivered < N * WATCHERS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    c1 = await cpu();
    for (const stop of stops) stop();
    console.log(
      `update     ${N} merge patches with ${WATCHERS} watchers: ${perSecond(N, updateMs)} writes/s (${perOp(c0, c1)}, fan-out included)`,
    );
    console.log(
      `watch      fan-out to ${WATCHERS} watchers: ${delivered}/${N * WATCHERS} events, latency p50 ${pct(latencies, 50).toFixed(1)} ms, p99 ${pct(latencies, 99).toFixed(1)} ms, max ${pct(latencies, 100).toFixed(1)} ms`,
    );

    c0 = await cpu();
    const delMs = await pool(N, async (i) => {
      await call(base, 'DELETE', `${ns}/cm-${i}`);
    });
    c1 = await cpu();
    console.log(`delete     ${N}: ${perSecond(N, delMs)} deletes/s (${perOp(c0, c1)})`);
    console.log(
      `memory     server RSS ${mb(await serverMetric(base, 'process_resident_memory_bytes'))} (at start ${mb(rss0)})`,
    );
    const counters = JSON.parse((await call(base, 'GET', '/debug/counters')).text);
    console.log(`requests   ${counters.total} total, ${counters.writes} writes`);
    const load = (await import('node:os')).loadavg()[0];
    console.log(
      `machine    load average ${load.toFixed(1)} on ${(await import('node:os')).cpus().length} cores while measuring (other work shares the cores)`,
    );
    const p99 = pct(latencies, 99);
    const writes = perSecond(N, createMs);
    console.log(
      `targets    writes/s ≥ 2000: ${writes >= 2000 ? 'met' : 'NOT met'}; watch p99 < 50 ms: ${p99 < 50 ? 'met' : 'NOT met'}`,
    );
  } finally {
    agent.destroy();
    api.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
