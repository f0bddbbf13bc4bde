// The node agent's kubelet: one PodWorker per Pod, status written back like a kubelet does
// (PUT pods/<name>/status, only when it changed), graceful deletion honoured.
import type { KubeClient, KubeObject } from './kube-client.js';
import { isNotFound, KubeApiError } from './kube-client.js';
import type { Informer } from './informer.js';
import { PodIpAllocator } from './ip-allocator.js';
import { PodWorker, type PodWorkerDeps } from './pod-worker.js';
import { buildPodStatus } from './pod-status.js';
import { objectPath, PODS } from './resources.js';
import { deepEqual, nowIso } from './util.js';
import { EventRecorder } from './events.js';

export interface KubeletOptions extends Omit<PodWorkerDeps, 'onChange' | 'events'> {
  client: KubeClient;
  pods: Informer;
}

export class Kubelet {
  private readonly workers = new Map<string, PodWorker>(); // by pod uid
  /** namespace/name of each worker's pod, so a status write finds its pod without scanning every pod. */
  private readonly podKeys = new Map<string, { namespace?: string; name: string }>();
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly ips = new PodIpAllocator();
  private readonly pendingStatus = new Map<string, NodeJS.Timeout>();
  private closed = false;
  private lastError: string | undefined;

  private readonly events: EventRecorder;
  private readonly schedulerEvents: EventRecorder;

  constructor(private readonly opts: KubeletOptions) {
    this.events = new EventRecorder(opts.client, 'kubelet');
    this.schedulerEvents = new EventRecorder(opts.client, 'default-scheduler');
  }

  start(): void {
    this.opts.pods.onChange((type, pod) => this.handle(type, pod));
    for (const pod of this.opts.pods.list()) this.handle('ADDED', pod);
  }

  /** Stops every container (SIGTERM, then SIGKILL after at most graceCapSeconds). */
  async stop(graceCapSeconds = 5): Promise<void> {
    this.closed = true;
    for (const t of this.pendingStatus.values()) clearTimeout(t);
    this.pendingStatus.clear();
    const all = [...this.workers.values()].map((w) => w.stop(graceCapSeconds));
    await Promise.all([...all, ...this.stopping.values()]);
    this.workers.clear();
    this.podKeys.clear();
  }

  private handle(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: KubeObject): void {
    if (this.closed) return;
    const uid = pod.metadata.uid ?? '';
    const worker = this.workers.get(uid);
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
    this.startWorker(pod);
  }

  private startWorker(pod: KubeObject): void {
    const uid = pod.metadata.uid ?? '';
    const previousRestarts = new Map<string, number>();
    for (const cs of pod.status?.containerStatuses ?? []) {
      const ranBefore = cs.state?.running || cs.state?.terminated || cs.lastState?.terminated;
      previousRestarts.set(cs.name, (cs.restartCount ?? 0) + (ranBefore ? 1 : 0));
    }
    const ip = this.ips.allocate(pod.status?.podIP);
    const worker = new PodWorker(pod, ip, { ...this.opts, events: this.events, onChange: () => this.scheduleStatus(uid) }, previousRestarts);
    this.schedulerEvents.normal(pod, 'Scheduled', `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to devcluster`);
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
    const running = new Set((pod.status?.containerStatuses ?? []).filter((cs: any) => cs.state?.running).map((cs: any) => cs.name));
    for (const c of pod.spec?.containers ?? []) if (running.has(c.name)) this.events.normal(pod, 'Killing', `Stopping container ${c.name}`);
    const done = worker.stop(grace).then(async () => {
      this.ips.release(worker.podIP);
      if (thenDelete) await this.finalDelete(pod);
    }).finally(() => this.stopping.delete(uid));
    this.stopping.set(uid, done);
  }

  /** After a graceful stop the kubelet removes the Pod object for good (grace period 0). */
  private async finalDelete(pod: KubeObject): Promise<void> {
    if (this.closed) return;
    try {
      await this.opts.client.delete(objectPath(PODS, pod.metadata.namespace, pod.metadata.name), { gracePeriodSeconds: 0, preconditionUid: pod.metadata.uid });
    } catch (err) {
      if (!isNotFound(err) && !(err instanceof KubeApiError && err.status === 409)) this.opts.log(`delete pod ${pod.metadata.namespace}/${pod.metadata.name}: ${(err as Error).message}`);
    }
  }

  private scheduleStatus(uid: string, delayMs = 20): void {
    if (this.closed || this.pendingStatus.has(uid)) return;
    this.pendingStatus.set(uid, setTimeout(() => {
      this.pendingStatus.delete(uid);
      void this.writeStatus(uid);
    }, delayMs));
  }

  private async writeStatus(uid: string): Promise<void> {
    const worker = this.workers.get(uid);
    if (!worker || this.closed) return;
    const key = this.podKeys.get(uid);
    const pod = key && this.opts.pods.get(key.namespace, key.name);
    if (!pod || pod.metadata.uid !== uid || pod.metadata.deletionTimestamp) return;
    const status = buildPodStatus(pod, worker.view(), nowIso());
    if (deepEqual(status, pod.status)) return;
    try {
      const updated = await this.opts.client.replace<KubeObject>(objectPath(PODS, pod.metadata.namespace, pod.metadata.name, 'status'), { ...pod, status });
      this.opts.pods.upsert(updated);
      this.lastError = undefined;
    } catch (err) {
      if (isNotFound(err)) return;
      const conflict = err instanceof KubeApiError && err.status === 409;
      // A conflict means our cached pod is stale: the watch brings the new one within moments.
      // Anything else (the API server restarting, say) is retried every second, reported once.
      if (!conflict && this.lastError !== (err as Error).message) this.opts.log(`update status of pod ${pod.metadata.namespace}/${pod.metadata.name}: ${(err as Error).message}`);
      this.lastError = conflict ? this.lastError : (err as Error).message;
      this.scheduleStatus(uid, conflict ? 100 : 1_000);
      return;
    }
  }
}
