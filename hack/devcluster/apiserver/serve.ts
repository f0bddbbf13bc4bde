// Runs the API server alone in this process (benchmarks, debugging): prints one JSON line
// `{"url": …}` once listening and stops on SIGTERM/SIGINT.
// Usage: npx tsx hack/devcluster/apiserver/serve.ts [--port <n>] [--dir <data dir>]
import { startApiServer } from './index.js';

const argv = process.argv.slice(2);
const opt = (name: string) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const api = await startApiServer({ port: Number(opt('--port') ?? 0), dataDir: opt('--dir') });
console.log(JSON.stringify({ url: api.url, pid: process.pid }));
const stop = () => {
  api.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
