// Every invalid manifest of the shared table (test/support/invalid-manifests.ts: 50+ cases over the
// three kinds) through the real kubectl against the dev cluster: each refused with its exact
// field path and message, none stored, and the valid objects an update case starts from stay
// as they were (no partial write). test/packaging/crds-kubectl.test.ts runs a sample of the table in
// `make test`; this runs all of it.
import yaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildInvalid, invalidCases, loadExample, type InvalidCase, type Kind } from '../support/invalid-manifests.js';
import { startTestCluster, type RunResult, type TestCluster } from '../support/devcluster.js';

let cluster: TestCluster;
const PLURAL: Record<Kind, string> = {
  TrainingRun: 'trainingruns',
  ModelVersion: 'modelversions',
  InferenceService: 'inferenceservices',
};

const kubectl = (args: string[], input?: string): Promise<RunResult> =>
  cluster.kubectl(args, { input, timeoutMs: 30_000 });

test.before(async () => {
  cluster = await startTestCluster();
  const crds = await kubectl(['apply', '-f', 'crds/']);
  assert.is(crds.code, 0, crds.stderr);
  const wait = await kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=30s']);
  assert.is(wait.code, 0, wait.stderr);
});

test.after(async () => {
  await cluster?.stop();
});

async function refusal(c: InvalidCase): Promise<string | undefined> {
  const manifest = buildInvalid(c);
  const result = await kubectl(['apply', '-f', '-'], yaml.dump(manifest));
  if (result.code === 0) return `${c.kind}/${c.name}: accepted: ${result.stdout.trim()}`;
  const wanted = [`The ${c.kind} "${manifest.metadata.name}" is invalid`, `${c.field}: ${c.message}`];
  const missing = wanted.filter((w) => !result.stderr.includes(w));
  return missing.length
    ? `${c.kind}/${c.name}: expected ${JSON.stringify(missing)} in: ${result.stderr.trim()}`
    : undefined;
}

test(`all ${invalidCases.length} invalid manifests refused by kubectl with their precise field and message`, async () => {
  assert.ok(invalidCases.length >= 30, `the table has ${invalidCases.length} cases`);
  // Update rules (oldSelf) need the unchanged object stored first.
  for (const kind of new Set(invalidCases.filter((c) => c.update).map((c) => c.kind))) {
    const r = await kubectl(['apply', '-f', '-'], yaml.dump(loadExample(kind)));
    assert.is(r.code, 0, r.stderr);
  }
  const before = await stored();
  const problems: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < invalidCases.length) {
      const p = await refusal(invalidCases[next++]);
      if (p) problems.push(p);
    }
  };
  await Promise.all(Array.from({ length: 3 }, worker));
  assert.equal(problems, [], problems.join('\n'));
  assert.equal(await stored(), before, 'nothing stored or changed by the refused manifests');
});

/** name → resourceVersion of every object of the three kinds. */
async function stored(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const plural of Object.values(PLURAL)) {
    const r = await kubectl(['get', plural, '-A', '-o', 'json']);
    assert.is(r.code, 0, r.stderr);
    for (const o of (
      JSON.parse(r.stdout) as {
        items: Array<{ metadata: { namespace: string; name: string; resourceVersion: string } }>;
      }
    ).items) {
      out[`${plural}/${o.metadata.namespace}/${o.metadata.name}`] = o.metadata.resourceVersion;
    }
  }
  return out;
}

test.run();
