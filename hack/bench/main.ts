// `make bench`: runs every hack/bench/*.bench.ts in its own process, one after another
// (benchmarks must not compete for our two cores), and prints their figures as they come.
// Usage: npx tsx hack/bench/main.ts [name-filter ...]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

const filters = process.argv.slice(2);
const benches = readdirSync('hack/bench')
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();

console.log(
  `# machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`,
);
let failed = 0;
for (const file of benches) {
  console.log(`\n## ${file.replace('.bench.ts', '')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', `hack/bench/${file}`], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`!! ${file} exited ${r.status ?? r.signal}`);
  }
}
process.exit(failed ? 1 : 0);
