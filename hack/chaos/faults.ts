// A seeded storm of API server faults (the dev cluster's FaultInjector, in-process or over
// POST /debug/faults): bursts of 500s and 409s, 410 Expired on watches, dropped and reset
// watch streams, compacted history, and 2-second latency on some requests. The plan is pure
// (seed in, actions out) so a failing storm can be replayed exactly.
import type { Rng } from './seed.js';

export interface FaultTarget {
  failNext(rule: { verb?: string; resource?: string; subresource?: string; code: number; count?: number }): unknown;
  addLatency(rule: { verb?: string; resource?: string; latencyMs: number; count?: number }): unknown;
  dropWatches(match?: { resource?: string; abrupt?: boolean }): unknown;
  compact(): unknown;
}

export type FaultAction =
  | { op: 'fail'; verb: string; resource: string; subresource?: string; code: 409 | 410 | 500; count: number }
  | { op: 'latency'; verb: string; resource: string; latencyMs: number; count: number }
  | { op: 'dropWatches'; abrupt: boolean }
  | { op: 'compact' };

export interface StormOptions {
  /** Resources (plural.group) whose requests fail or slow down. */
  resources: string[];
  actions: number;
  latencyMs?: number;
}

export function planStorm(rng: Rng, o: StormOptions): FaultAction[] {
  const latencyMs = o.latencyMs ?? 2000;
  return Array.from({ length: o.actions }, (): FaultAction => {
    const resource = rng.pick(o.resources);
    switch (rng.int(0, 5)) {
      case 0:
        return {
          op: 'fail',
          verb: rng.pick(['create', 'update', 'patch', 'get', 'list']),
          resource,
          code: 500,
          count: rng.int(1, 5),
        };
      case 1:
        return { op: 'fail', verb: 'update', resource, subresource: 'status', code: 409, count: rng.int(1, 4) };
      case 2:
        return { op: 'fail', verb: 'watch', resource, code: 410, count: 1 };
      case 3:
        return { op: 'dropWatches', abrupt: rng.next() < 0.5 };
      case 4:
        return { op: 'compact' };
      default:
        return {
          op: 'latency',
          verb: rng.pick(['get', 'list', 'update', 'create', 'patch']),
          resource,
          latencyMs,
          count: rng.int(1, 3),
        };
    }
  });
}

export function applyFault(target: FaultTarget, a: FaultAction): void {
  switch (a.op) {
    case 'fail':
      target.failNext({
        verb: a.verb,
        resource: a.resource,
        ...(a.subresource ? { subresource: a.subresource } : {}),
        code: a.code,
        count: a.count,
      });
      break;
    case 'latency':
      target.addLatency({ verb: a.verb, resource: a.resource, latencyMs: a.latencyMs, count: a.count });
      break;
    case 'dropWatches':
      target.dropWatches({ abrupt: a.abrupt });
      break;
    case 'compact':
      target.compact();
      break;
  }
}

export interface Storm {
  done: Promise<FaultAction[]>;
  stop(): Promise<FaultAction[]>;
}

/** Applies the plan one action every `everyMs` (jittered by the rng) until spent or stopped. */
export function startStorm(target: FaultTarget, plan: FaultAction[], rng: Rng, everyMs: [number, number]): Storm {
  let stopped = false;
  let wake: (() => void) | undefined;
  const applied: FaultAction[] = [];
  const done = (async () => {
    for (const a of plan) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, rng.int(everyMs[0], everyMs[1]));
      });
      if (stopped) break;
      applyFault(target, a);
      applied.push(a);
    }
    return applied;
  })();
  return {
    done,
    stop: () => {
      stopped = true;
      wake?.();
      return done;
    },
  };
}
