// JSON request bodies under hostile input, at the server's default limits: a body over the JSON
// limit is 413 and a body nested deeper than the nesting limit is 400, both decided before
// JSON.parse, so health probes keep answering while such bodies arrive; a deep array where a
// label or an output name belongs is a 400, never a 500.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_LIMITS } from '../../serving/lib/protocol/options.js';
import { nestsDeeperThan } from '../../serving/lib/protocol/body.js';
import { fixtureModels, startApp, type RunningApp } from './support/fixtures.js';

const test = suite('serve: JSON limits');
let srv: RunningApp;

test.before(async () => {
  srv = await startApp(fixtureModels().colours);
});
test.after(async () => {
  await srv.close();
});

async function post(path: string, body: string) {
  const res = await fetch(`${srv.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  return { status: res.status, body: (await res.json()) as { error?: unknown } };
}

const nested = (depth: number, inner = '0') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;

test('nesting is counted outside strings only', () => {
  const cases: Array<[string, number, boolean]> = [
    ['[[[1]]]', 3, false],
    ['[[[[1]]]]', 3, true],
    ['{"a":{"b":[1]}}', 3, false],
    ['{"a":"[[[[[[[[","b":[1]}', 3, false],
    ['{"a":"\\"[[[[[[","b":[1]}', 3, false],
    ['[[],[],[],[]]', 2, false],
  ];
  for (const [json, max, over] of cases) assert.is(nestsDeeperThan(Buffer.from(json), max), over, json);
});

test('hostile JSON bodies are 4xx decided before parsing, and health probes keep answering', async () => {
  const latencies: number[] = [];
  let probing = true;
  const probes = (async () => {
    while (probing) {
      const t = performance.now();
      await fetch(`${srv.url}/healthz`).then((r) => r.arrayBuffer());
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const cases: Array<[string, () => Promise<{ status: number; body: any }>, number, string, RegExp]> = [
    [
      '9 MB of brackets',
      () => post('/feedback', '['.repeat(9_000_000)),
      413,
      'PAYLOAD_TOO_LARGE',
      /over the limit of 4194304 for JSON/,
    ],
    [
      '4 MB of brackets',
      () => post('/feedback', '['.repeat(4_000_000)),
      400,
      'INVALID_INPUT',
      /nests arrays or objects deeper than 32 levels/,
    ],
    [
      'a 5000-deep array as a feedback label',
      () => post('/feedback', `{"predictionId":"x","labels":{"dominant":${nested(5000)}}}`),
      400,
      'INVALID_INPUT',
      /deeper than 32/,
    ],
    [
      'a 5000-deep array as an OIP output name',
      () =>
        post(
          '/v2/models/colours/infer',
          `{"inputs":[{"name":"image","shape":[1],"datatype":"BYTES","data":["x"]}],"outputs":[{"name":${nested(5000, '"p"')}}]}`,
        ),
      400,
      'INVALID_INPUT',
      /deeper than 32/,
    ],
  ];
  try {
    // Three rounds, so that probes overlap the hostile bodies.
    for (const [name, send, status, code, message] of [...cases, ...cases, ...cases]) {
      const r = await send();
      assert.is(r.status, status, `${name}: ${JSON.stringify(r.body).slice(0, 300)}`);
      // The Open Inference Protocol's errors are a plain string; ours carry a code.
      const error = r.body.error as string | { code?: string; message?: string } | undefined;
      if (typeof error === 'string') assert.match(error, message, name);
      else {
        assert.is(error?.code, code, name);
        assert.match(error?.message ?? '', message, name);
      }
    }
  } finally {
    probing = false;
    await probes;
  }
  assert.ok(latencies.length >= 3, `probes answered: ${latencies.length}`);
  const worst = Math.max(...latencies);
  assert.ok(worst < 1000, `slowest health probe ${worst.toFixed(0)} ms`);
  assert.is(DEFAULT_LIMITS.maxJsonDepth, 32);
});

test.run();
