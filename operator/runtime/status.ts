// Pure helpers for writing status only when it changed: a semantic equality that ignores key
// order and absent-vs-undefined fields, and condition setters that keep lastTransitionTime
// unless the condition's status really flipped (the usual cause of writes at steady state).

/** Deep equality for JSON-like values; `{a: undefined}` equals `{}`. */
export function semanticEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => semanticEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!semanticEqual(ao[k], bo[k])) return false;
  return true;
}

/** Drops undefined fields (recursively) so a status round-trips through JSON unchanged. */
export function pruneUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value ?? null)) as T;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/**
 * Returns `conditions` with `next` set (replacing the same type). lastTransitionTime moves only
 * when the status changes, so re-computing the same condition yields an identical list.
 */
export function setCondition(
  conditions: Condition[] | undefined,
  next: Condition,
  now: Date = new Date(),
): Condition[] {
  const list = conditions ?? [];
  const prev = list.find((c) => c.type === next.type);
  const lastTransitionTime =
    prev && prev.status === next.status && prev.lastTransitionTime
      ? prev.lastTransitionTime
      : (next.lastTransitionTime ?? now.toISOString().replace(/\.\d{3}Z$/, 'Z'));
  const merged: Condition = { ...next, lastTransitionTime };
  return prev ? list.map((c) => (c.type === next.type ? merged : c)) : [...list, merged];
}

export const getCondition = (conditions: Condition[] | undefined, type: string): Condition | undefined =>
  conditions?.find((c) => c.type === type);

export const isConditionTrue = (conditions: Condition[] | undefined, type: string): boolean =>
  getCondition(conditions, type)?.status === 'True';
