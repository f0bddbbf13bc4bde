// How the dev cluster (hack/devcluster/main.ts) and the test cluster (test/support/devcluster.ts)
// start the node agent and Prometheus next to the API server. Both share one data dir: the
// agent writes pods/, logs/, volumes/ and the Prometheus file_sd targets under it, and
// Prometheus keeps its config and TSDB in <dataDir>/prometheus/.
import { join } from 'node:path';
import { startNodeAgent, type NodeAgentOptions } from './index.js';
import { startPrometheus } from '../prometheus/index.js';

export interface ClusterHandle {
  /** The cluster's data dir. */
  dir: string;
  apiUrl: string;
  writeKubeconfig(path: string): void;
}

export interface StartedComponent {
  name: string;
  url?: string;
  stop(): Promise<void>;
}

/** Kubeconfig the agent uses to reach the API server (pods use their ServiceAccount tokens). */
export function agentKubeconfigPath(dir: string): string {
  return join(dir, 'node-agent', 'kubeconfig');
}

export async function startAgentComponent(
  cluster: ClusterHandle,
  options: Partial<NodeAgentOptions> = {},
): Promise<StartedComponent> {
  const kubeconfigPath = agentKubeconfigPath(cluster.dir);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(cluster.dir, 'node-agent'), { recursive: true });
  cluster.writeKubeconfig(kubeconfigPath);
  const agent = await startNodeAgent({ ...options, kubeconfigPath, dataDir: cluster.dir });
  return { name: 'node agent', stop: () => agent.stop() };
}

export async function startPrometheusComponent(cluster: ClusterHandle): Promise<StartedComponent> {
  // Prometheus's own admin access, for its prometheus-operator stand-in (monitors and rules).
  const kubeconfigPath = join(cluster.dir, 'prometheus', 'kubeconfig');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(cluster.dir, 'prometheus'), { recursive: true });
  cluster.writeKubeconfig(kubeconfigPath);
  const prom = await startPrometheus({ dataDir: cluster.dir, apiServerUrl: cluster.apiUrl, kubeconfigPath });
  return { name: 'Prometheus', url: prom.url, stop: () => prom.stop() };
}
