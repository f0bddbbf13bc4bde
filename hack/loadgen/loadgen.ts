// A load generator for canary tests and benchmarks: sends labelled images to /predict at a
// steady rate and posts the true labels to /feedback for each answer, so the serving pods
// count ground truth per version. Counts answers per version (x-modelship-version) and status.
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

export interface LabelledImageFile {
  /** Path relative to the images directory. */
  file: string;
  labels: Record<string, string>;
}

export interface LoadOptions {
  /** Base URL of the service (router or a role Service). */
  url: string;
  /** Images directory with labels.jsonl ({file, labels} per line). */
  imagesDir: string;
  /** Requests per second (spread evenly). */
  rps: number;
  /** Stop after this long (ms); or use `signal`. */
  durationMs?: number;
  signal?: AbortSignal;
  /** Share of answers that get feedback (0–1, default 1). */
  feedbackRatio?: number;
  /** Most requests in flight (default 16). */
  concurrency?: number;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** The service's feedback credential (readFeedbackCredential), sent as a bearer token. */
  feedbackCredential?: string;
}

export interface LoadStats {
  sent: number;
  /** Answers by HTTP status. */
  byStatus: Record<string, number>;
  /** 2xx answers by x-modelship-version. */
  byVersion: Record<string, number>;
  feedbackSent: number;
  feedbackFailed: number;
  /** Network failures (no HTTP answer). */
  failures: number;
  latenciesMs: number[];
}

export async function readLabelledImages(
  dir: string,
): Promise<Array<LabelledImageFile & { body: Buffer; type: string }>> {
  const lines = (await readFile(join(dir, 'labels.jsonl'), 'utf8')).split('\n').filter((l) => l.trim());
  const items = lines.map((l) => JSON.parse(l) as LabelledImageFile);
  return Promise.all(
    items.map(async (it) => ({
      ...it,
      body: await readFile(join(dir, it.file)),
      type: extname(it.file) === '.jpg' ? 'image/jpeg' : 'image/png',
    })),
  );
}

export function emptyStats(): LoadStats {
  return { sent: 0, byStatus: {}, byVersion: {}, feedbackSent: 0, feedbackFailed: 0, failures: 0, latenciesMs: [] };
}

/** Runs the load until durationMs passes or signal aborts; resolves with the stats. */
export async function runLoad(opts: LoadOptions, stats: LoadStats = emptyStats()): Promise<LoadStats> {
  const images = await readLabelledImages(opts.imagesDir);
  if (images.length === 0) throw new Error(`no images in ${opts.imagesDir}`);
  const base = opts.url.replace(/\/+$/, '');
  const concurrency = opts.concurrency ?? 16;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const feedbackRatio = opts.feedbackRatio ?? 1;
  const stopAt = opts.durationMs !== undefined ? Date.now() + opts.durationMs : Infinity;
  const gapMs = 1000 / opts.rps;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();
  let next = performance.now();

  const one = async (img: (typeof images)[number]) => {
    const t0 = performance.now();
    try {
      const res = await fetch(`${base}/predict`, {
        method: 'POST',
        body: new Uint8Array(img.body),
        headers: { 'content-type': img.type },
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      stats.latenciesMs.push(performance.now() - t0);
      stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
      if (!res.ok) return;
      const version = res.headers.get('x-modelship-version') ?? 'unknown';
      stats.byVersion[version] = (stats.byVersion[version] ?? 0) + 1;
      if (Math.random() >= feedbackRatio) return;
      const predictionId = (JSON.parse(text) as { predictions?: Array<{ predictionId?: string }> }).predictions?.[0]
        ?.predictionId;
      if (!predictionId) return;
      const fb = await fetch(`${base}/feedback`, {
        method: 'POST',
        body: JSON.stringify({ predictionId, labels: img.labels }),
        headers: {
          'content-type': 'application/json',
          ...(opts.feedbackCredential ? { authorization: `Bearer ${opts.feedbackCredential}` } : {}),
        },
        signal: AbortSignal.timeout(timeoutMs),
      });
      await fb.arrayBuffer();
      if (fb.ok) stats.feedbackSent++;
      else stats.feedbackFailed++;
    } catch {
      stats.failures++;
    }
  };

  while (!opts.signal?.aborted && Date.now() < stopAt) {
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    next += gapMs;
    if (inFlight >= concurrency) continue; // shed rather than queue: the rate stays honest
    // Random, not a cycle: real clients are not periodic in step with anything, and a cycle is
    // the worst case for a split that has any regularity.
    const img = images[Math.floor(Math.random() * images.length)];
    stats.sent++;
    inFlight++;
    const p = one(img).finally(() => {
      inFlight--;
      pending.delete(p);
    });
    pending.add(p);
  }
  await Promise.all(pending);
  return stats;
}
