// npx tsx hack/loadgen/main.ts --url URL --images DIR [--rps 20] [--duration 30] [--feedback 1]
// Sends labelled images (a face_attributes.py output directory) and posts true labels as
// feedback; prints the stats as JSON at the end (Ctrl-C stops early).
import { parseArgs } from 'node:util';
import { runLoad } from './loadgen.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    images: { type: 'string' },
    rps: { type: 'string' },
    duration: { type: 'string' },
    feedback: { type: 'string' },
  },
});
if (!values.url || !values.images) {
  process.stderr.write('usage: loadgen --url URL --images DIR [--rps 20] [--duration 30] [--feedback 1]\n');
  process.exit(2);
}
const ac = new AbortController();
process.once('SIGINT', () => ac.abort());
const stats = await runLoad({
  url: values.url,
  imagesDir: values.images,
  rps: Number(values.rps ?? 20),
  durationMs: Number(values.duration ?? 30) * 1000,
  feedbackRatio: Number(values.feedback ?? 1),
  signal: ac.signal,
});
const sorted = [...stats.latenciesMs].sort((a, b) => a - b);
process.stdout.write(
  `${JSON.stringify({ ...stats, latenciesMs: undefined, p50Ms: sorted[Math.floor(sorted.length / 2)], p95Ms: sorted[Math.floor(sorted.length * 0.95)] }, null, 2)}\n`,
);
