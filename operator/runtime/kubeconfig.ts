// Loads the kubeconfig the way kubectl users expect: --kubeconfig FILE, else $KUBECONFIG,
// ~/.kube/config, or the in-cluster service account (client-node's loadFromDefault order).
import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

const SA_NAMESPACE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

export function loadKubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error(file ? `kubeconfig ${file} has no current cluster` : 'no kubeconfig found (use --kubeconfig, KUBECONFIG or run in a cluster)');
  return kc;
}

/** The namespace this process runs in: POD_NAMESPACE, the service account's, else "default". */
export function ownNamespace(): string {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return readFileSync(SA_NAMESPACE, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}
