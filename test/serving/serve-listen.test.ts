// Where `serve` listens. In a pod it must answer on all of the pod's addresses: the Service
// and the kubelet's probes come to the pod IP, and `kubectl port-forward` connects to the pod's
// localhost, so a server bound to POD_IP alone is unreachable through port-forward.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fixtureModels, startServeProcess } from './support/fixtures.js';

const KEY = { MODELSHIP_FEEDBACK_KEY: 'listen-test-key-0123456789abcdef' };

async function reachable(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    (r) => r.status === 200,
    () => false,
  );
}

for (const [name, args, answering, refusing] of [
  // POD_IP as the downward API sets it: not a reason to narrow the listen.
  ['no --host: all addresses, whatever POD_IP says', [], ['127.0.0.1', '127.0.0.3', '127.0.0.7'], []],
  ['--host narrows it to that address', ['--host', '127.0.0.3'], ['127.0.0.3'], ['127.0.0.1']],
] as const) {
  test(name, async () => {
    const { child, log } = await startServeProcess(['--model-dir', fixtureModels().colours, '--port', '0', ...args], {
      ...KEY,
      POD_IP: '127.0.0.3',
    });
    try {
      const port = /"address":"[^"]*:(\d+)"/.exec(log())?.[1];
      assert.ok(port, log());
      for (const host of answering) assert.ok(await reachable(`http://${host}:${port}/v2/health/live`), host);
      for (const host of refusing) assert.not.ok(await reachable(`http://${host}:${port}/v2/health/live`), host);
    } finally {
      child.kill('SIGKILL');
    }
  });
}

test.run();
