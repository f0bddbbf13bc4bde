// Bad inputs into a running system (operator as its own process, node agent, real serving):
//   - corrupt artifacts (truncated or empty model.onnx, garbage or wrongly shaped modelship.json,
//     a missing model.onnx) → the ModelVersion is Rejected with the reason, never Ready;
//   - trainers that write garbage to their termination message → TrainingRun Failed with
//     InvalidTerminationMessage and the offending text quoted, nothing registered;
// and the operator process survives all of it.
import { cpSync, mkdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_VERSION, type ModelVersion, type TrainingRun } from '../../operator/api/index.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { ensureSampleModel } from '../support/models.js';
import { cond, fastTrainingRun, modelAccuracy, NS, startEnv, type Env } from './support.js';

let env: Env;
let modelDir: string;

test.before(async () => {
  modelDir = await ensureSampleModel();
  env = await startEnv({ agent: true });
});

test.after(async () => {
  await env?.stop();
});

interface CorruptCase {
  name: string;
  corrupt: (dir: string) => void;
  reason: string;
  message: RegExp;
}

const CORRUPT: CorruptCase[] = [
  {
    name: 'truncated-onnx',
    corrupt: (d) => truncateSync(join(d, 'model.onnx'), Math.floor(readFileSync(join(d, 'model.onnx')).length / 2)),
    reason: 'LoadFailed',
    message: /model\.onnx|protobuf|load/i,
  },
  {
    name: 'empty-onnx',
    corrupt: (d) => truncateSync(join(d, 'model.onnx'), 0),
    reason: 'LoadFailed',
    message: /model\.onnx|load/i,
  },
  { name: 'missing-onnx', corrupt: (d) => rmSync(join(d, 'model.onnx')), reason: 'LoadFailed', message: /model\.onnx/ },
  {
    name: 'garbage-signature',
    corrupt: (d) => writeFileSync(join(d, 'modelship.json'), '{"input": {"kind": "image", \u0000\u0001 garbage'),
    reason: 'InvalidArtifact',
    message: /modelship\.json/,
  },
  {
    name: 'wrong-shape-signature',
    corrupt: (d) => writeFileSync(join(d, 'modelship.json'), JSON.stringify({ input: 42, heads: 'beard' })),
    reason: 'SignatureMismatch',
    message: /modelship\.json: .*must have required property/,
  },
];

function corruptVersion(c: CorruptCase, version: number): ModelVersion {
  return {
    apiVersion: API_VERSION,
    kind: 'ModelVersion',
    metadata: { name: `corrupt-v${version}`, namespace: NS },
    spec: {
      model: 'corrupt',
      version,
      artifact: { uri: `pvc://models/${c.name}` },
      format: 'onnx',
      metrics: { accuracy: modelAccuracy(modelDir) },
      validation: { skewTolerance: 0.2, activeDeadlineSeconds: 60 },
    },
  } as ModelVersion;
}

test('corrupt artifacts: every ModelVersion Rejected with the reason, none Ready', async () => {
  const claim = join(env.cluster.dir, 'volumes', 'pvc', NS, 'models');
  mkdirSync(claim, { recursive: true });
  for (const [i, c] of CORRUPT.entries()) {
    cpSync(modelDir, join(claim, c.name), { recursive: true });
    c.corrupt(join(claim, c.name));
    await env.client.create(corruptVersion(c, i + 1));
  }
  const settled = await waitFor(
    async () => {
      const mvs = await Promise.all(
        CORRUPT.map((_, i) => env.client.get<ModelVersion>(Kinds.ModelVersion, NS, `corrupt-v${i + 1}`)),
      );
      return mvs.every((m) => m.status?.phase === 'Ready' || m.status?.phase === 'Rejected') ? mvs : undefined;
    },
    120_000,
    'corrupt versions validated',
    500,
  );
  for (const [i, c] of CORRUPT.entries()) {
    const mv = settled[i];
    const validated = cond(mv, 'Validated');
    assert.is(mv.status?.phase, 'Rejected', `${c.name}: ${JSON.stringify(mv.status?.conditions)}`);
    assert.is(validated?.reason, c.reason, `${c.name}: ${validated?.message}`);
    assert.match(validated?.message ?? '', c.message, `${c.name}: ${validated?.message}`);
    assert.is(cond(mv, 'Ready')?.status, 'False', c.name);
  }
  assert.ok(env.operator.running, 'the operator survived');
});

interface GarbageCase {
  name: string;
  message?: string;
  messageCommand?: string;
  reason: string;
  says: RegExp;
}

const GARBAGE: GarbageCase[] = [
  {
    name: 'not-json',
    message: 'epoch 3/4 loss=0.12 \u0007 done',
    reason: 'InvalidTerminationMessage',
    says: /is not JSON: "epoch 3\/4 loss=0\.12/,
  },
  { name: 'json-array', message: '[1,2,3]', reason: 'InvalidTerminationMessage', says: /is not a JSON object/ },
  {
    name: 'no-artifact',
    message: '{"metrics":{"accuracy":0.9}}',
    reason: 'InvalidTerminationMessage',
    says: /has no artifact\.uri/,
  },
  {
    name: 'bad-digest',
    message: '{"artifact":{"uri":"pvc://x/y","digest":"md5:abc"},"metrics":{}}',
    reason: 'InvalidTerminationMessage',
    says: /artifact\.digest that is not sha256/,
  },
  {
    name: 'string-metric',
    message: '{"artifact":{"uri":"pvc://x/y"},"metrics":{"accuracy":"high"}}',
    reason: 'InvalidTerminationMessage',
    says: /metric "accuracy" that is not a finite number/,
  },
  {
    name: 'binary-noise',
    message: 'PK\u0003\u0004\u0014\u0008 \u00ff\u00fe{{{',
    reason: 'InvalidTerminationMessage',
    says: /is not JSON/,
  },
  {
    name: 'oversized',
    messageCommand: `{ printf '{"artifact":{"uri":"'; head -c 10000 /dev/zero | tr '\\0' x; printf '"}}'; }`,
    reason: 'InvalidTerminationMessage',
    says: /is not JSON: "\{\\"artifact.*x…"$/,
  },
  { name: 'empty', message: '', reason: 'MissingTerminationMessage', says: /exited without writing its summary/ },
];

test('trainers writing garbage termination messages: Failed with a clear reason, nothing registered', async () => {
  const accuracy = modelAccuracy(modelDir);
  for (const g of GARBAGE)
    await env.client.create(
      fastTrainingRun(`garbage-${g.name}`, `garbage-${g.name}`, {
        modelDir,
        accuracy,
        seconds: 0,
        message: g.message,
        messageCommand: g.messageCommand,
      }),
    );
  let last: TrainingRun[] = [];
  const runs = await waitFor(
    async () => {
      const rs = (last = await Promise.all(
        GARBAGE.map((g) => env.client.get<TrainingRun>(Kinds.TrainingRun, NS, `garbage-${g.name}`)),
      ));
      return rs.every((r) => r.status?.phase === 'Succeeded' || r.status?.phase === 'Failed') ? rs : undefined;
    },
    60_000,
    'garbage runs finished',
    500,
  ).catch((e: Error) => {
    throw new Error(
      `${e.message}: ${JSON.stringify(last.map((r) => [r.metadata.name, r.status?.phase, cond(r, 'Succeeded')?.reason, cond(r, 'Succeeded')?.message]))}`,
      { cause: e },
    );
  });
  for (const [i, g] of GARBAGE.entries()) {
    const r = runs[i];
    const c = cond(r, 'Succeeded');
    assert.is(r.status?.phase, 'Failed', `${g.name}: ${JSON.stringify(r.status?.conditions)}`);
    assert.is(c?.reason, g.reason, `${g.name}: ${c?.message}`);
    assert.match(c?.message ?? '', g.says, `${g.name}: ${c?.message}`);
    assert.is(r.status?.modelVersion, undefined, `${g.name} registered nothing`);
  }
  const versions = await env.client.list(Kinds.ModelVersion, {
    namespace: NS,
    labelSelector: 'modelship.dev/model in (' + GARBAGE.map((g) => `garbage-${g.name}`).join(',') + ')',
  });
  assert.is(versions.items.length, 0);
  assert.ok(env.operator.running, 'the operator survived');
});

test.run();
