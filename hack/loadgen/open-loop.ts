// Open-loop HTTP load at a fixed arrival rate, for latency benchmarks (wrk2's model): request k
// is due at start + k/rate whatever happened to earlier ones, and its latency is counted from
// that scheduled time, so a server (or client) stall shows as queueing in the figures instead
// of silently lowering the offered rate (coordinated omission). To keep the generator's own
// stalls out of the figures it is cheap: requests are encoded once up front and written to
// plain keep-alive TCP sockets in one write each, and responses are only framed by
// Content-Length, never parsed beyond the status line and headers. A request due while every
// connection is busy gets a new connection (never waits for one), as independent clients
// would. The send lag (actual write time − scheduled time) is reported so a reader can tell
// generator stalls from server latency.
import { connect, type Socket } from 'node:net';

export interface OpenLoopOptions {
  /** base URL, http only: http://host:port */
  url: string;
  path: string;
  method?: string;
  /** request bodies, sent in turn */
  bodies: Buffer[];
  contentType: string;
  /** arrivals per second */
  rate: number;
  durationMs: number;
  /** keep-alive connections opened before the first request (default 4) */
  warmConnections?: number;
  /** reads the server's own time (ms) from a response body, e.g. /predict's latencyMs */
  serverTimeMs?: (body: Buffer) => number | undefined;
}

export interface OpenLoopResult {
  sent: number;
  /** 2xx answers */
  ok: number;
  /** non-2xx answers and connection failures */
  failed: number;
  /** per 2xx answer: ms from the scheduled send time to the last response byte */
  latencyMs: number[];
  /** per request: ms between the scheduled and the actual write (the generator's own lag) */
  sendLagMs: number[];
  /** per 2xx answer, when serverTimeMs is given */
  serverMs: number[];
  connections: number;
  /** generator process CPU (user + system) during the run, ms */
  cpuMs: number;
}

/** Nearest-rank percentile (p in 0..1) of unsorted samples; NaN when empty. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
}

/** Pre-encodes one HTTP/1.1 request (head + body) as a single buffer. */
export function encodeRequest(host: string, method: string, path: string, contentType: string, body: Buffer): Buffer {
  const head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nConnection: keep-alive\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}

export interface ResponseFrame {
  status: number;
  /** bytes of head + body; the response is complete once this many bytes arrived */
  totalBytes: number;
  headBytes: number;
}

/** Status and total length of a response whose head is complete in `data`; undefined until then. */
export function frameResponse(data: Buffer): ResponseFrame | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = data.toString('latin1', 0, end);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
  const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!status || !length) throw new Error(`response without status or Content-Length: ${head.slice(0, 200)}`);
  return { status, headBytes: end + 4, totalBytes: end + 4 + Number(length[1]) };
}

interface Pending {
  scheduled: number;
  done: (status: number, body: Buffer | undefined) => void;
}

/** One keep-alive connection carrying one request at a time. */
class Connection {
  private chunks: Buffer[] = [];
  private received = 0;
  private pending: Pending | undefined;
  private frame: ResponseFrame | undefined;
  closed = false;

  constructor(
    readonly socket: Socket,
    private readonly idle: (c: Connection) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('error', () => {
      /* 'close' follows */
    });
    socket.on('close', () => {
      this.closed = true;
      this.pending?.done(0, undefined);
      this.pending = undefined;
    });
  }

  send(request: Buffer, pending: Pending): void {
    this.pending = pending;
    this.socket.write(request);
  }

  private onData(d: Buffer): void {
    this.chunks.push(d);
    this.received += d.length;
    const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.chunks = [data];
    this.frame ??= frameResponse(data);
    if (!this.frame || this.received < this.frame.totalBytes) return;
    const { status, headBytes, totalBytes } = this.frame;
    const pending = this.pending;
    this.chunks = [];
    this.received = 0;
    this.frame = undefined;
    this.pending = undefined;
    pending?.done(status, data.subarray(headBytes, totalBytes));
    this.idle(this);
  }
}

function open(host: string, port: number, idle: (c: Connection) => void): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => {
      socket.off('error', reject);
      resolve(new Connection(socket, idle));
    });
    socket.once('error', reject);
  });
}

export async function runOpenLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const { hostname, port: portText, host } = new URL(opts.url);
  const port = Number(portText || 80);
  const requests = opts.bodies.map((b) => encodeRequest(host, opts.method ?? 'POST', opts.path, opts.contentType, b));
  const result: OpenLoopResult = {
    sent: 0,
    ok: 0,
    failed: 0,
    latencyMs: [],
    sendLagMs: [],
    serverMs: [],
    connections: 0,
    cpuMs: 0,
  };
  const idle: Connection[] = [];
  const all: Connection[] = [];
  const release = (c: Connection) => {
    if (!c.closed) idle.push(c);
  };
  const add = async () => {
    const c = await open(hostname, port, release);
    all.push(c);
    return c;
  };
  for (let i = 0; i < (opts.warmConnections ?? 4); i++) idle.push(await add());

  const total = Math.floor((opts.rate * opts.durationMs) / 1000);
  const inflight = new Set<Promise<void>>();
  const cpu = process.cpuUsage();
  const start = performance.now() + 5;
  const fire = (k: number, scheduled: number) => {
    const request = requests[k % requests.length];
    const p = new Promise<void>((resolve) => {
      const done = (status: number, body: Buffer | undefined) => {
        const latency = performance.now() - scheduled;
        if (status >= 200 && status < 300) {
          result.ok++;
          result.latencyMs.push(latency);
          const server = body && opts.serverTimeMs?.(body);
          if (server !== undefined && Number.isFinite(server)) result.serverMs.push(server);
        } else result.failed++;
        resolve();
      };
      const write = (c: Connection) => {
        result.sendLagMs.push(performance.now() - scheduled);
        c.send(request, { scheduled, done });
      };
      let c = idle.pop();
      while (c?.closed) c = idle.pop();
      if (c) write(c);
      else add().then(write, () => done(0, undefined));
    });
    result.sent++;
    inflight.add(p);
    void p.then(() => inflight.delete(p));
  };
  for (let k = 0; k < total;) {
    const now = performance.now();
    // everything due by now goes out back to back, each timed from its own schedule
    while (k < total && start + (k * 1000) / opts.rate <= now) {
      fire(k, start + (k * 1000) / opts.rate);
      k++;
    }
    if (k < total)
      await new Promise((r) => setTimeout(r, Math.max(0, start + (k * 1000) / opts.rate - performance.now())));
  }
  await Promise.all(inflight);
  const used = process.cpuUsage(cpu);
  result.cpuMs = (used.user + used.system) / 1000;
  result.connections = all.length;
  for (const c of all) c.socket.destroy();
  return result;
}

export interface OpenLoopSummary {
  sent: number;
  ok: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
  /** generator lag, ms */
  lagP99: number;
  lagMax: number;
  /** server-side time, ms (NaN without serverTimeMs) */
  serverP50: number;
  serverP99: number;
  connections: number;
  /** generator CPU per request, ms */
  cpuPerRequestMs: number;
}

export function summarize(r: OpenLoopResult): OpenLoopSummary {
  return {
    sent: r.sent,
    ok: r.ok,
    failed: r.failed,
    p50: percentile(r.latencyMs, 0.5),
    p99: percentile(r.latencyMs, 0.99),
    max: percentile(r.latencyMs, 1),
    lagP99: percentile(r.sendLagMs, 0.99),
    lagMax: percentile(r.sendLagMs, 1),
    serverP50: percentile(r.serverMs, 0.5),
    serverP99: percentile(r.serverMs, 0.99),
    connections: r.connections,
    cpuPerRequestMs: r.cpuMs / Math.max(1, r.sent),
  };
}
