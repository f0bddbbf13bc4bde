#!/usr/bin/env node
// Runs the reliability suite: every test/reliability/*.reliability.ts in its own process, two
// at a time, with the same per-file lines and final "N passed, N failed" summary as
// hack/run-tests.mjs (these files are too slow for `make test`; `make test-reliability`).
//
// Usage: node hack/chaos/run-reliability.mjs [path-filter ...]
//   TEST_JOBS=N   files run at once (default 2)   CHAOS_SEED=N   replay a seeded run
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = 'test/reliability';
const filters = process.argv.slice(2);
const files = readdirSync(root).filter((f) => f.endsWith('.reliability.ts')).map((f) => join(root, f))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p))).sort();
const jobs = Math.max(1, Number(process.env.TEST_JOBS ?? 2));
// eslint-disable-next-line no-control-regex -- stripping ANSI colour codes
const ansi = /\x1b\[[0-9;]*m/g;
const sumOf = (text, re) => [...text.matchAll(re)].reduce((n, m) => n + Number(m[1]), 0);

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], { env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    child.on('close', (code, signal) => {
      const text = output.replace(ansi, '');
      const total = sumOf(text, /Total:\s+(\d+)/g);
      const passed = sumOf(text, /Passed:\s+(\d+)/g);
      const skipped = sumOf(text, /Skipped:\s+(\d+)/g);
      let failed = Math.max(0, total - passed - skipped);
      if ((code !== 0 || signal) && failed === 0) failed = 1;
      resolve({ file, text, passed, failed, skipped, ms: Date.now() - started });
    });
  });
}

const results = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const r = await runFile(files[next++]);
    results.push(r);
    console.log(`${r.failed ? 'FAIL' : 'ok  '} ${r.file}  (${r.passed} passed, ${r.failed} failed, ${(r.ms / 1000).toFixed(1)}s)`);
    // The chaos seed lines are printed even on success, so any run can be replayed.
    const seeds = r.text.split('\n').filter((l) => l.startsWith('chaos seed'));
    if (r.failed || process.env.TEST_VERBOSE) console.log(r.text.split('\n').map((l) => '    ' + l).join('\n'));
    else for (const l of seeds) console.log('    ' + l);
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, files.length || 1) }, worker));
const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const skipped = results.reduce((a, r) => a + r.skipped, 0);
if (files.length === 0) console.log('no reliability files found');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
