// Kind-specific behaviour of built-in kinds that clients rely on: the defaults a real API
// server fills in (the ones controllers and the node agent read), Service cluster IPs,
// Namespace phases, Secret stringData, Job selectors.
import { errors } from './errors.js';
import type { KObject } from './registry.js';
import { podQosClass } from './pod-qos.js';
import { readFileSync } from 'node:fs';

/**
 * Cluster IPs from 127.96.0.0/16 (loopback, so the node agent can bind them without root).
 * Allocation starts at a random offset so that dev clusters running side by side (parallel
 * tests) rarely hand out the same address, which their service proxies would both bind.
 */
/** IPv4 addresses with a listening TCP socket, from /proc/net/tcp's text (pure). */
export function listeningAddresses(procNetTcp: string): Set<string> {
  const out = new Set<string>();
  for (const line of procNetTcp.split('\n').slice(1)) {
    const [, local, , state] = line.trim().split(/\s+/);
    if (state !== '0A' || !local) continue; // 0A: TCP_LISTEN
    const hex = local.split(':')[0];
    // Little-endian: "0100007F" is 127.0.0.1.
    out.add([6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16)).join('.'));
  }
  return out;
}

function hostListeners(): Set<string> {
  try {
    return listeningAddresses(readFileSync('/proc/net/tcp', 'utf8'));
  } catch {
    return new Set();
  }
}

/**
 * Cluster IPs from 127.96.0.0/16, from a random start. Dev clusters side by side share that range
 * on one host (each service proxy binds its Services' addresses), so an address something on the
 * host already listens on is skipped too.
 */
export class ClusterIpAllocator {
  private used = new Set<string>();
  private next = 1 + Math.floor(Math.random() * 64_000);

  reserve(ip: string): void {
    this.used.add(ip);
  }
  release(ip: string | undefined): void {
    if (ip) this.used.delete(ip);
  }
  isUsed(ip: string): boolean {
    return this.used.has(ip);
  }

  allocate(): string {
    const taken = hostListeners();
    for (let tries = 0; tries < 65_534; tries++) {
      const n = this.next;
      this.next = this.next >= 65_534 ? 1 : this.next + 1;
      const ip = `127.96.${n >> 8}.${n & 255}`;
      if ((n & 255) === 0 || (n & 255) === 255 || this.used.has(ip) || taken.has(ip)) continue;
      this.used.add(ip);
      return ip;
    }
    throw errors.internal('failed to allocate a serviceIP: range is full');
  }
}

function defaultContainer(c: KObject): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.image !== undefined) {
    const tag = /:([^/:@]+)$/.exec(c.image)?.[1];
    c.imagePullPolicy ??= !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
}

export function defaultPodSpec(spec: KObject | undefined): void {
  if (!spec) return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  if (spec.serviceAccountName === undefined && spec.serviceAccount === undefined) spec.serviceAccountName = 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  spec.serviceAccountName ??= spec.serviceAccount;
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const v of spec.volumes ?? []) {
    if (v.configMap) v.configMap.defaultMode ??= 420;
    if (v.secret) v.secret.defaultMode ??= 420;
  }
}

/**
 * A Pod's containers request what they limit unless they request it otherwise (SetDefaults_Pod:
 * Pods only, not templates, so a Deployment's template keeps what its author wrote).
 */
function defaultRequestsFromLimits(spec: KObject | undefined): void {
  for (const c of [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])]) {
    const limits = c.resources?.limits;
    if (!limits) continue;
    c.resources.requests ??= {};
    for (const [name, quantity] of Object.entries(limits)) c.resources.requests[name] ??= quantity;
  }
}

function defaultTemplate(spec: KObject | undefined): void {
  if (spec?.template) {
    spec.template.metadata ??= {};
    defaultPodSpec(spec.template.spec);
  }
}

/** Defaults applied on create and update (idempotent), as the real defaulting functions do. */
export function applyBuiltinDefaults(kind: string, obj: KObject): void {
  const spec = obj.spec;
  switch (kind) {
    case 'Pod':
      defaultPodSpec(spec);
      defaultRequestsFromLimits(spec);
      break;
    case 'Deployment':
      if (!spec) break;
      spec.replicas ??= 1;
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      spec.strategy ??= { type: 'RollingUpdate' };
      if (spec.strategy.type === 'RollingUpdate')
        spec.strategy.rollingUpdate ??= { maxUnavailable: '25%', maxSurge: '25%' };
      defaultTemplate(spec);
      break;
    case 'ReplicaSet':
    case 'StatefulSet':
      if (!spec) break;
      spec.replicas ??= 1;
      defaultTemplate(spec);
      break;
    case 'DaemonSet':
    case 'ReplicationController':
      defaultTemplate(spec);
      break;
    case 'Job':
      if (!spec) break;
      spec.parallelism ??= 1;
      spec.completions ??= spec.parallelism === 1 ? 1 : spec.completions;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= 'NonIndexed';
      spec.suspend ??= false;
      spec.podReplacementPolicy ??= 'TerminatingOrFailed';
      defaultTemplate(spec);
      break;
    case 'Service':
      defaultService(obj);
      break;
    case 'Secret':
      obj.type ??= 'Opaque';
      if (obj.stringData) {
        obj.data = { ...(obj.data ?? {}) };
        for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString('base64');
        delete obj.stringData;
      }
      break;
    case 'PersistentVolumeClaim':
      if (spec) spec.volumeMode ??= 'Filesystem';
      break;
  }
}

function defaultService(obj: KObject): void {
  const spec = (obj.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.type !== 'ExternalName') {
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

/** Job: generated selector and pod-template labels (manualSelector unset), set once on create. */
export function prepareJobCreate(obj: KObject): void {
  const spec = obj.spec;
  if (!spec || spec.manualSelector) return;
  const uid = obj.metadata.uid;
  const labels = {
    'batch.kubernetes.io/controller-uid': uid,
    'batch.kubernetes.io/job-name': obj.metadata.name,
    'controller-uid': uid,
    'job-name': obj.metadata.name,
  };
  spec.selector ??= { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  spec.template ??= {};
  spec.template.metadata ??= {};
  spec.template.metadata.labels = { ...labels, ...(spec.template.metadata.labels ?? {}) };
}

/** Status a real server sets on create for kinds with a status subresource. */
export function initialStatus(kind: string, obj: KObject): KObject | undefined {
  switch (kind) {
    case 'Pod':
      return { phase: 'Pending', qosClass: podQosClass(obj.spec) };
    case 'Namespace':
      return { phase: 'Active' };
    case 'Service':
      return { loadBalancer: {} };
    case 'PersistentVolumeClaim':
      return { phase: 'Pending' };
    // Status fields without omitempty serialise as zeros on a fresh object.
    case 'ReplicaSet':
    case 'StatefulSet':
    case 'ReplicationController':
      return { replicas: 0 };
    case 'DaemonSet':
      return { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 };
    case 'HorizontalPodAutoscaler':
      return { desiredReplicas: 0 };
    case 'PodDisruptionBudget':
      return { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
    case 'Deployment':
    case 'Job':
    case 'CronJob':
    case 'Ingress':
    case 'PersistentVolume':
    case 'Node':
    case 'ResourceQuota':
      return {};
  }
  return undefined;
}
