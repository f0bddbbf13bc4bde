// The node agent's kube-controller-manager: Deployment, ReplicaSet, Job, Endpoints /
// EndpointSlice controllers and a local PVC binder. Reconciles are level-triggered passes over
// the informer caches, run after changes (debounced) and every second for time-based rules;
// every write goes through to the cache so the next pass never acts on a stale view, and
// status is written only when it differs (no writes at steady state).
import { mkdirSync } from 'node:fs';
import type { KubeClient, KubeObject } from './kube-client.js';
import { isConflict, isNotFound } from './kube-client.js';
import type { Informer } from './informer.js';
import { collectionPath, objectPath, PODS, type ResourceType, DEPLOYMENTS, REPLICASETS, JOBS, ENDPOINTS, ENDPOINTSLICES, PVCS } from './resources.js';
import { deepEqual, findCondition, isControlledBy, nowIso } from './util.js';
import { EventRecorder } from './events.js';
import { planReplicaSet, podFromTemplate } from './replicaset-logic.js';
import { deploymentStatus, HASH_LABEL, isOldPodPresent, newReplicaSetFor, planScale, REVISION_ANNOTATION, revisionOf, templateHash } from './deployment-logic.js';
import { isJobFinished, jobPodLabels, planJob, type JobCounted } from './job-logic.js';
import { buildEndpointSlices, buildEndpointSubsets, SERVICE_NAME_LABEL, SLICE_MANAGED_BY_LABEL, SLICE_MANAGER } from './endpoints-logic.js';
import { pvcDir } from './volumes.js';

export interface Informers {
  pods: Informer;
  replicasets: Informer;
  deployments: Informer;
  jobs: Informer;
  services: Informer;
  endpoints: Informer;
  endpointslices: Informer;
  pvcs: Informer;
}

export interface ControllerOptions {
  client: KubeClient;
  informers: Informers;
  dataDir: string;
  jobBackoffBaseMs: number;
  log: (msg: string) => void;
}

export class ControllerManager {
  private timer?: NodeJS.Timeout;
  private ticker?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private closed = false;
  private readonly jobCounted = new Map<string, JobCounted>();
  private readonly lastLogged = new Map<string, number>();
  private failed = false;

  private readonly rsEvents: EventRecorder;
  private readonly deploymentEvents: EventRecorder;
  private readonly jobEvents: EventRecorder;

  constructor(private readonly o: ControllerOptions) {
    this.rsEvents = new EventRecorder(o.client, 'replicaset-controller');
    this.deploymentEvents = new EventRecorder(o.client, 'deployment-controller');
    this.jobEvents = new EventRecorder(o.client, 'job-controller');
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
      const steps: [string, () => Promise<void>][] = [
        ['deployments', () => this.syncDeployments()],
        ['replicasets', () => this.syncReplicaSets()],
        ['jobs', () => this.syncJobs()],
        ['endpoints', () => this.syncEndpoints()],
        ['pvcs', () => this.syncPvcs()],
      ];
      for (const [name, step] of steps) {
        if (this.closed) return;
        try {
          await step();
        } catch (err) {
          if (!isConflict(err) && !isNotFound(err)) this.logOnce(`controller ${name}: ${(err as Error).message}`);
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

  // ---- writes (write-through to the caches) ----

  private async create(rt: ResourceType, inf: Informer, obj: KubeObject): Promise<KubeObject> {
    const created = await this.o.client.create<KubeObject>(collectionPath(rt, obj.metadata.namespace), obj);
    inf.upsert(created);
    return created;
  }

  private async replace(rt: ResourceType, inf: Informer, obj: KubeObject): Promise<void> {
    const updated = await this.o.client.replace<KubeObject>(objectPath(rt, obj.metadata.namespace, obj.metadata.name), obj);
    inf.upsert(updated);
  }

  private async writeStatus(rt: ResourceType, inf: Informer, obj: KubeObject, status: Record<string, unknown>): Promise<void> {
    if (deepEqual(status, obj.status ?? {})) return;
    const updated = await this.o.client.replace<KubeObject>(objectPath(rt, obj.metadata.namespace, obj.metadata.name, 'status'), { ...obj, status });
    inf.upsert(updated);
  }

  private async remove(rt: ResourceType, inf: Informer, obj: KubeObject, propagationPolicy?: string): Promise<void> {
    try {
      const res = await this.o.client.delete(objectPath(rt, obj.metadata.namespace, obj.metadata.name), { preconditionUid: obj.metadata.uid, propagationPolicy }) as KubeObject | undefined;
      // A graceful deletion leaves the object in place with a deletionTimestamp.
      if (res?.kind === rt.kind && res.metadata?.deletionTimestamp && res.metadata.uid === obj.metadata.uid) inf.upsert(res);
      else inf.forget(obj);
    } catch (err) {
      if (isNotFound(err)) inf.forget(obj);
      else throw err;
    }
  }

  // ---- ReplicaSets ----

  private async syncReplicaSets(): Promise<void> {
    const { replicasets, pods } = this.o.informers;
    const now = Date.now();
    for (const rs of replicasets.list()) {
      if (rs.metadata.deletionTimestamp) continue;
      const owned = pods.list(rs.metadata.namespace).filter((p) => isControlledBy(p, rs));
      const plan = planReplicaSet(rs, owned, now);
      for (let i = 0; i < plan.create; i++) {
        const pod = await this.create(PODS, pods, podFromTemplate(rs, 'apps/v1', 'ReplicaSet'));
        this.rsEvents.normal(rs, 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      }
      for (const pod of plan.remove) {
        await this.remove(PODS, pods, pod);
        this.rsEvents.normal(rs, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      }
      if (plan.create || plan.remove.length) {
        const after = pods.list(rs.metadata.namespace).filter((p) => isControlledBy(p, rs));
        await this.writeStatus(REPLICASETS, replicasets, rs, planReplicaSet(rs, after, now).status);
      } else await this.writeStatus(REPLICASETS, replicasets, rs, plan.status);
    }
  }

  // ---- Deployments ----

  private async syncDeployments(): Promise<void> {
    const { deployments, replicasets, pods } = this.o.informers;
    for (const deploy of deployments.list()) {
      if (deploy.metadata.deletionTimestamp) continue;
      const hash = templateHash(deploy);
      const owned = replicasets.list(deploy.metadata.namespace).filter((rs) => isControlledBy(rs, deploy));
      let newRS = owned.find((rs) => rs.metadata.labels?.[HASH_LABEL] === hash);
      const oldRSs = owned.filter((rs) => rs !== newRS);
      let createdNewRS = false;
      if (!newRS) {
        const revision = Math.max(0, ...owned.map(revisionOf)) + 1;
        const initial = oldRSs.some((rs) => (rs.spec?.replicas ?? 0) > 0) ? 0 : deploy.spec?.strategy?.type === 'Recreate' ? 0 : deploy.spec?.replicas ?? 1;
        newRS = await this.create(REPLICASETS, replicasets, newReplicaSetFor(deploy, hash, revision, initial));
        createdNewRS = true;
      }
      if (!deploy.spec?.paused) {
        const oldPodsExist = oldRSs.some((rs) => isOldPodPresent(pods.list(rs.metadata.namespace).filter((p) => isControlledBy(p, rs))));
        const targets = planScale(deploy, newRS, oldRSs, oldPodsExist);
        for (const rs of [newRS, ...oldRSs]) {
          const want = targets.get(rs.metadata.name);
          const desiredAnn = String(deploy.spec?.replicas ?? 1);
          const needsAnn = rs === newRS && rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'] !== desiredAnn;
          if ((want !== undefined && want !== (rs.spec?.replicas ?? 0)) || needsAnn) {
            const next = structuredClone(rs);
            if (want !== undefined) next.spec.replicas = want;
            if (rs === newRS) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), 'deployment.kubernetes.io/desired-replicas': desiredAnn };
            await this.replace(REPLICASETS, replicasets, next);
            const from = rs.spec?.replicas ?? 0;
            if (want !== undefined && want !== from) {
              this.deploymentEvents.normal(deploy, 'ScalingReplicaSet', `Scaled ${want > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${want}`);
            }
          }
        }
      }
      this.pruneHistory(deploy, replicasets);
      const current = replicasets.list(deploy.metadata.namespace).filter((rs) => isControlledBy(rs, deploy));
      const currentNew = current.find((rs) => rs.metadata.name === newRS!.metadata.name) ?? newRS;
      const revision = currentNew.metadata.annotations?.[REVISION_ANNOTATION];
      if (revision && deploy.metadata.annotations?.[REVISION_ANNOTATION] !== revision) {
        const next = structuredClone(deploy);
        next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision };
        await this.replace(DEPLOYMENTS, deployments, next);
      }
      const latest = deployments.get(deploy.metadata.namespace, deploy.metadata.name) ?? deploy;
      const now = Date.now();
      await this.writeStatus(DEPLOYMENTS, deployments, latest, deploymentStatus({ deploy: latest, newRS: currentNew, allRSs: current, createdNewRS, now, nowIso: nowIso(now) }));
    }
  }

  private pruneHistory(deploy: KubeObject, replicasets: Informer): void {
    const limit = deploy.spec?.revisionHistoryLimit ?? 10;
    const hash = templateHash(deploy);
    const idle = replicasets.list(deploy.metadata.namespace)
      .filter((rs) => isControlledBy(rs, deploy) && rs.metadata.labels?.[HASH_LABEL] !== hash && (rs.spec?.replicas ?? 0) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp)
      .sort((a, b) => revisionOf(a) - revisionOf(b));
    for (const rs of idle.slice(0, Math.max(0, idle.length - limit))) void this.remove(REPLICASETS, replicasets, rs).catch(() => undefined);
  }

  // ---- Jobs ----

  private async syncJobs(): Promise<void> {
    const { jobs, pods } = this.o.informers;
    const now = Date.now();
    const live = new Set<string>();
    for (const job of jobs.list()) {
      const uid = job.metadata.uid ?? '';
      live.add(uid);
      if (job.metadata.deletionTimestamp) continue;
      const owned = pods.list(job.metadata.namespace).filter((p) => isControlledBy(p, job));
      const counted = this.countedFor(job, owned);
      const plan = planJob(job, owned, counted, now, nowIso(now), { backoffBaseMs: this.o.jobBackoffBaseMs });
      if (plan.deleteJob) {
        await this.remove(JOBS, jobs, job, 'Background');
        continue;
      }
      for (const pod of plan.remove) {
        await this.remove(PODS, pods, pod);
        this.jobEvents.normal(job, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      }
      for (let i = 0; i < plan.create; i++) {
        const pod = await this.create(PODS, pods, podFromTemplate(job, 'batch/v1', 'Job', jobPodLabels(job)));
        this.jobEvents.normal(job, 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      }
      await this.writeStatus(JOBS, jobs, job, plan.status);
      this.jobTransitionEvents(job, plan.status);
      for (const u of plan.newlyCounted.succeeded) counted.succeeded.add(u);
      for (const u of plan.newlyCounted.failed) counted.failed.add(u);
      if (plan.requeueAfterMs !== undefined && plan.requeueAfterMs < 1_000) this.schedule(Math.max(10, plan.requeueAfterMs));
    }
    for (const uid of this.jobCounted.keys()) if (!live.has(uid)) this.jobCounted.delete(uid);
  }

  private jobTransitionEvents(job: KubeObject, status: Record<string, any>): void {
    const became = (type: string) => findCondition(status.conditions, type)?.status === 'True' && findCondition(job.status?.conditions, type)?.status !== 'True';
    if (became('Complete')) this.jobEvents.normal(job, 'Completed', 'Job completed');
    const failed = findCondition(status.conditions, 'Failed');
    if (became('Failed') && failed) this.jobEvents.warning(job, failed.reason ?? 'Failed', failed.message ?? 'Job failed');
  }

  /**
   * Pods already reflected in status.succeeded/failed. After an agent restart, a Job whose
   * status we wrote before has counted every pod that was terminal then.
   */
  private countedFor(job: KubeObject, owned: KubeObject[]): JobCounted {
    const uid = job.metadata.uid ?? '';
    let counted = this.jobCounted.get(uid);
    if (!counted) {
      counted = { succeeded: new Set(), failed: new Set() };
      if (job.status?.startTime || isJobFinished(job)) {
        for (const p of owned) {
          if (p.status?.phase === 'Succeeded') counted.succeeded.add(p.metadata.uid ?? '');
          if (p.status?.phase === 'Failed') counted.failed.add(p.metadata.uid ?? '');
        }
      }
      this.jobCounted.set(uid, counted);
    }
    return counted;
  }

  // ---- Endpoints and EndpointSlices ----

  private async syncEndpoints(): Promise<void> {
    const { services, endpoints, endpointslices, pods } = this.o.informers;
    const wantedSlices = new Set<string>();
    for (const svc of services.list()) {
      if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) continue;
      if (svc.metadata.deletionTimestamp) continue;
      const nsPods = pods.list(svc.metadata.namespace);
      if (endpoints.available) {
        const subsets = buildEndpointSubsets(svc, nsPods);
        const existing = endpoints.get(svc.metadata.namespace, svc.metadata.name);
        if (!existing) {
          await this.create(ENDPOINTS, endpoints, {
            apiVersion: 'v1', kind: 'Endpoints',
            metadata: { name: svc.metadata.name, namespace: svc.metadata.namespace, labels: { ...(svc.metadata.labels ?? {}) } },
            subsets,
          });
        } else if (!deepEqual(existing.subsets ?? [], subsets)) {
          await this.replace(ENDPOINTS, endpoints, { ...existing, subsets });
        }
      }
      if (endpointslices.available) {
        for (const slice of buildEndpointSlices(svc, nsPods)) {
          wantedSlices.add(`${slice.metadata.namespace}/${slice.metadata.name}`);
          const existing = endpointslices.get(slice.metadata.namespace, slice.metadata.name);
          if (!existing) await this.create(ENDPOINTSLICES, endpointslices, slice);
          else if (!deepEqual(existing.endpoints ?? [], slice.endpoints) || !deepEqual(existing.ports ?? [], slice.ports)) {
            await this.replace(ENDPOINTSLICES, endpointslices, { ...existing, endpoints: slice.endpoints, ports: slice.ports });
          }
        }
      }
    }
    // Slices of ours that no longer match a Service's pods.
    for (const slice of endpointslices.list()) {
      if (slice.metadata.labels?.[SLICE_MANAGED_BY_LABEL] !== SLICE_MANAGER || !slice.metadata.labels?.[SERVICE_NAME_LABEL]) continue;
      if (!wantedSlices.has(`${slice.metadata.namespace}/${slice.metadata.name}`) && !slice.metadata.deletionTimestamp) await this.remove(ENDPOINTSLICES, endpointslices, slice);
    }
    // Endpoints of deleted Services (the endpoints controller owns Endpoints named after Services it manages).
    for (const ep of endpoints.list()) {
      const svc = services.get(ep.metadata.namespace, ep.metadata.name);
      if (!svc && this.managedEndpoints.has(`${ep.metadata.namespace}/${ep.metadata.name}`)) {
        await this.remove(ENDPOINTS, endpoints, ep);
        this.managedEndpoints.delete(`${ep.metadata.namespace}/${ep.metadata.name}`);
      }
    }
    for (const svc of services.list()) if (svc.spec?.selector && Object.keys(svc.spec.selector).length) this.managedEndpoints.add(`${svc.metadata.namespace}/${svc.metadata.name}`);
  }

  private readonly managedEndpoints = new Set<string>();

  // ---- PersistentVolumeClaims: a local-path provisioner binds every pending claim ----

  private async syncPvcs(): Promise<void> {
    const { pvcs } = this.o.informers;
    if (!pvcs.available) return;
    for (const pvc of pvcs.list()) {
      if (pvc.status?.phase === 'Bound' || pvc.metadata.deletionTimestamp) continue;
      mkdirSync(pvcDir(this.o.dataDir, pvc.metadata.namespace ?? 'default', pvc.metadata.name), { recursive: true });
      await this.writeStatus(PVCS, pvcs, pvc, {
        phase: 'Bound',
        accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
        capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '1Gi' },
      });
    }
  }
}
