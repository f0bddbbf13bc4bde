// Pure construction of a Pod's status from what the node agent knows about its processes,
// with the kubelet's rules for phase, container states and the Pod conditions.
import type { KubeObject } from './kube-client.js';
import { setCondition, type Condition } from './util.js';
import { podQosClass } from '../apiserver/pod-qos.js';

export interface TerminatedState {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
}

export type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: string }
  | { kind: 'terminated'; terminated: TerminatedState };

export interface ContainerView {
  name: string;
  image: string;
  state: ContainerState;
  lastTerminated?: TerminatedState;
  restartCount: number;
  ready: boolean;
  started: boolean;
  containerID?: string;
}

export interface PodView {
  /** '' while the pod has no sandbox yet (it waits for its volumes): no podIP in the status. */
  podIP: string;
  startTime: string;
  containers: ContainerView[];
  initContainers?: ContainerView[];
  /** A pod-level failure decided by the node (e.g. activeDeadlineSeconds). */
  podFailure?: { reason: string; message: string };
}

function terminatedJson(t: TerminatedState): Record<string, unknown> {
  const out: Record<string, unknown> = {
    exitCode: t.exitCode,
    reason: t.reason,
    startedAt: t.startedAt,
    finishedAt: t.finishedAt,
  };
  if (t.signal) out.signal = t.signal;
  if (t.message) out.message = t.message;
  if (t.containerID) out.containerID = t.containerID;
  return out;
}

function stateJson(s: ContainerState): Record<string, unknown> {
  if (s.kind === 'waiting')
    return { waiting: s.message ? { reason: s.reason, message: s.message } : { reason: s.reason } };
  if (s.kind === 'running') return { running: { startedAt: s.startedAt } };
  return { terminated: terminatedJson(s.terminated) };
}

/** The kubelet's getPhase, for app containers only. */
export function podPhase(view: PodView): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  if (view.podFailure) return 'Failed';
  const init = view.initContainers ?? [];
  // An init container that failed for good (restartPolicy Never) fails the pod.
  if (init.some((c) => c.state.kind === 'terminated' && c.state.terminated.exitCode !== 0)) return 'Failed';
  if (!initialized(view)) return 'Pending';
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of view.containers) {
    if (c.state.kind === 'running') running++;
    else if (c.state.kind === 'terminated') {
      stopped++;
      if (c.state.terminated.exitCode === 0) succeeded++;
    } else if (c.lastTerminated)
      running++; // restarting after a back-off counts as running
    else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0 && stopped === succeeded) return 'Succeeded';
  return 'Failed';
}

function initialized(view: PodView): boolean {
  return (view.initContainers ?? []).every((c) => c.state.kind === 'terminated' && c.state.terminated.exitCode === 0);
}

function containerStatusJson(c: ContainerView): Record<string, unknown> {
  return {
    name: c.name,
    image: c.image,
    imageID: `devcluster://${c.image}`,
    ...(c.containerID ? { containerID: c.containerID } : {}),
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
    state: stateJson(c.state),
    lastState: c.lastTerminated ? { terminated: terminatedJson(c.lastTerminated) } : {},
  };
}

export function buildPodStatus(pod: KubeObject, view: PodView, nowIso: string): Record<string, any> {
  const phase = podPhase(view);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const old: Condition[] = pod.status?.conditions ?? [];
  const unready = view.containers.filter((c) => !c.ready).map((c) => c.name);
  const containersReady = !terminal && unready.length === 0;
  const notReadyReason = terminal ? 'PodCompleted' : 'ContainersNotReady';
  const notReadyMessage = terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  let conditions = old;
  const set = (c: Condition) => (conditions = setCondition(conditions, { lastProbeTime: null, ...c }, nowIso));
  const sandbox = view.podIP !== '';
  set({ type: 'PodReadyToStartContainers', status: terminal || !sandbox ? 'False' : 'True' });
  const incomplete = (view.initContainers ?? [])
    .filter((c) => !(c.state.kind === 'terminated' && c.state.terminated.exitCode === 0))
    .map((c) => c.name);
  set(
    incomplete.length === 0
      ? { type: 'Initialized', status: 'True' }
      : {
          type: 'Initialized',
          status: 'False',
          reason: 'ContainersNotInitialized',
          message: `containers with incomplete status: [${incomplete.join(' ')}]`,
        },
  );
  set(
    containersReady
      ? { type: 'Ready', status: 'True' }
      : {
          type: 'Ready',
          status: 'False',
          reason: notReadyReason,
          ...(notReadyMessage ? { message: notReadyMessage } : {}),
        },
  );
  set(
    containersReady
      ? { type: 'ContainersReady', status: 'True' }
      : {
          type: 'ContainersReady',
          status: 'False',
          reason: notReadyReason,
          ...(notReadyMessage ? { message: notReadyMessage } : {}),
        },
  );
  set({ type: 'PodScheduled', status: 'True' });
  conditions = orderConditions(conditions);

  const status: Record<string, any> = {
    phase,
    conditions,
    hostIP: '127.0.0.1',
    hostIPs: [{ ip: '127.0.0.1' }],
    ...(sandbox ? { podIP: view.podIP, podIPs: [{ ip: view.podIP }] } : {}),
    startTime: view.startTime,
    containerStatuses: view.containers.map(containerStatusJson),
    qosClass: podQosClass(pod.spec),
  };
  if (view.initContainers) status.initContainerStatuses = view.initContainers.map(containerStatusJson);
  if (view.podFailure) {
    status.reason = view.podFailure.reason;
    status.message = view.podFailure.message;
  }
  return status;
}

/**
 * A pod the kubelet has accepted but not started, because its volumes are not attached yet:
 * no sandbox, app containers ContainerCreating (PodInitializing behind init containers).
 */
export function waitingView(pod: KubeObject, startTime: string): PodView {
  const restarts = new Map<string, number>(
    (pod.status?.containerStatuses ?? [])
      .concat(pod.status?.initContainerStatuses ?? [])
      .map((cs: any) => [cs.name, cs.restartCount ?? 0]),
  );
  const init: any[] = pod.spec?.initContainers ?? [];
  const waiting = (c: any, reason: string): ContainerView => ({
    name: c.name,
    image: c.image,
    state: { kind: 'waiting', reason },
    restartCount: restarts.get(c.name) ?? 0,
    ready: false,
    started: false,
  });
  return {
    podIP: '',
    startTime,
    containers: (pod.spec?.containers ?? []).map((c: any) =>
      waiting(c, init.length ? 'PodInitializing' : 'ContainerCreating'),
    ),
    ...(init.length ? { initContainers: init.map((c) => waiting(c, 'PodInitializing')) } : {}),
  };
}

const CONDITION_ORDER = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'];

function orderConditions(conditions: Condition[]): Condition[] {
  const rank = (t: string) => {
    const i = CONDITION_ORDER.indexOf(t);
    return i < 0 ? CONDITION_ORDER.length : i;
  };
  return [...conditions].sort((a, b) => rank(a.type) - rank(b.type));
}
