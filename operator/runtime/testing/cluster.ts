// Test support: a dev-cluster API server with the Widget CRD installed, a runtime client for
// it, and a polling helper. Used by test/operator/runtime-*.test.ts.
import { startTestCluster, type TestCluster } from '../../../test/support/devcluster.js';
import { KubeClient } from '../client.js';
import { isAlreadyExists } from '../errors.js';
import { KubeTransport } from '../transport.js';
import { widgetCrd, WidgetKind } from './widget.js';

export interface RuntimeTestCluster {
  cluster: TestCluster;
  client: KubeClient;
  stop(): Promise<void>;
}

export async function startRuntimeCluster(
  namespaces: string[] = [],
  opts: { bookmarkIntervalMs?: number } = {},
): Promise<RuntimeTestCluster> {
  const cluster = await startTestCluster({ apiserver: { bookmarkIntervalMs: opts.bookmarkIntervalMs } });
  try {
    const client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
    await client.create(widgetCrd);
    for (const name of namespaces) {
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch((e) => {
        if (!isAlreadyExists(e)) throw e;
      });
    }
    // The CRD's REST endpoint appears once the server has processed it.
    await waitFor(
      async () => {
        await client.list(WidgetKind, { namespace: 'default' });
        return true;
      },
      5000,
      'widget CRD served',
    );
    return { cluster, client, stop: () => cluster.stop() };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

/** Polls `cond` until it returns truthy (errors count as "not yet"); throws with `what` on timeout. */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
  intervalMs = 25,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const sleepMs = (ms: number) => new Promise((r) => setTimeout(r, ms));
