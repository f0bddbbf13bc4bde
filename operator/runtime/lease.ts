// Pure leader-election rules on a coordination.k8s.io/v1 Lease (client-go's algorithm):
// a candidate takes the lease when it is free, released (no holder) or not renewed for its
// duration *as observed locally* (the holder's renewTime is never compared with our clock,
// so clock skew between machines cannot cause two leaders).

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/** The last lease spec we saw and when (our clock) we first saw it. */
export interface LeaseObservation {
  spec: LeaseSpec;
  observedAtMs: number;
}

export type LeaseDecision =
  | { action: 'create'; spec: LeaseSpec; observation: LeaseObservation }
  | { action: 'update'; spec: LeaseSpec; observation: LeaseObservation }
  | { action: 'wait'; holder: string; observation: LeaseObservation };

/** MicroTime as the API server writes it: RFC 3339 with microseconds. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, '000Z');

const sameSpec = (a: LeaseSpec, b: LeaseSpec): boolean =>
  a.holderIdentity === b.holderIdentity &&
  a.renewTime === b.renewTime &&
  a.acquireTime === b.acquireTime &&
  a.leaseDurationSeconds === b.leaseDurationSeconds &&
  a.leaseTransitions === b.leaseTransitions;

/** Who campaigns for the lease, and for how long it claims it each time. */
export interface LeaseCandidate {
  identity: string;
  leaseDurationSeconds: number;
}

/**
 * Decides what `candidate` does with the lease now. `current` is undefined when the Lease does
 * not exist; `previous` is our earlier observation.
 */
export function decideLease(
  current: LeaseSpec | undefined,
  previous: LeaseObservation | undefined,
  candidate: LeaseCandidate,
  nowMs: number,
): LeaseDecision {
  const { identity, leaseDurationSeconds } = candidate;
  const mine = (transitions: number, acquireTime: string): LeaseSpec => ({
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime,
    renewTime: microTime(nowMs),
    leaseTransitions: transitions,
  });
  if (!current) {
    const spec = mine(0, microTime(nowMs));
    return { action: 'create', spec, observation: { spec, observedAtMs: nowMs } };
  }
  const observation = previous && sameSpec(previous.spec, current) ? previous : { spec: current, observedAtMs: nowMs };
  const holder = current.holderIdentity ?? '';
  const durationMs = (current.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
  if (holder && holder !== identity && observation.observedAtMs + durationMs > nowMs) {
    return { action: 'wait', holder, observation };
  }
  const transitions = current.leaseTransitions ?? 0;
  const spec =
    holder === identity
      ? mine(transitions, current.acquireTime ?? microTime(nowMs))
      : mine(transitions + 1, microTime(nowMs));
  return { action: 'update', spec, observation };
}

/** The spec a leader writes when it steps down, so a successor need not wait out the lease. */
export function releasedSpec(current: LeaseSpec, nowMs: number): LeaseSpec {
  return { ...current, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(nowMs) };
}
