// TrainingRun status as a pure function of the run and what its Job says. Phases move
// Pending → Running → Succeeded | Failed and never leave a terminal phase, so a Job that is
// deleted later (ttlSecondsAfterFinished) or a re-list cannot rewrite an outcome.
import {
  ConditionTypes,
  type Condition,
  type TrainingRun,
  type TrainingRunPhase,
  type TrainingRunStatus,
  type TrainingRunStatusRegistrationGate,
} from '../../api/index.js';
import type { JobObservation } from '../common/observe.js';
import { isoSeconds, setConditionAt, type StatusEvent } from '../common/status.js';
import { parseTrainerMessage } from './termination.js';

const C = ConditionTypes.TrainingRun;

export const isTerminal = (phase: TrainingRunPhase | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';

/**
 * The phase after observing `observed` in `current`. Terminal phases are final; a run that was
 * Running stays Running while a retry pod waits to start (it did start once).
 */
export function nextPhase(current: TrainingRunPhase | undefined, observed: TrainingRunPhase): TrainingRunPhase {
  if (current && isTerminal(current)) return current;
  if (current === 'Running' && observed === 'Pending') return 'Running';
  return observed;
}

/** What the controller found out this round. */
export interface TrainingObservation {
  /** The Job's state; absent while the Job does not exist yet. */
  job?: JobObservation;
  /** The spec cannot be turned into a Job (e.g. a location that cannot be mounted). */
  invalidSpec?: string;
  /** The spec names a service account, priority class or Secret the operator does not allow. */
  notAllowed?: string;
  /** The Job the run recorded is gone before it reported an outcome. */
  jobMissing?: boolean;
}

export interface Outcome {
  phase: TrainingRunPhase;
  reason: string;
  message: string;
  metrics?: Record<string, number>;
  artifact?: { uri: string; digest?: string };
  startTime?: string;
  completionTime?: string;
}

/** The run's outcome as seen in this observation (pure; the termination message decides success). */
export function outcomeOf(obs: TrainingObservation, now: string): Outcome {
  if (obs.invalidSpec) return { phase: 'Failed', reason: 'InvalidSpec', message: obs.invalidSpec, completionTime: now };
  if (obs.notAllowed) return { phase: 'Failed', reason: 'NotAllowed', message: obs.notAllowed, completionTime: now };
  if (obs.jobMissing) {
    return {
      phase: 'Failed',
      reason: 'JobDeleted',
      message: 'the training Job was deleted before it reported an outcome',
      completionTime: now,
    };
  }
  const job = obs.job;
  if (!job) return { phase: 'Pending', reason: 'JobPending', message: 'creating the training Job' };
  const times = { startTime: job.startTime, completionTime: job.completionTime ?? now };
  if (job.state === 'Succeeded') {
    const summary = parseTrainerMessage(job.terminationMessage);
    if (!summary.ok) return { phase: 'Failed', reason: summary.reason, message: summary.message, ...times };
    const acc = summary.metrics.accuracy;
    return {
      phase: 'Succeeded',
      reason: 'Completed',
      message: `the trainer finished${acc !== undefined ? ` with accuracy ${acc}` : ''}; artifact ${summary.artifact.uri}`,
      metrics: summary.metrics,
      artifact: summary.artifact,
      ...times,
    };
  }
  if (job.state === 'Failed') {
    const summary = parseTrainerMessage(job.terminationMessage);
    const detail = summary.ok
      ? ''
      : summary.reason === 'TrainerError'
        ? `; ${summary.message}`
        : job.terminationMessage
          ? `; last output: ${job.terminationMessage.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}`
          : '';
    return { phase: 'Failed', reason: job.reason, message: `${job.message}${detail}`, ...times };
  }
  return { phase: job.state, reason: job.reason, message: job.message, startTime: job.startTime };
}

function succeededCondition(phase: TrainingRunPhase, o: Outcome, generation?: number): Condition {
  const status = phase === 'Succeeded' ? 'True' : phase === 'Failed' ? 'False' : 'Unknown';
  return {
    type: C.Succeeded,
    status,
    reason: o.reason,
    message: o.message,
    observedGeneration: generation,
    lastTransitionTime: '',
  };
}

const cond = (c: Omit<Condition, 'lastTransitionTime'>): Condition => ({ ...c, lastTransitionTime: '' });

/** Sets or removes SpecChangedAfterStart: the Job is never changed after it was created. */
export function specChangedCondition(run: TrainingRun, conditions: Condition[], now: Date): Condition[] {
  const generation = run.metadata.generation;
  const jobGeneration = run.status?.jobGeneration;
  if (jobGeneration === undefined || generation === undefined || generation <= jobGeneration) {
    return conditions.filter((c) => c.type !== C.SpecChangedAfterStart);
  }
  return setConditionAt(
    conditions,
    cond({
      type: C.SpecChangedAfterStart,
      status: 'True',
      reason: 'SpecChangedAfterStart',
      observedGeneration: generation,
      message:
        `spec changed (generation ${generation}) after Job ${run.status?.jobName} was created from generation ${jobGeneration}; ` +
        'the Job keeps running as created. Create a new TrainingRun to train with the new spec.',
    }),
    now,
  );
}

/** The status after this observation (pure). Registration fields are left as they were. */
export function computeTrainingStatus(run: TrainingRun, obs: TrainingObservation, now: Date): TrainingRunStatus {
  const prev = run.status ?? {};
  const generation = run.metadata.generation;
  const next: TrainingRunStatus = { ...prev, observedGeneration: generation };
  if (!isTerminal(prev.phase)) {
    const o = outcomeOf(obs, isoSeconds(now));
    const phase = nextPhase(prev.phase, o.phase);
    next.phase = phase;
    if (o.startTime ?? prev.startTime) next.startTime = o.startTime ?? prev.startTime;
    if (isTerminal(phase)) next.completionTime = o.completionTime;
    if (o.metrics) next.metrics = o.metrics;
    if (o.artifact) next.artifact = o.artifact;
    next.conditions = setConditionAt(prev.conditions, succeededCondition(phase, o, generation), now);
  }
  next.conditions = specChangedCondition(run, next.conditions ?? [], now);
  return next;
}

export type RegistrationState =
  | { kind: 'disabled' }
  | { kind: 'gatesFailed'; gates: TrainingRunStatusRegistrationGate[]; message: string }
  | { kind: 'registering'; gates: TrainingRunStatusRegistrationGate[]; name: string }
  | { kind: 'registered'; gates: TrainingRunStatusRegistrationGate[]; name: string };

/** Records the registration outcome in a (succeeded) run's status (pure). */
export function withRegistration(
  status: TrainingRunStatus,
  state: RegistrationState,
  generation: number | undefined,
  now: Date,
): TrainingRunStatus {
  const next: TrainingRunStatus = { ...status };
  const set = (c: Omit<Condition, 'lastTransitionTime' | 'type' | 'observedGeneration'>) => {
    next.conditions = setConditionAt(
      next.conditions,
      cond({ type: C.Registered, observedGeneration: generation, ...c }),
      now,
    );
  };
  switch (state.kind) {
    case 'disabled':
      set({
        status: 'False',
        reason: 'RegistrationDisabled',
        message: 'spec.registration.enabled is false; no ModelVersion is registered',
      });
      break;
    case 'gatesFailed':
      next.registration = { gates: state.gates };
      set({ status: 'False', reason: 'GatesFailed', message: `not registered: ${state.message}` });
      break;
    case 'registering':
      next.registration = state.gates.length ? { gates: state.gates } : next.registration;
      next.modelVersion = state.name;
      set({ status: 'Unknown', reason: 'Registering', message: `registering ModelVersion ${state.name}` });
      break;
    case 'registered':
      next.registration = state.gates.length ? { gates: state.gates } : next.registration;
      next.modelVersion = state.name;
      set({ status: 'True', reason: 'Registered', message: `registered ModelVersion ${state.name}` });
      break;
  }
  return next;
}

const conditionOf = (s: TrainingRunStatus | undefined, t: string): Condition | undefined =>
  s?.conditions?.find((c) => c.type === t);

/** Events for what changed between two statuses (pure), so repeats of one state stay silent. */
export function transitionEvents(prev: TrainingRunStatus | undefined, next: TrainingRunStatus): StatusEvent[] {
  const events = [
    succeededEvent(conditionOf(prev, C.Succeeded), conditionOf(next, C.Succeeded), next.phase),
    registeredEvent(conditionOf(prev, C.Registered), conditionOf(next, C.Registered)),
    specChangedEvent(conditionOf(prev, C.SpecChangedAfterStart), conditionOf(next, C.SpecChangedAfterStart)),
  ];
  return events.filter((e): e is StatusEvent => e !== undefined);
}

const changed = (before: Condition | undefined, after: Condition) =>
  after.reason !== before?.reason || after.status !== before?.status;

/** The run's progress: succeeded, failed, running, or stuck (a pending pod is not news). */
function succeededEvent(
  before: Condition | undefined,
  after: Condition | undefined,
  phase: TrainingRunStatus['phase'],
): StatusEvent | undefined {
  if (!after || !changed(before, after)) return undefined;
  if (phase === 'Succeeded')
    return { type: 'Normal', reason: 'Succeeded', message: `Training succeeded: ${after.message}` };
  if (phase === 'Failed')
    return { type: 'Warning', reason: after.reason, message: `Training failed: ${after.message}` };
  if (after.reason === 'JobRunning') return { type: 'Normal', reason: 'Running', message: 'Training pod is running' };
  if (after.reason !== 'JobPending') return { type: 'Warning', reason: after.reason, message: after.message };
  return undefined;
}

/** The registration's outcome; the intermediate Registering step is not news. */
function registeredEvent(before: Condition | undefined, after: Condition | undefined): StatusEvent | undefined {
  if (!after || !changed(before, after) || after.reason === 'Registering') return undefined;
  return {
    type: after.status === 'True' ? 'Normal' : after.reason === 'GatesFailed' ? 'Warning' : 'Normal',
    reason: after.reason,
    message: after.message,
  };
}

function specChangedEvent(before: Condition | undefined, after: Condition | undefined): StatusEvent | undefined {
  if (!after || after.observedGeneration === before?.observedGeneration) return undefined;
  return { type: 'Warning', reason: after.reason, message: after.message };
}
