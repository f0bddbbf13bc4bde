// Kills processes at random points: a plan (pure, from the seed) of how long each incarnation
// lives and how long it stays down, then a loop that carries it out until the plan is spent
// or the test says stop. Kill times are relative, so the same seed gives the same rhythm.
import type { ChaosProcess, KillRecord } from './process.js';
import type { Rng } from './seed.js';

export interface KillStep {
  /** Index into the targets. */
  target: number;
  /** Time the target runs before SIGKILL (ms). */
  upMs: number;
  /** Time it stays dead before the restart (ms). */
  downMs: number;
}

export interface KillPlanOptions {
  kills: number;
  targets: number;
  upMs: [number, number];
  downMs: [number, number];
}

export function planKills(rng: Rng, o: KillPlanOptions): KillStep[] {
  return Array.from({ length: o.kills }, () => ({
    target: rng.int(0, o.targets - 1),
    upMs: rng.int(o.upMs[0], o.upMs[1]),
    downMs: rng.int(o.downMs[0], o.downMs[1]),
  }));
}

export interface Monkey {
  /** Resolves when the plan is spent (every target running again). */
  done: Promise<KillRecord[]>;
  /** Ends the plan early; every target is left running. */
  stop(): Promise<KillRecord[]>;
}

export function startMonkey(targets: ChaosProcess[], plan: KillStep[], onKill?: (k: KillRecord) => void): Monkey {
  const abort = new AbortController();
  const records: KillRecord[] = [];
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  const done = (async () => {
    for (const step of plan) {
      await sleep(step.upMs);
      if (abort.signal.aborted) break;
      const target = targets[step.target];
      const k = await target.kill();
      if (k) {
        records.push(k);
        onKill?.(k);
      }
      await sleep(step.downMs);
      if (!target.running) target.start();
      if (abort.signal.aborted) break;
    }
    for (const t of targets) if (!t.running) t.start();
    return records;
  })();
  return {
    done,
    stop: () => {
      abort.abort();
      return done;
    },
  };
}
