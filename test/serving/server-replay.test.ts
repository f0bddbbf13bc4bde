// The replay memory outlives the process: a server restarted on the same journal (a container
// restart keeps its emptyDir) still refuses feedback it counted before.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayMemory } from '../../serving/lib/protocol/replay.js';
import { fixtureModels, startApp } from './support/fixtures.js';

const test = suite('replay memory across restarts');
let dir: string;
test.before.each(() => {
  dir = mkdtempSync(join(tmpdir(), 'replay-'));
});
test.after.each(() => rmSync(dir, { recursive: true, force: true }));

const T0 = Date.UTC(2026, 0, 1);
const key = (i: number) => ReplayMemory.key(Buffer.alloc(32, i), i % 3);

test('a journaled memory comes back with its live entries; expired and torn records are dropped', () => {
  const path = join(dir, 'journal');
  const first = ReplayMemory.journaled(100, path, T0);
  first.add(key(1), T0 + 60_000);
  first.add(key(2), T0 + 1_000);
  appendFileSync(path, Buffer.alloc(11, 7)); // a record torn by a crash mid-write
  const second = ReplayMemory.journaled(100, path, T0 + 2_000);
  assert.ok(second.has(key(1), T0 + 2_000), 'remembered across the restart');
  assert.not.ok(second.has(key(2), T0 + 2_000), 'expired');
  assert.is(second.size, 1);
  assert.is(statSync(path).size, 25, 'rewritten with the live entry only');
});

test('the journal is compacted as entries expire, so it stays bounded', () => {
  const path = join(dir, 'journal');
  const memory = ReplayMemory.journaled(10_000, path, T0);
  for (let i = 0; i < 5000; i++) {
    const now = T0 + i * 10;
    memory.reserve(1, now);
    memory.add(ReplayMemory.key(Buffer.from(String(i).padStart(32, '0')), 0), now + 1_000);
  }
  // 100 entries live at any time; the file holds at most 2 × 100 + 1024 records.
  assert.ok(readFileSync(path).length <= (2 * 100 + 1024 + 1) * 25, `${readFileSync(path).length} bytes`);
});

test('a server restarted on its journal refuses feedback it counted before the restart', async () => {
  const journal = join(dir, 'journal');
  const body = (predictionId: string) => JSON.stringify({ predictionId, labels: { species: 'setosa' } });
  let srv = await startApp(fixtureModels().iris, { version: 'v3', replayJournal: journal });
  const predicted = await fetch(`${srv.url}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: { features: [5.1, 3.5, 1.4, 0.2] } }),
  });
  const id = ((await predicted.json()) as { predictions: { predictionId: string }[] }).predictions[0].predictionId;
  const send = () =>
    fetch(`${srv.url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(id) });
  assert.is((await send()).status, 200);
  await srv.close();
  srv = await startApp(fixtureModels().iris, { version: 'v3', replayJournal: journal });
  try {
    const again = await send();
    assert.is(again.status, 409, 'counted before the restart');
    assert.is(((await again.json()) as { error: { code: string } }).error.code, 'ALREADY_COUNTED');
  } finally {
    await srv.close();
  }
});

test.run();
