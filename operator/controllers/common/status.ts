// Status pieces the controllers compute theirs with (pure): conditions as the pure status
// functions build them, timestamps as the CRDs print them, and the Events a status change is
// announced with.
import type { Condition } from '../../api/index.js';
import { setCondition } from '../../runtime/status.js';

/**
 * setCondition that takes our empty lastTransitionTime as "now": the pure status functions build
 * conditions without a clock, and setCondition keeps the old time while the status stays.
 */
export function setConditionAt(conditions: Condition[] | undefined, next: Condition, now: Date): Condition[] {
  const { lastTransitionTime: _ignored, ...rest } = next;
  return setCondition(conditions, rest as Condition, now) as Condition[];
}

/** An Event to record for a status transition. */
export interface StatusEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** RFC 3339 to the second, as Kubernetes writes its own timestamps. */
export const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
