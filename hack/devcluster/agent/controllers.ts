// The node agent's kube-controller-manager: Deployment, ReplicaSet, Job, Endpoints /
// EndpointSlice controllers, a local PVC binder and the attach/detach controller, plus the
// scheduler (kube-scheduler is its own process upstream; here it shares the reconcile loop). Reconciles are level-triggered passes over
// the informer caches, run after changes (debounced) and every second for time-based rules;
// every write goes through to the cache so the next pass never acts on a stale view, and
// status is written only when it differs (no writes at steady state).
import type { KubeClient } from './kube-client.js';
import { isConflict, isNotFound } from './kube-client.js';
import type { Informer } from './informer.js';
import { EventRecorder } from './events.js';
import { CacheWriter } from './cache-writer.js';
import { DeploymentController } from './deployment-controller.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { JobController } from './job-controller.js';
import { EndpointsController } from './endpoints-controller.js';
import { PvcBinder } from './pvc-binder.js';
import { Scheduler } from './scheduler.js';
import { AttachDetachController } from './attach-controller.js';

export interface Informers {
  pods: Informer;
  replicasets: Informer;
  deployments: Informer;
  jobs: Informer;
  services: Informer;
  endpoints: Informer;
  endpointslices: Informer;
  pvcs: Informer;
  nodes: Informer;
}

export interface ControllerOptions {
  client: KubeClient;
  informers: Informers;
  dataDir: string;
  jobBackoffBaseMs: number;
  log: (msg: string) => void;
}

export interface Controller {
  readonly name: string;
  sync(): Promise<void>;
}

export class ControllerManager {
  private timer?: NodeJS.Timeout;
  private ticker?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private closed = false;
  private failed = false;
  private readonly lastLogged = new Map<string, number>();
  private readonly controllers: Controller[];

  constructor(private readonly o: ControllerOptions) {
    const w = new CacheWriter(o.client);
    const inf = o.informers;
    this.controllers = [
      new DeploymentController(inf, w, new EventRecorder(o.client, 'deployment-controller')),
      new ReplicaSetController(inf, w, new EventRecorder(o.client, 'replicaset-controller')),
      new JobController(inf, w, new EventRecorder(o.client, 'job-controller'), o.jobBackoffBaseMs, (ms) =>
        this.schedule(ms),
      ),
      new EndpointsController(inf, w),
      new PvcBinder(inf, w, o.dataDir),
      // After the binder, so a claim applied with its pod is bound when the pod is placed.
      new Scheduler(inf, w, new EventRecorder(o.client, 'default-scheduler')),
      new AttachDetachController(inf, w, new EventRecorder(o.client, 'attachdetach-controller')),
    ];
  }

  start(): void {
    for (const inf of Object.values(this.o.informers)) inf.onChange(() => this.schedule());
    this.ticker = setInterval(() => this.schedule(0), 1_000);
    this.schedule(0);
  }

  stop(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.ticker);
  }

  schedule(delayMs = 20): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pass();
    }, delayMs);
  }

  private async pass(): Promise<void> {
    this.running = true;
    try {
      for (const controller of this.controllers) {
        if (this.closed) return;
        try {
          await controller.sync();
        } catch (err) {
          if (!isConflict(err) && !isNotFound(err))
            this.logOnce(`controller ${controller.name}: ${(err as Error).message}`);
          this.again = true;
          this.failed = true;
        }
      }
    } finally {
      this.running = false;
      if (this.again) {
        this.again = false;
        // Errors retry after a second (the ticker would anyway); changes re-run promptly.
        this.schedule(this.failed ? 1_000 : 20);
      }
      this.failed = false;
    }
  }

  /** The same failure is logged at most every 30 s, so a persistent error cannot flood the log. */
  private logOnce(message: string): void {
    const now = Date.now();
    if ((this.lastLogged.get(message) ?? 0) + 30_000 > now) return;
    this.lastLogged.set(message, now);
    if (this.lastLogged.size > 1000) this.lastLogged.clear();
    this.o.log(message);
  }
}
