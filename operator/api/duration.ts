// Durations as the CRDs write them (pattern ^([0-9]+(ms|s|m|h))+$, a subset of Go's
// time.ParseDuration, which is also what CEL's duration() accepts in the CRD rules).

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

export class DurationError extends Error {
  override name = 'DurationError';
}

/** Milliseconds in a duration such as "1m30s" or "500ms". */
export function parseDuration(text: string): number {
  if (!/^([0-9]+(ms|s|m|h))+$/.test(text)) {
    throw new DurationError(`invalid duration ${JSON.stringify(text)}: expected e.g. 30s, 5m or 1h30m`);
  }
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/([0-9]+)(ms|s|m|h)/g)) {
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  }
  return total;
}

/** The shortest duration text for a whole number of milliseconds ("90000" → "1m30s"). */
export function formatDuration(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0) throw new DurationError(`cannot format ${ms} ms as a duration`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit];
  }
  return out;
}
