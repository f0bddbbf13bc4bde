// A dev cluster with the project's CRDs applied by the real kubectl and served, and a client:
// the start of every test that runs a controller against the dev API server.
import { join } from 'node:path';
import { KubeClient } from '../../operator/runtime/client.js';
import { Kinds } from '../../operator/runtime/kinds.js';
import { waitFor } from '../../operator/runtime/testing/cluster.js';
import { KubeTransport } from '../../operator/runtime/transport.js';
import { startTestCluster, type TestCluster, type TestClusterOptions } from './devcluster.js';
import { REPO_ROOT } from './models.js';

export async function startClusterWithCrds(
  opts: TestClusterOptions = {},
): Promise<{ cluster: TestCluster; client: KubeClient }> {
  const cluster = await startTestCluster(opts);
  const r = await cluster.kubectl(['apply', '-f', join(REPO_ROOT, 'crds')], { timeoutMs: 60_000 });
  if (r.code !== 0) {
    await cluster.stop();
    throw new Error(`kubectl apply -f crds: ${r.stderr}`);
  }
  const client = new KubeClient(new KubeTransport(cluster.kubeConfig()));
  await waitFor(
    async () => {
      await client.list(Kinds.InferenceService, { namespace: 'default' });
      return true;
    },
    10_000,
    'CRDs served',
  );
  return { cluster, client };
}
