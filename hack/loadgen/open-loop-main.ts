// npx tsx hack/loadgen/open-loop-main.ts --url URL --rate N --duration S --content-type T [--path /predict] FILE...
// Fixed-rate open-loop load (see open-loop.ts) in a process of its own, so that the
// generator's heap and timers are not shared with whatever started it; prints one JSON
// summary line (OpenLoopSummary; latencies in ms from the scheduled send time).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runOpenLoop, summarize } from './open-loop.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    'content-type': { type: 'string' },
    path: { type: 'string' },
  },
});
if (!values.url || !values.rate || positionals.length === 0) {
  process.stderr.write(
    'usage: open-loop-main --url URL --rate N [--duration 4] [--content-type T] [--path /predict] FILE...\n',
  );
  process.exit(2);
}
const result = await runOpenLoop({
  url: values.url,
  path: values.path ?? '/predict',
  bodies: positionals.map((f) => readFileSync(f)),
  contentType: values['content-type'] ?? 'application/octet-stream',
  rate: Number(values.rate),
  durationMs: Number(values.duration ?? 4) * 1000,
  // /predict reports its own time; other endpoints simply yield no server figures
  serverTimeMs: (body) => Number(/"latencyMs":([\d.]+)/.exec(body.toString('latin1'))?.[1]),
});
process.stdout.write(`${JSON.stringify(summarize(result))}\n`);
