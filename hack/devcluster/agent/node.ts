// Registers the dev cluster's Nodes, as a kubelet does at start, so that `kubectl get nodes`,
// the scheduler and anything that checks for a Ready node see them. The agent plays two
// kubelets: two Nodes make the scheduler spread pods, and a ReadWriteOnce claim used from
// both fails the way it fails on a real multi-node cluster (see attach-logic.ts).
import * as os from 'node:os';
import type { KubeClient, KubeObject } from './kube-client.js';
import { isNotFound, KubeApiError } from './kube-client.js';
import { collectionPath, NODES, objectPath } from './resources.js';
import { nowIso } from './util.js';

/** The Nodes this agent runs pods for. Both are the same machine (and loopback address). */
export const NODE_NAMES = ['devcluster-a', 'devcluster-b'] as const;

/** The one Node of dev clusters before there were two; removed at start so nothing waits on it. */
const LEGACY_NODE_NAME = 'devcluster';

const ARCH = process.arch === 'x64' ? 'amd64' : process.arch;

/** Each node gets its own /17 of 127.64.0.0/16 as a kind cluster's nodes get their own /24. */
function podCidr(name: string): string {
  return NODE_NAMES.indexOf(name as (typeof NODE_NAMES)[number]) === 1 ? '127.64.128.0/17' : '127.64.0.0/17';
}

export function nodeObject(name: string, now: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    // Worker nodes, like a multi-node kind cluster's: no control-plane role label and no
    // taint, so every pod can be scheduled on both.
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': ARCH,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': ARCH,
      },
    },
    spec: { podCIDR: podCidr(name), podCIDRs: [podCidr(name)] },
    status: nodeStatus(name, now),
  };
}

export function nodeStatus(name: string, now: string, previous?: Record<string, any>): Record<string, unknown> {
  const capacity = { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110' };
  return {
    capacity,
    allocatable: capacity,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'KubeletReady',
        message: 'kubelet is posting ready status',
        lastHeartbeatTime: now,
        lastTransitionTime: now,
      },
    ],
    addresses: [
      { type: 'InternalIP', address: '127.0.0.1' },
      { type: 'Hostname', address: name },
    ],
    nodeInfo: {
      kubeletVersion: 'v1.31.0-devcluster',
      kubeProxyVersion: 'v1.31.0-devcluster',
      operatingSystem: 'linux',
      architecture: ARCH,
      containerRuntimeVersion: 'devcluster://local-processes',
      kernelVersion: os.release(),
      osImage: `${os.type()} ${os.release()}`,
      machineID: '',
      systemUUID: '',
      bootID: '',
    },
    // The attach/detach controller owns this field; a kubelet's status update keeps it.
    ...(previous?.volumesAttached ? { volumesAttached: previous.volumesAttached } : {}),
  };
}

/** Creates or refreshes every Node; failures are reported but never stop the agent. */
export async function registerNodes(client: KubeClient, log: (m: string) => void): Promise<void> {
  const now = nowIso();
  for (const name of NODE_NAMES) {
    try {
      const existing = await client.getOrUndefined<KubeObject>(objectPath(NODES, undefined, name));
      const node = existing ?? (await client.create<KubeObject>(collectionPath(NODES), nodeObject(name, now)));
      await client.replace(objectPath(NODES, undefined, name, 'status'), {
        ...node,
        status: nodeStatus(name, now, node.status),
      });
    } catch (err) {
      if (!(isNotFound(err) || err instanceof KubeApiError)) throw err;
      log(`could not register node ${name}: ${(err as Error).message}`);
    }
  }
  try {
    await client.delete(objectPath(NODES, undefined, LEGACY_NODE_NAME));
  } catch (err) {
    if (!(isNotFound(err) || err instanceof KubeApiError)) throw err;
  }
}

export function isAgentNode(name: string | undefined): boolean {
  return !!name && (NODE_NAMES as readonly string[]).includes(name);
}
