// What this process last applied to children it does not watch (a router's ServiceAccount,
// Role and RoleBinding, an HPA, the feedback Secret). Children of watched kinds are compared
// with the informer cache; for the others an unchanged intent would otherwise cost one PATCH
// per reconcile, and a canary reconciles every second. An entry is trusted for `ttlMs` only,
// so a child deleted or edited behind the operator's back is restored within that time (and
// at every operator start), the way controller-runtime's periodic resync would.
import { semanticEqual } from './status.js';

export interface AppliedMemoOptions {
  /** How long a remembered apply stands in for a fresh one (default 10 minutes). */
  ttlMs?: number;
  /** Keys remembered at most (oldest forgotten first; default 10 000). */
  maxKeys?: number;
}

interface Entry {
  intent: unknown;
  at: number;
}

export class AppliedMemo {
  private readonly byKey = new Map<string, Entry>();
  private readonly ttlMs: number;
  private readonly maxKeys: number;

  constructor(opts: AppliedMemoOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 600_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
  }

  /** Whether `intent` for `key` was applied less than ttlMs ago (so applying it again is a no-op). */
  isCurrent(key: string, intent: unknown, nowMs: number): boolean {
    const entry = this.byKey.get(key);
    return !!entry && nowMs - entry.at < this.ttlMs && semanticEqual(entry.intent, intent);
  }

  /** `intent` for `key` was just applied successfully. */
  remember(key: string, intent: unknown, nowMs: number): void {
    this.byKey.delete(key);
    this.byKey.set(key, { intent: structuredClone(intent), at: nowMs });
    while (this.byKey.size > this.maxKeys) this.byKey.delete(this.byKey.keys().next().value as string);
  }

  /** Forget every key starting with `prefix` (an owner went away, or a write failed). */
  forget(prefix: string): void {
    for (const key of [...this.byKey.keys()]) if (key.startsWith(prefix)) this.byKey.delete(key);
  }

  get size(): number {
    return this.byKey.size;
  }
}
