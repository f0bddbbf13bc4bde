// Routing decisions, pure and synchronous: given the current table and a request's headers,
// which upstream serves it and whether a mirror copy goes out. No sockets here, so the
// statistics (weights, stickiness, mirror share) are unit-testable without a network.
//
// Unpinned, non-sticky traffic uses smooth weighted round-robin (the nginx algorithm) rather
// than weighted random: every window of sum(weights) requests holds exactly each upstream's
// share, so a canary at 10% gets its 10% even at low traffic, which is what the canary
// analysis's `minRequests` counts on; random choice would add binomial noise (±3 requests
// per 100 at 10%) and could starve a 1% canary for a long time.
import type { RouterConfig, Upstream } from './config.js';

export const VERSION_HEADER = 'x-modelship-version';
export const ROLE_HEADER = 'x-modelship-role';

export type RouteReason = 'pinned-version' | 'pinned-role' | 'sticky' | 'weighted';
export type Route =
  { upstream: Upstream; reason: RouteReason } | { upstream: undefined; code: 'NO_UPSTREAM'; message: string };

type Headers = Record<string, string | string[] | undefined>;

function single(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? undefined : v;
}

/** Reads one cookie from a Cookie header without a cookie library (values are opaque keys). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

/**
 * Maps a key to [0, 1): FNV-1a over UTF-16 code units, then murmur3's fmix32 finaliser so that
 * similar keys ("user-1", "user-2") spread over the whole range instead of clustering.
 */
export function hashToUnit(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

export class RoutingTable {
  private readonly weighted: Upstream[];
  private readonly total: number;
  private readonly current: number[];
  private readonly mirrorUpstream: Upstream | undefined;
  private mirrorCredit = 0;

  constructor(readonly config: RouterConfig) {
    this.weighted = config.upstreams.filter((u) => u.weight > 0);
    this.total = this.weighted.reduce((sum, u) => sum + u.weight, 0);
    this.current = this.weighted.map(() => 0);
    const m = config.mirror;
    this.mirrorUpstream = m && m.percent > 0 ? config.upstreams.find((u) => u.role === m.role) : undefined;
  }

  /** Chooses the upstream for a request: version pin, role pin, sticky key, then weights. */
  route(headers: Headers): Route {
    const version = single(headers[VERSION_HEADER]);
    if (version !== undefined) {
      const pinned = this.byHighestWeight(this.config.upstreams.filter((u) => u.version === version));
      return pinned
        ? { upstream: pinned, reason: 'pinned-version' }
        : {
            upstream: undefined,
            code: 'NO_UPSTREAM',
            message: `no upstream serves version "${version}" of model "${this.config.model}"`,
          };
    }
    const role = single(headers[ROLE_HEADER]);
    if (role !== undefined) {
      const pinned = this.config.upstreams.find((u) => u.role === role);
      return pinned
        ? { upstream: pinned, reason: 'pinned-role' }
        : {
            upstream: undefined,
            code: 'NO_UPSTREAM',
            message: `no upstream has role "${role}" for model "${this.config.model}"`,
          };
    }
    if (this.weighted.length === 0) {
      return {
        upstream: undefined,
        code: 'NO_UPSTREAM',
        message: `no upstream with a positive weight for model "${this.config.model}"`,
      };
    }
    const key = this.stickyKey(headers);
    if (key !== undefined) return { upstream: this.atPoint(hashToUnit(key) * this.total), reason: 'sticky' };
    return { upstream: this.nextWeighted(), reason: 'weighted' };
  }

  /**
   * The upstream that should receive a copy of this request, if any. Deterministic credit
   * counter: exactly `percent` % of eligible requests are mirrored. Requests already served by
   * the mirror role are not copied to it again.
   */
  mirrorFor(primary: Upstream): Upstream | undefined {
    const target = this.mirrorUpstream;
    if (!target || target === primary || !this.config.mirror) return undefined;
    this.mirrorCredit += this.config.mirror.percent;
    if (this.mirrorCredit < 100) return undefined;
    this.mirrorCredit -= 100;
    return target;
  }

  private stickyKey(headers: Headers): string | undefined {
    const sticky = this.config.sticky;
    if (!sticky) return undefined;
    if (sticky.header) return single(headers[sticky.header.toLowerCase()]);
    if (sticky.cookie) return readCookie(single(headers.cookie), sticky.cookie);
    return undefined;
  }

  /**
   * Consistent placement onto the weights: upstreams own consecutive slices of [0, total) in
   * config order. With two upstreams, growing one's weight only moves keys *into* it, so a
   * session on the canary stays on the canary as the canary's step grows.
   */
  private atPoint(point: number): Upstream {
    let edge = 0;
    for (const u of this.weighted) {
      edge += u.weight;
      if (point < edge) return u;
    }
    return this.weighted[this.weighted.length - 1];
  }

  private nextWeighted(): Upstream {
    let best = 0;
    for (let i = 0; i < this.weighted.length; i++) {
      this.current[i] += this.weighted[i].weight;
      if (this.current[i] > this.current[best]) best = i;
    }
    this.current[best] -= this.total;
    return this.weighted[best];
  }

  private byHighestWeight(candidates: Upstream[]): Upstream | undefined {
    return candidates.reduce<Upstream | undefined>((a, b) => (a && a.weight >= b.weight ? a : b), undefined);
  }
}
