// Registers the agent's machine as the cluster's one Node, as a kubelet does at start, so that
// `kubectl get nodes` and anything that checks for a Ready node sees one.
import * as os from 'node:os';
import type { KubeClient, KubeObject } from './kube-client.js';
import { isNotFound, KubeApiError } from './kube-client.js';
import { collectionPath, NODES, objectPath } from './resources.js';
import { nowIso } from './util.js';

export const NODE_NAME = 'devcluster';

export function nodeObject(now: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE_NAME,
      labels: { 'kubernetes.io/hostname': NODE_NAME, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch, 'node-role.kubernetes.io/control-plane': '' },
    },
    spec: { podCIDR: '127.64.0.0/16', podCIDRs: ['127.64.0.0/16'] },
    status: nodeStatus(now),
  };
}

export function nodeStatus(now: string): Record<string, unknown> {
  const capacity = { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110' };
  return {
    capacity,
    allocatable: capacity,
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
    addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: NODE_NAME }],
    nodeInfo: {
      kubeletVersion: 'v1.31.0-devcluster', kubeProxyVersion: 'v1.31.0-devcluster', operatingSystem: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      containerRuntimeVersion: 'devcluster://local-processes', kernelVersion: os.release(), osImage: `${os.type()} ${os.release()}`,
      machineID: '', systemUUID: '', bootID: '',
    },
  };
}

/** Creates or refreshes the Node; failures are reported but never stop the agent. */
export async function registerNode(client: KubeClient, log: (m: string) => void): Promise<void> {
  const now = nowIso();
  try {
    const existing = await client.getOrUndefined<KubeObject>(objectPath(NODES, undefined, NODE_NAME));
    const node = existing ?? await client.create<KubeObject>(collectionPath(NODES), nodeObject(now));
    await client.replace(objectPath(NODES, undefined, NODE_NAME, 'status'), { ...node, status: nodeStatus(now) });
  } catch (err) {
    if (!(isNotFound(err) || err instanceof KubeApiError)) throw err;
    log(`could not register node ${NODE_NAME}: ${(err as Error).message}`);
  }
}
