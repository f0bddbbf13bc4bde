// When and how a container's probes run, and what their results mean, as the kubelet's prober
// manager does: startup first (gating the others), readiness toggling `ready`, liveness and a
// failed startup restarting the container, each after initialDelaySeconds and every
// periodSeconds, with consecutive-result thresholds.
import type { ProbeResult } from './probes.js';

export interface ProbeCounter {
  successes: number;
  failures: number;
}

export type ProbeVerdict = 'success' | 'failure' | 'unchanged';

/** Counts consecutive results against successThreshold / failureThreshold (pure). */
export function countResult(
  counter: ProbeCounter,
  ok: boolean,
  probe: { successThreshold?: number; failureThreshold?: number },
): ProbeVerdict {
  if (ok) {
    counter.failures = 0;
    counter.successes++;
    return counter.successes >= (probe.successThreshold ?? 1) ? 'success' : 'unchanged';
  }
  counter.successes = 0;
  counter.failures++;
  return counter.failures >= (probe.failureThreshold ?? 3) ? 'failure' : 'unchanged';
}

export interface ProbedContainer {
  spec: any;
  started: boolean;
  ready: boolean;
}

export interface ProbeHooks {
  /** False once this container instance exited or the pod is stopping. */
  alive(): boolean;
  later(ms: number, fn: () => void): void;
  run(probe: any): Promise<ProbeResult>;
  changed(): void;
  unhealthy(kind: 'Startup' | 'Readiness' | 'Liveness', message: string): void;
  restart(reason: 'startup' | 'liveness'): void;
}

export function scheduleProbes(c: ProbedContainer, hooks: ProbeHooks): void {
  const loop = (probe: any, onResult: (ok: boolean, message: string) => void, gate: () => boolean) => {
    const period = (probe.periodSeconds ?? 10) * 1000;
    const tick = async () => {
      if (!hooks.alive()) return;
      if (gate()) {
        const result = await hooks.run(probe);
        if (!hooks.alive()) return;
        onResult(result.success, result.message ?? '');
      }
      hooks.later(period, () => void tick());
    };
    hooks.later((probe.initialDelaySeconds ?? 0) * 1000, () => void tick());
  };
  const set = (field: 'started' | 'ready', value: boolean) => {
    if (c[field] === value) return;
    c[field] = value;
    hooks.changed();
  };

  const { startupProbe, readinessProbe, livenessProbe } = c.spec;
  if (startupProbe) {
    const counter = { successes: 0, failures: 0 };
    loop(
      startupProbe,
      (ok, message) => {
        if (!ok) hooks.unhealthy('Startup', message);
        const verdict = countResult(counter, ok, { ...startupProbe, successThreshold: 1 });
        if (verdict === 'success') set('started', true);
        else if (verdict === 'failure') hooks.restart('startup');
      },
      () => !c.started,
    );
  }
  if (readinessProbe) {
    const counter = { successes: 0, failures: 0 };
    loop(
      readinessProbe,
      (ok, message) => {
        if (!ok) hooks.unhealthy('Readiness', message);
        const verdict = countResult(counter, ok, readinessProbe);
        if (verdict !== 'unchanged') set('ready', verdict === 'success');
      },
      () => c.started,
    );
  } else {
    // Without a readiness probe a container is ready once it has started.
    const markReady = () => {
      if (!hooks.alive()) return;
      if (c.started) set('ready', true);
      else hooks.later(200, markReady);
    };
    markReady();
  }
  if (livenessProbe) {
    const counter = { successes: 0, failures: 0 };
    loop(
      livenessProbe,
      (ok, message) => {
        if (!ok) hooks.unhealthy('Liveness', message);
        if (countResult(counter, ok, { ...livenessProbe, successThreshold: 1 }) === 'failure')
          hooks.restart('liveness');
      },
      () => c.started,
    );
  }
}
