// Images without Docker: the Dockerfiles are multi-stage, end on a small non-root runtime with
// production dependencies only, and their build stage's compile command (run here exactly as
// written, into a temp dir) produces entry points that start; `make images` builds the three
// images with the package version as tag; .dockerignore keeps local state out of the context.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from '../support/packaging.js';

interface Stage {
  from: string;
  name?: string;
  lines: string[];
}

/** Dockerfile stages with their instructions (continuation lines joined). */
function stages(file: string): Stage[] {
  const text = readFileSync(join(REPO, file), 'utf8').replace(/\\\n\s*/g, ' ');
  const out: Stage[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ from: from[1], name: from[2], lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

const argDefault = (file: string, name: string): string | undefined =>
  new RegExp(`^ARG ${name}=(\\S+)`, 'm').exec(readFileSync(join(REPO, file), 'utf8'))?.[1];
const resolveFrom = (file: string, from: string): string =>
  from.replace(/\$\{(\w+)\}/g, (_, n: string) => argDefault(file, n) ?? '');

const IMAGES: Array<[string, string]> = [
  ['operator/Dockerfile', 'operator/main.js'],
  ['serving/Dockerfile', 'serving/main.js'],
];

for (const [file, entry] of IMAGES) {
  test(`${file}: multi-stage, npm ci --omit=dev, small non-root runtime running ${entry}`, () => {
    const s = stages(file);
    assert.ok(s.length >= 3, `${s.length} stages`);
    const final = s.at(-1)!;
    const base = resolveFrom(file, final.from);
    assert.match(base, /distroless|-slim|alpine/, `runtime base ${base}`);
    assert.ok(
      s.some((st) => st.lines.some((l) => /^RUN npm ci .*--omit=dev/.test(l))),
      'production dependencies via npm ci --omit=dev',
    );
    const user = final.lines.filter((l) => l.startsWith('USER ')).at(-1);
    assert.match(user ?? '', /^USER [1-9]\d*(:[1-9]\d*)?$/, 'numeric non-root USER (runAsNonRoot can verify it)');
    assert.ok(
      final.lines.some((l) => l.startsWith('ENTRYPOINT') && l.includes(entry)),
      `ENTRYPOINT runs ${entry}`,
    );
    assert.not.ok(
      final.lines.some((l) => /COPY --from=build \/src\/node_modules/.test(l)),
      'no dev dependencies in the runtime',
    );
  });

  test(`${file}: a supported Node LTS, and every npm ci under the project's .npmrc (no install scripts)`, () => {
    const s = stages(file);
    for (const st of s) {
      const base = resolveFrom(file, st.from);
      if (/node/.test(base)) assert.match(base, /node(js)?:?(22|24)\b/, `${st.name ?? 'stage'} base ${base}`);
      const ci = st.lines.findIndex((l) => /^RUN npm ci/.test(l));
      if (ci < 0) continue;
      assert.ok(
        st.lines.slice(0, ci).some((l) => /^COPY .*\.npmrc/.test(l)),
        `${st.name}: .npmrc copied before npm ci`,
      );
    }
  });
}

test('.npmrc: no dependency install scripts, and only keys npm knows (no warning at install)', () => {
  const keys = readFileSync(join(REPO, '.npmrc'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => l.split('=')[0].trim());
  assert.ok(keys.includes('ignore-scripts'));
  assert.match(readFileSync(join(REPO, '.npmrc'), 'utf8'), /^ignore-scripts=true$/m);
  assert.not.ok(keys.includes('onnxruntime-node-install'), 'npm warns about keys it does not know');
});

test('the build stages compile the entry points as written, and the output starts', () => {
  const commands = IMAGES.map(([file]) =>
    stages(file)
      .find((s) => s.name === 'build')!
      .lines.find((l) => l.startsWith('RUN npx tsc'))!
      .slice('RUN '.length),
  );
  // Same compiler options in both images, only the entry differs.
  const options = (cmd: string) => cmd.replace(/\s\S+\/main\.ts$/, '');
  assert.is(options(commands[0]), options(commands[1]));
  const out = mkdtempSync(join(tmpdir(), 'modelship-image-'));
  try {
    const args = options(commands[0])
      .split(/\s+/)
      .slice(2)
      .map((a) => (a === '/out' ? out : a));
    const entries = commands.map((c) => /\S+\/main\.ts$/.exec(c)![0]);
    const tsc = spawnSync(join(REPO, 'node_modules', '.bin', 'tsc'), [...args, ...entries], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.is(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
    copyFileSync(join(REPO, 'package.json'), join(out, 'package.json'));
    symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'));
    const operator = spawnSync(process.execPath, [join(out, 'operator', 'main.js'), '--help'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.is(operator.status, 0, operator.stderr);
    assert.match(operator.stdout, /--leader-elect/);
    // The serving binary loads its whole module graph before it rejects an unknown flag.
    const serving = spawnSync(process.execPath, [join(out, 'serving', 'main.js'), '--no-such-flag'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    assert.is.not(serving.status, 0);
    assert.match(serving.stderr, /unknown flag --no-such-flag/);
    assert.not.match(serving.stderr, /ERR_MODULE_NOT_FOUND|SyntaxError/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('make images builds the operator, serving and trainer images tagged with the package version', () => {
  const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
  const cuda = 'https://download.pytorch.org/whl/cu124';
  for (const [vars, index] of [
    [[], 'https://download.pytorch.org/whl/cpu'],
    [[`TORCH_INDEX_URL=${cuda}`], cuda],
  ] as const) {
    const r = spawnSync('make', ['-n', 'images', ...vars], { cwd: REPO, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const commands = r.stdout.replace(/\\\n\s*/g, '');
    for (const [df, image, extra] of [
      ['operator/Dockerfile', 'operator', ''],
      ['serving/Dockerfile', 'serving', ''],
      [
        'examples/trainers/image-classifier/Dockerfile',
        'trainer-image-classifier',
        ` --build-arg TORCH_INDEX_URL=${index}`,
      ],
    ]) {
      const command = `docker build -f ${df} -t modelship/${image}:${version}${extra} .`;
      assert.ok(commands.split('\n').includes(command), `${command}: ${commands}`);
    }
  }
});

test('.dockerignore keeps dependencies, build output, caches and git history out of the context', () => {
  const lines = readFileSync(join(REPO, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim());
  for (const p of ['.git', 'node_modules', 'dist', '.cache', '.devcluster', 'hack/bin'])
    assert.ok(lines.includes(p), p);
});

test.run();
