// The dev cluster's real Prometheus (Debian's /usr/bin/prometheus): starts on a free port,
// scrapes file_sd targets every 2s with their labels and metrics path, and survives a
// stop/start on the same data dir with the same URL and its data.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { defaultTargetsFile, startPrometheus, type RunningPrometheus } from '../../hack/devcluster/prometheus/index.js';

const dir = mkdtempSync(join(tmpdir(), 'modelship-prom-'));
let prom: RunningPrometheus | undefined;
let hits = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/custom-metrics') {
    hits++;
    res.end(`# TYPE demo_scrapes_total counter\ndemo_scrapes_total ${hits}\n`);
  } else {
    res.statusCode = 404;
    res.end();
  }
});

async function query(url: string, promql: string): Promise<any[]> {
  const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as any;
  assert.is(body.status, 'success');
  return body.data.result;
}

async function eventually<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

test.after(async () => {
  await prom?.stop();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('scrapes file_sd targets with their labels and metrics path', async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  prom = await startPrometheus({ dataDir: dir });
  assert.match(prom.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  writeFileSync(
    defaultTargetsFile(dir),
    JSON.stringify([
      {
        targets: [`127.0.0.1:${port}`],
        labels: { namespace: 'ns1', pod: 'demo-0', app: 'demo', __metrics_path__: '/custom-metrics' },
      },
    ]),
  );
  const up = await eventually('up{pod="demo-0"} == 1', async () => {
    const r = await query(prom!.url, 'up{job="kubernetes-pods",pod="demo-0"}');
    return r.length === 1 && r[0].value[1] === '1' ? r[0] : undefined;
  });
  assert.equal([up.metric.namespace, up.metric.app, up.metric.instance], ['ns1', 'demo', `127.0.0.1:${port}`]);
  const scrapes = await eventually('demo_scrapes_total', async () => {
    const r = await query(prom!.url, 'demo_scrapes_total{namespace="ns1"}');
    return r.length ? Number(r[0].value[1]) : undefined;
  });
  assert.ok(scrapes >= 1);
});

test('a stopped Prometheus leaves nothing listening; a restart keeps URL and data', async () => {
  const url = prom!.url;
  await prom!.stop();
  const down = await fetch(`${url}/-/ready`).then(
    () => 'up',
    () => 'down',
  );
  assert.is(down, 'down');
  prom = await startPrometheus({ dataDir: dir });
  assert.is(prom.url, url, 'same port after restart');
  const before = await eventually('old samples after restart', async () => {
    const r = await query(prom!.url, 'count_over_time(up{pod="demo-0"}[10m])');
    return r.length ? Number(r[0].value[1]) : undefined;
  });
  assert.ok(before >= 1, 'samples from before the restart are still there');
  await eventually('scraping resumes', async () => {
    const r = await query(prom!.url, 'up{pod="demo-0"}');
    return r.length && r[0].value[1] === '1' ? true : undefined;
  });
});

test.run();
