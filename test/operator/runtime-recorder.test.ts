// The recorder's I/O around the correlator, against a fake client: a repeat is a PATCH of
// count/lastTimestamp, an expired Event is created again, a flood on one object is cut at the
// burst, writes in flight are bounded and a full queue drops new Events without blocking.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeClient } from '../../operator/runtime/client.js';
import { errorFromResponse } from '../../operator/runtime/errors.js';
import type { KubeObject } from '../../operator/runtime/kinds.js';
import { createLogger } from '../../operator/runtime/logger.js';
import { EventRecorder, type RecorderOptions } from '../../operator/runtime/recorder.js';

interface Call {
  op: 'create' | 'patch';
  name: string;
  body: Record<string, unknown>;
}

function fakeClient(opts: { delayMs?: number; expired?: Set<string> } = {}) {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const slow = async <T>(fn: () => T): Promise<T> => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
    inFlight--;
    return fn();
  };
  const client = {
    create: (obj: KubeObject) =>
      slow(() => {
        calls.push({ op: 'create', name: obj.metadata!.name!, body: obj as Record<string, unknown> });
        return obj;
      }),
    patchMerge: (_k: unknown, _ns: string, name: string, body: Record<string, unknown>) =>
      slow(() => {
        if (opts.expired?.has(name))
          throw errorFromResponse(404, { kind: 'Status', code: 404, reason: 'NotFound' }, 'patch');
        calls.push({ op: 'patch', name, body });
        return {};
      }),
  } as unknown as KubeClient;
  return { client, calls, maxInFlight: () => maxInFlight };
}

const obj = (name: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', uid: `uid-${name}` },
});
const recorder = (client: KubeClient, over: Partial<RecorderOptions> = {}) =>
  new EventRecorder(client, { log: createLogger({ level: 'error' }), ...over });

test('a repeat patches count and lastTimestamp of the Event it repeats, even when recorded back to back', async () => {
  const f = fakeClient({ delayMs: 5 });
  const r = recorder(f.client);
  await Promise.all([
    r.event(obj('a'), 'Normal', 'Synced', 'done'),
    r.event(obj('a'), 'Normal', 'Synced', 'done'),
    r.event(obj('a'), 'Normal', 'Synced', 'done'),
  ]);
  assert.equal(
    f.calls.map((c) => [c.op, c.body.count]),
    [
      ['create', 1],
      ['patch', 2],
      ['patch', 3],
    ],
  );
  assert.is(f.calls[1].name, f.calls[0].name);
  assert.ok(typeof f.calls[1].body.lastTimestamp === 'string');
});

test('an Event the server expired (404 on patch) is created again', async () => {
  const expired = new Set<string>();
  const f = fakeClient({ expired });
  const r = recorder(f.client);
  await r.event(obj('a'), 'Warning', 'Failed', 'boom');
  expired.add(f.calls[0].name);
  await r.event(obj('a'), 'Warning', 'Failed', 'boom');
  assert.equal(
    f.calls.map((c) => c.op),
    ['create', 'create'],
  );
  assert.is.not(f.calls[1].name, f.calls[0].name);
});

test('a flood on one object is cut at the burst; other objects are unaffected', async () => {
  const f = fakeClient();
  const r = recorder(f.client, { correlator: { burst: 3 } });
  for (let i = 0; i < 10; i++) await r.event(obj('noisy'), 'Warning', 'Failed', `attempt ${i}`);
  await r.event(obj('quiet'), 'Normal', 'Synced', 'ok');
  assert.is(f.calls.length, 4);
  assert.is(r.dropped, 7);
  assert.is((f.calls[3].body.involvedObject as { name: string }).name, 'quiet');
});

test('writes in flight are bounded; a full queue drops new Events at once', async () => {
  const f = fakeClient({ delayMs: 20 });
  const r = recorder(f.client, { maxInFlight: 2, maxQueued: 5 });
  const all = Array.from({ length: 8 }, (_, i) => r.event(obj(`o${i}`), 'Normal', 'Synced', 'ok'));
  await Promise.all(all.slice(5));
  // Measured by what happened, not by the clock (the machine may be busy): no write had finished yet.
  assert.is(f.calls.length, 0, 'dropped Events resolve without waiting for any write');
  await r.flush();
  assert.is(f.calls.length, 5);
  assert.is(r.dropped, 3);
  assert.is(f.maxInFlight(), 2);
});

test.run();
