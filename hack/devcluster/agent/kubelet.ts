// The node agent's kubelets: one PodWorker per Pod bound to one of the agent's Nodes, status
// written back like a kubelet does (PUT pods/<name>/status, only when it changed), graceful
// deletion honoured. Like the kubelet's volume manager, a pod starts only once every claim
// volume it mounts is attached to its node (node.status.volumesAttached, written by the
// attach/detach controller); until then it waits in ContainerCreating.
import type { KubeClient, KubeObject } from './kube-client.js';
import { isNotFound, KubeApiError } from './kube-client.js';
import type { Informer } from './informer.js';
import { PodIpAllocator } from './ip-allocator.js';
import { PodWorker, type PodWorkerDeps } from './pod-worker.js';
import { buildPodStatus, waitingView, type PodView } from './pod-status.js';
import { objectPath, PODS } from './resources.js';
import { deepEqual, nowIso } from './util.js';
import { EventRecorder } from './events.js';
import { isAgentNode, NODE_NAMES, nodeObject } from './node.js';
import { unattachedVolumes } from './attach-logic.js';

export interface KubeletOptions extends Omit<PodWorkerDeps, 'onChange' | 'events'> {
  client: KubeClient;
  pods: Informer;
  nodes: Informer;
  pvcs: Informer;
}

/** How long the kubelet waits for volumes before it reports FailedMount (and again after each). */
const MOUNT_TIMEOUT_MS = 2 * 60_000;

interface WaitingPod {
  since: string;
  timer: NodeJS.Timeout;
}

export class Kubelet {
  private readonly workers = new Map<string, PodWorker>(); // by pod uid
  /** namespace/name of each worker's pod, so a status write finds its pod without scanning every pod. */
  private readonly podKeys = new Map<string, { namespace?: string; name: string }>();
  private readonly stopping = new Map<string, Promise<void>>();
  /** Pods bound to our nodes that wait for their volumes to be attached, by uid. */
  private readonly waiting = new Map<string, WaitingPod>();
  private readonly ips = new Map<string, PodIpAllocator>();
  private readonly pendingStatus = new Map<string, NodeJS.Timeout>();
  private closed = false;
  private lastError: string | undefined;

  /** One recorder per node: a kubelet's events name its host. */
  private readonly events = new Map<string, EventRecorder>();

  constructor(private readonly opts: KubeletOptions) {
    for (const node of NODE_NAMES) {
      this.events.set(node, new EventRecorder(opts.client, 'kubelet', node));
      this.ips.set(node, new PodIpAllocator(PodIpAllocator.rangeOfCidr(nodeObject(node, '').spec.podCIDR)));
    }
  }

  start(): void {
    this.opts.pods.onChange((type, pod) => this.handle(type, pod));
    // An attachment (or a claim bound) may let a waiting pod start.
    const recheck = () => {
      for (const uid of [...this.waiting.keys()]) {
        const key = this.podKeys.get(uid);
        const pod = key && this.opts.pods.get(key.namespace, key.name);
        if (pod && pod.metadata.uid === uid) this.handle('MODIFIED', pod);
      }
    };
    this.opts.nodes.onChange(recheck);
    this.opts.pvcs.onChange(recheck);
    for (const pod of this.opts.pods.list()) this.handle('ADDED', pod);
  }

  /** Stops every container (SIGTERM, then SIGKILL after at most graceCapSeconds). */
  async stop(graceCapSeconds = 5): Promise<void> {
    this.closed = true;
    for (const t of this.pendingStatus.values()) clearTimeout(t);
    this.pendingStatus.clear();
    for (const w of this.waiting.values()) clearTimeout(w.timer);
    this.waiting.clear();
    const all = [...this.workers.values()].map((w) => w.stop(graceCapSeconds));
    await Promise.all([...all, ...this.stopping.values()]);
    this.workers.clear();
    this.podKeys.clear();
  }

  private handle(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: KubeObject): void {
    if (this.closed) return;
    // A real API server deletes a pod that was never scheduled at once (no kubelet to wait for);
    // this one leaves a deletionTimestamp when it has finalizers, so finish the delete here.
    if (!pod.spec?.nodeName && pod.metadata.deletionTimestamp && type !== 'DELETED') {
      void this.finalDelete(pod);
      return;
    }
    // Unbound pods are the scheduler's; pods bound to other nodes are other kubelets'.
    if (!isAgentNode(pod.spec?.nodeName)) return;
    const uid = pod.metadata.uid ?? '';
    const worker = this.workers.get(uid);
    if (type === 'DELETED' || pod.metadata.deletionTimestamp) this.stopWaiting(uid);
    if (type === 'DELETED') {
      if (worker) this.terminate(worker, pod, false);
      return;
    }
    if (pod.metadata.deletionTimestamp) {
      if (worker) this.terminate(worker, pod, true);
      else if (!this.stopping.has(uid)) void this.finalDelete(pod);
      return;
    }
    if (worker) {
      worker.update(pod);
      return;
    }
    if (this.stopping.has(uid)) return;
    const phase = pod.status?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') return; // finished before this agent started
    const missing = unattachedVolumes(pod, this.opts.nodes.get(undefined, pod.spec.nodeName), (ns, name) =>
      this.opts.pvcs.get(ns, name),
    );
    if (missing.length) {
      this.waitForVolumes(
        pod,
        missing.map((v) => v.podVolume),
      );
      return;
    }
    this.stopWaiting(uid);
    this.startWorker(pod);
  }

  private waitForVolumes(pod: KubeObject, volumes: string[]): void {
    const uid = pod.metadata.uid ?? '';
    if (this.waiting.has(uid)) return;
    const events = this.events.get(pod.spec.nodeName)!;
    const report = () => {
      const waiting = this.waiting.get(uid);
      if (!waiting) return;
      // The kubelet's message after its volume wait times out; the pod keeps waiting.
      events.warning(
        pod,
        'FailedMount',
        `Unable to attach or mount volumes: unmounted volumes=[${volumes.join(' ')}], unattached volumes=[${volumes.join(' ')}], failed to process volumes=[]: timed out waiting for the condition`,
      );
      waiting.timer = setTimeout(report, MOUNT_TIMEOUT_MS);
    };
    this.waiting.set(uid, { since: nowIso(), timer: setTimeout(report, MOUNT_TIMEOUT_MS) });
    this.podKeys.set(uid, { namespace: pod.metadata.namespace, name: pod.metadata.name });
    this.scheduleStatus(uid);
  }

  private stopWaiting(uid: string): void {
    const w = this.waiting.get(uid);
    if (!w) return;
    clearTimeout(w.timer);
    this.waiting.delete(uid);
    if (!this.workers.has(uid)) this.podKeys.delete(uid);
  }

  private startWorker(pod: KubeObject): void {
    const uid = pod.metadata.uid ?? '';
    const previousRestarts = new Map<string, number>();
    for (const cs of pod.status?.containerStatuses ?? []) {
      const ranBefore = cs.state?.running || cs.state?.terminated || cs.lastState?.terminated;
      previousRestarts.set(cs.name, (cs.restartCount ?? 0) + (ranBefore ? 1 : 0));
    }
    const node = pod.spec.nodeName;
    const ip = this.ips.get(node)!.allocate(pod.status?.podIP);
    const worker = new PodWorker(
      pod,
      ip,
      { ...this.opts, events: this.events.get(node), onChange: () => this.scheduleStatus(uid) },
      previousRestarts,
    );
    this.workers.set(uid, worker);
    this.podKeys.set(uid, { namespace: pod.metadata.namespace, name: pod.metadata.name });
    worker.start();
    this.scheduleStatus(uid);
  }

  private terminate(worker: PodWorker, pod: KubeObject, thenDelete: boolean): void {
    const uid = worker.uid;
    if (this.stopping.has(uid)) return;
    this.workers.delete(uid);
    this.podKeys.delete(uid);
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
    const running = new Set(
      (pod.status?.containerStatuses ?? []).filter((cs: any) => cs.state?.running).map((cs: any) => cs.name),
    );
    for (const c of pod.spec?.containers ?? [])
      if (running.has(c.name))
        this.events.get(pod.spec.nodeName)?.normal(pod, 'Killing', `Stopping container ${c.name}`);
    const done = worker
      .stop(grace)
      .then(async () => {
        for (const ips of this.ips.values()) ips.release(worker.podIP);
        if (thenDelete) await this.finalDelete(pod);
      })
      .finally(() => this.stopping.delete(uid));
    this.stopping.set(uid, done);
  }

  /** After a graceful stop the kubelet removes the Pod object for good (grace period 0). */
  private async finalDelete(pod: KubeObject): Promise<void> {
    if (this.closed) return;
    try {
      await this.opts.client.delete(objectPath(PODS, pod.metadata.namespace, pod.metadata.name), {
        gracePeriodSeconds: 0,
        preconditionUid: pod.metadata.uid,
      });
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof KubeApiError && err.status === 409))
        this.opts.log(`delete pod ${pod.metadata.namespace}/${pod.metadata.name}: ${(err as Error).message}`);
    }
  }

  private scheduleStatus(uid: string, delayMs = 20): void {
    if (this.closed || this.pendingStatus.has(uid)) return;
    this.pendingStatus.set(
      uid,
      setTimeout(() => {
        this.pendingStatus.delete(uid);
        void this.writeStatus(uid);
      }, delayMs),
    );
  }

  private async writeStatus(uid: string): Promise<void> {
    const worker = this.workers.get(uid);
    const waiting = this.waiting.get(uid);
    if ((!worker && !waiting) || this.closed) return;
    const key = this.podKeys.get(uid);
    const pod = key && this.opts.pods.get(key.namespace, key.name);
    if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) return;
    const view: PodView = worker ? worker.view() : waitingView(pod, waiting!.since);
    const status = buildPodStatus(pod, view, nowIso());
    if (deepEqual(status, pod.status)) return;
    try {
      const updated = await this.opts.client.replace<KubeObject>(
        objectPath(PODS, pod.metadata.namespace, pod.metadata.name, 'status'),
        { ...pod, status },
      );
      this.opts.pods.upsert(updated);
      this.lastError = undefined;
    } catch (err) {
      if (isNotFound(err)) return;
      const conflict = err instanceof KubeApiError && err.status === 409;
      // A conflict means our cached pod is stale: the watch brings the new one within moments.
      // Anything else (the API server restarting, say) is retried every second, reported once.
      if (!conflict && this.lastError !== (err as Error).message)
        this.opts.log(`update status of pod ${pod.metadata.namespace}/${pod.metadata.name}: ${(err as Error).message}`);
      this.lastError = conflict ? this.lastError : (err as Error).message;
      this.scheduleStatus(uid, conflict ? 100 : 1_000);
      return;
    }
  }
}
