// A small load generator: posts labelled images to the InferenceService's router, sends the
// true labels back as feedback for every prediction (as a labelling team would), and counts
// what it saw per serving version. The image set can be swapped while it runs (drift).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface LabelledSample {
  bytes: Buffer;
  labels: Record<string, string>;
}

export interface VersionStats {
  requests: number;
  errors: number;
  feedback: number;
  correct: number;
  judged: number;
}

interface PredictResponse {
  version?: string | number;
  predictions?: Array<{ predictionId?: string; heads?: Record<string, { label?: string }> }>;
}

/** "v3", "3" or 3 → 3; anything else → undefined (pure). */
export function versionNumber(v: string | number | undefined): number | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? v : undefined;
  const m = /^v?(\d+)$/.exec(v ?? '');
  return m ? Number(m[1]) : undefined;
}

/** Heads predicted right and heads judged for one prediction (pure). */
export function judge(
  predicted: Record<string, { label?: string }> | undefined,
  truth: Record<string, string>,
): { correct: number; judged: number } {
  let correct = 0;
  let judged = 0;
  for (const [head, label] of Object.entries(truth)) {
    const got = predicted?.[head]?.label;
    if (got === undefined) continue;
    judged++;
    if (got === label) correct++;
  }
  return { correct, judged };
}

/** Reads a generator output folder (labels.jsonl + images) into memory. */
export async function loadSamples(dir: string): Promise<LabelledSample[]> {
  const lines = (await readFile(join(dir, 'labels.jsonl'), 'utf8')).split('\n').filter((l) => l.trim());
  return Promise.all(
    lines.map(async (line) => {
      const { file, labels } = JSON.parse(line) as { file: string; labels: Record<string, string> };
      return { bytes: await readFile(join(dir, file)), labels };
    }),
  );
}

export interface LoadGeneratorOptions {
  /** Base URLs to spread requests over (the router's ready endpoints); re-read when a request fails. */
  resolveTargets(): Promise<string[]>;
  requestsPerSecond: number;
  requestTimeoutMs?: number;
  /** The feedback credential, as the application owning the labels reads it (re-read after a 401). */
  feedbackCredential(): Promise<string>;
}

export class LoadGenerator {
  private samples: LabelledSample[] = [];
  private sampleSet = '';
  private targets: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private next = 0;
  private readonly perVersion = new Map<number, VersionStats>();
  private failures = 0;
  private lastError = '';
  private credential: Promise<string> | undefined;

  constructor(private readonly opts: LoadGeneratorOptions) {}

  /** Swap the images sent from now on. */
  use(name: string, samples: LabelledSample[]): void {
    if (!samples.length) throw new Error(`sample set ${name} is empty`);
    this.samples = samples;
    this.sampleSet = name;
  }

  get currentSet(): string {
    return this.sampleSet;
  }

  start(): void {
    if (this.timer) return;
    const every = Math.max(5, Math.round(1000 / this.opts.requestsPerSecond));
    this.timer = setInterval(() => {
      if (this.inFlight < 8) void this.once();
    }, every);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.inFlight > 0) await new Promise((r) => setTimeout(r, 50));
  }

  stats(version: number): VersionStats {
    return { ...(this.perVersion.get(version) ?? { requests: 0, errors: 0, feedback: 0, correct: 0, judged: 0 }) };
  }

  versions(): number[] {
    return [...this.perVersion.keys()].sort((a, b) => a - b);
  }

  /** Requests that got no usable answer, and the last reason. */
  failuresSoFar(): { count: number; last: string } {
    return { count: this.failures, last: this.lastError };
  }

  private bump(version: number, delta: Partial<VersionStats>): void {
    const s = this.perVersion.get(version) ?? { requests: 0, errors: 0, feedback: 0, correct: 0, judged: 0 };
    for (const [k, v] of Object.entries(delta) as Array<[keyof VersionStats, number]>) s[k] += v;
    this.perVersion.set(version, s);
  }

  private async target(): Promise<string | undefined> {
    if (!this.targets.length) this.targets = await this.opts.resolveTargets().catch(() => []);
    return this.targets.length ? this.targets[this.next++ % this.targets.length] : undefined;
  }

  private async once(): Promise<void> {
    if (!this.samples.length) return;
    this.inFlight++;
    // Random, as independent clients would send them: not a cycle through the set.
    const sample = this.samples[Math.floor(Math.random() * this.samples.length)];
    try {
      const base = await this.target();
      if (!base) throw new Error('no ready router endpoint');
      const signal = AbortSignal.timeout(this.opts.requestTimeoutMs ?? 5_000);
      const res = await fetch(`${base}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'image/png' },
        body: new Uint8Array(sample.bytes),
        signal,
      });
      const body = (await res.json()) as PredictResponse;
      const version = versionNumber(body.version);
      if (!res.ok || version === undefined)
        throw new Error(`predict answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
      const prediction = body.predictions?.[0];
      this.bump(version, { requests: 1, ...judge(prediction?.heads, sample.labels) });
      if (!prediction?.predictionId) return;
      this.credential ??= this.opts.feedbackCredential();
      const fb = await fetch(`${base}/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${await this.credential}` },
        signal,
        body: JSON.stringify({ predictionId: prediction.predictionId, labels: sample.labels }),
      });
      await fb.arrayBuffer();
      if (fb.status === 401) this.credential = undefined;
      this.bump(version, fb.ok ? { feedback: 1 } : { errors: 1 });
    } catch (err) {
      this.failures++;
      this.lastError = (err as Error).message;
      this.targets = []; // endpoints change when the router restarts: look again
      this.credential = undefined; // and a credential not readable yet is read again
    } finally {
      this.inFlight--;
    }
  }
}
