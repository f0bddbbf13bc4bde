// The dev cluster's node agent: kube-controller-manager (Deployment, ReplicaSet, Job,
// Endpoints/EndpointSlice controllers, a PVC binder, attach/detach), a scheduler, the kubelets
// of two Nodes that run Pods as local processes, a Service proxy on loopback cluster IPs, and the Prometheus file_sd writer.
// It talks to the API server only through the Kubernetes REST API, like the real components.
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { KubeClient, type KubeObject } from './kube-client.js';
import type { TokenSource } from './volumes.js';
import { Informer } from './informer.js';
import {
  CONFIGMAPS,
  DEPLOYMENTS,
  ENDPOINTS,
  ENDPOINTSLICES,
  JOBS,
  NODES,
  PODS,
  PVCS,
  REPLICASETS,
  SECRETS,
  SERVICES,
} from './resources.js';
import { ControllerManager, type Informers } from './controllers.js';
import { Kubelet } from './kubelet.js';
import { ContainerCgroups } from './cgroups.js';
import { ServiceProxy } from './service-proxy.js';
import { PromTargetsWriter } from './prom-targets.js';
import { loadImageConfig } from './images.js';
import { killProcesses, processesOfDataDir } from './orphans.js';
import { defaultTargetsFile } from '../prometheus/config.js';
import { registerNodes } from './node.js';
import { HostsWriter, hostsFile } from './cluster-dns.js';
import { ensureWebCa } from '../web-ca/index.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface NodeAgentOptions {
  kubeconfigPath: string;
  dataDir: string;
  /** Working directory of repo-based images (default: this repository). */
  repoRoot?: string;
  /** Image → command map (default hack/devcluster/images.yaml). */
  imagesFile?: string;
  /** file_sd targets file for Prometheus (default <dataDir>/prometheus/targets/pods.json). */
  targetsFile?: string;
  /** Crash-loop back-off base and cap (defaults 1 s and 30 s; the kubelet uses 10 s and 5 min). */
  crashBackoffBaseMs?: number;
  crashBackoffMaxMs?: number;
  /** Job pod-failure back-off base (default 1 s; the Job controller uses 10 s). */
  jobBackoffBaseMs?: number;
  /** Grace cap when the agent itself stops (default 5 s). */
  stopGraceSeconds?: number;
  log?: (msg: string) => void;
}

export interface NodeAgent {
  stop(): Promise<void>;
}

export async function startNodeAgent(opts: NodeAgentOptions): Promise<NodeAgent> {
  const log = opts.log ?? ((m: string) => console.error(`[node-agent] ${m}`));
  const dataDir = resolve(opts.dataDir);
  const repoRoot = resolve(opts.repoRoot ?? join(here, '..', '..', '..'));
  mkdirSync(dataDir, { recursive: true });
  const images = loadImageConfig(opts.imagesFile ?? join(here, '..', 'images.yaml'));
  // The images trust the dev cluster's stand-in for the public web PKI (images.yaml).
  ensureWebCa();

  const leftovers = processesOfDataDir(dataDir);
  if (leftovers.length) {
    log(`killing ${leftovers.length} process(es) left by a previous agent for ${dataDir}`);
    killProcesses(leftovers);
  }

  const client = await KubeClient.fromKubeconfig(opts.kubeconfigPath);
  const inf = (rt: typeof PODS) => new Informer(client, rt, log);
  const informers: Informers & { secrets: Informer; configmaps: Informer } = {
    pods: inf(PODS),
    replicasets: inf(REPLICASETS),
    deployments: inf(DEPLOYMENTS),
    jobs: inf(JOBS),
    services: inf(SERVICES),
    endpoints: inf(ENDPOINTS),
    endpointslices: inf(ENDPOINTSLICES),
    pvcs: inf(PVCS),
    nodes: inf(NODES),
    secrets: inf(SECRETS),
    configmaps: inf(CONFIGMAPS),
  };
  for (const i of Object.values(informers)) i.start();
  const stopInformers = () => Object.values(informers).forEach((i) => i.stop());
  try {
    await withTimeout(
      Promise.all(Object.values(informers).map((i) => i.synced)),
      30_000,
      'initial list of the API server resources',
    );
  } catch (err) {
    stopInformers();
    client.close();
    throw err;
  }

  await registerNodes(client, log);
  const cgroups = ContainerCgroups.open();
  for (const [controller, why] of cgroups.unavailable) log(`${controller} limits are not enforced: ${why}`);
  const controllers = new ControllerManager({
    client,
    informers,
    dataDir,
    jobBackoffBaseMs: opts.jobBackoffBaseMs ?? 1_000,
    log,
  });
  const kubelet = new Kubelet({
    client,
    pods: informers.pods,
    nodes: informers.nodes,
    pvcs: informers.pvcs,
    dataDir,
    repoRoot,
    images,
    secrets: (ns, name) => informers.secrets.get(ns, name),
    services: () => informers.services.list(),
    requestToken: (pod, source) => requestServiceAccountToken(client, pod, source),
    hostsFile: hostsFile(dataDir),
    configMaps: (ns, name) => informers.configmaps.get(ns, name),
    backoffBaseMs: opts.crashBackoffBaseMs ?? 1_000,
    backoffMaxMs: opts.crashBackoffMaxMs ?? 30_000,
    cgroups,
    log,
  });
  const proxy = new ServiceProxy(informers.services, informers.endpoints, log);
  const hosts = new HostsWriter(informers.services, hostsFile(dataDir), log);
  const targets = new PromTargetsWriter(informers.pods, opts.targetsFile ?? defaultTargetsFile(dataDir), log);
  hosts.start();
  targets.start();
  proxy.start();
  kubelet.start();
  controllers.start();

  let stopped: Promise<void> | undefined;
  return {
    stop: () => {
      stopped ??= (async () => {
        controllers.stop();
        targets.stop();
        hosts.stop();
        stopInformers();
        await kubelet.stop(opts.stopGraceSeconds ?? 5);
        await proxy.stop();
        cgroups.close();
        client.close();
        // Anything that escaped its process group still carries our data-dir marker.
        killProcesses(processesOfDataDir(dataDir));
      })();
      return stopped;
    },
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>(
        (_, reject) =>
          (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The kubelet's TokenRequest: a token of the pod's ServiceAccount, bound to the pod. */
async function requestServiceAccountToken(client: KubeClient, pod: KubeObject, source: TokenSource): Promise<string> {
  const ns = pod.metadata.namespace ?? 'default';
  const sa = pod.spec?.serviceAccountName ?? 'default';
  const res = await client.create<{ status?: { token?: string } }>(
    `/api/v1/namespaces/${encodeURIComponent(ns)}/serviceaccounts/${encodeURIComponent(sa)}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: {
        ...(source.audience ? { audiences: [source.audience] } : {}),
        expirationSeconds: source.expirationSeconds,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name, uid: pod.metadata.uid },
      },
    },
  );
  if (!res.status?.token) throw new Error('TokenRequest answered without a token');
  return res.status.token;
}
