#!/usr/bin/env node
// Runs every *.test.ts file in its own process (uvu, through tsx) and prints one summary
// line for the whole suite: "N passed, N failed". Each file gets its own process so that
// tests which start servers or clusters cannot leak into each other.
//
// Usage: node hack/run-tests.mjs [--suffix .reliability.ts] [path-filter ...]
//   --suffix S    which files are tests (default .test.ts; the slower reliability suite
//                 uses .reliability.ts and runs through `make test-reliability`)
//   TEST_JOBS=N   files run at once (default 2: one per core on our machines)
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const roots = ['operator', 'serving', 'hack', 'test', 'examples'];
const skipDirs = new Set(['node_modules', 'dist', 'bin', '.devcluster', '.cache']);

function findTests(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) {
      if (!skipDirs.has(name)) findTests(path, out);
    } else if (name.endsWith(suffix)) out.push(path);
  }
  return out;
}

const argv = process.argv.slice(2);
const suffixAt = argv.indexOf('--suffix');
const suffix = suffixAt >= 0 ? argv.splice(suffixAt, 2)[1] : '.test.ts';
const filters = argv;
const files = roots
  .flatMap((r) => findTests(r, []))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();
const jobs = Math.max(1, Number(process.env.TEST_JOBS ?? 2));
// eslint-disable-next-line no-control-regex -- stripping ANSI colour codes
const ansi = /\x1b\[[0-9;]*m/g;

function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    child.on('close', (code, signal) => {
      const text = output.replace(ansi, '');
      const total = sumOf(text, /Total:\s+(\d+)/g);
      const passed = sumOf(text, /Passed:\s+(\d+)/g);
      const skipped = sumOf(text, /Skipped:\s+(\d+)/g);
      let failed = Math.max(0, total - passed - skipped);
      // A file that crashed or exited non-zero without reporting a failure still failed.
      if ((code !== 0 || signal) && failed === 0) failed = 1;
      resolve({ file, code, signal, text, passed, failed, skipped, ms: Date.now() - started });
    });
  });
}

function sumOf(text, re) {
  let n = 0;
  for (const m of text.matchAll(re)) n += Number(m[1]);
  return n;
}

const results = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const file = files[next++];
    const r = await runFile(file);
    results.push(r);
    const status = r.failed ? 'FAIL' : 'ok  ';
    console.log(
      `${status} ${relative('.', file)}  (${r.passed} passed, ${r.failed} failed, ${(r.ms / 1000).toFixed(1)}s)`,
    );
    if (r.failed || process.env.TEST_VERBOSE)
      console.log(
        r.text
          .split('\n')
          .map((l) => '    ' + l)
          .join('\n'),
      );
    // Chaos tests print their random seed; show it even on success so any run can be replayed.
    else for (const l of r.text.split('\n').filter((l) => l.startsWith('chaos seed'))) console.log('    ' + l);
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, files.length || 1) }, worker));

const passed = results.reduce((a, r) => a + r.passed, 0);
const failed = results.reduce((a, r) => a + r.failed, 0);
const skipped = results.reduce((a, r) => a + r.skipped, 0);
if (files.length === 0) console.log('no test files found');
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || files.length === 0 ? 1 : 0);
