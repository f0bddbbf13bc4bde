// Routing decisions, pure and synchronous: given the current table and a request's headers,
// which upstream serves it and whether a mirror copy goes out. No sockets here, so the
// statistics (weights, stickiness, mirror share) are unit-testable without a network.
//
// Unpinned, non-sticky traffic is split by shuffled blocks: the positive weights reduced by
// their gcd give a block holding each upstream weight/gcd times (90/10 → 9 stable + 1 canary),
// the block is shuffled (Fisher–Yates), served in order, and reshuffled for the next one.
// - Exact share per block: after every 10 requests at 90/10 the canary has had exactly 1, so a
//   10 % canary reaches the canary analysis's `minRequests` on schedule even at low traffic;
//   independent random choice would add binomial noise (±3 requests per 100 at 10 %) and could
//   starve a 1 % canary for a long time.
// - No aliasing: a deterministic order (the smooth weighted round-robin this replaced) puts the
//   canary at the same slot of every cycle, so a periodic client (a load generator cycling a
//   fixed pool of inputs, batch jobs, retries) whose period shares a factor with the block sent
//   the canary the same input every time (1 input of 10, at 10 %), and its input-drift checks
//   failed for an equally good model. With a fresh shuffle per block every input of such a
//   cycle reaches the canary at its share.
// Weights with no small common unit (a block over MAX_BLOCK entries, e.g. 4999/5002, or weights
// that are not multiples of 10^-6, e.g. 1/3 and 2/3) fall back to an independent weighted
// random choice per request. The random source is injectable (tests seed it); it defaults to
// Math.random.
import type { RouterConfig, Upstream } from './config.js';

export const VERSION_HEADER = 'x-modelship-version';
export const ROLE_HEADER = 'x-modelship-role';

export type RouteReason = 'pinned-version' | 'pinned-role' | 'sticky' | 'weighted' | 'feedback';
export type Route =
  { upstream: Upstream; reason: RouteReason } | { upstream: undefined; code: 'NO_UPSTREAM'; message: string };

type Headers = Record<string, string | string[] | undefined>;

export interface RoutingTableOptions {
  /** Source of uniform numbers in [0, 1) for the weighted split (default Math.random). */
  random?: () => number;
}

/** Longest shuffled block; weights needing more fall back to independent weighted choice. */
export const MAX_BLOCK = 10_000;

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

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Each weight's count in one block (the weights as integers, reduced by their gcd), or
 * undefined when no scale 10^0 … 10^6 makes them all integers or the block would exceed
 * MAX_BLOCK entries.
 */
export function blockCounts(weights: number[]): number[] | undefined {
  if (weights.length === 0) return [];
  for (let scale = 1; scale <= 1e6; scale *= 10) {
    const scaled = weights.map((w) => w * scale);
    const ints = scaled.map((x) => Math.round(x));
    if (scaled.some((x, i) => ints[i] < 1 || Math.abs(x - ints[i]) > 1e-9 * x)) continue;
    const unit = ints.reduce(gcd, 0);
    const counts = ints.map((n) => n / unit);
    return counts.reduce((a, b) => a + b, 0) <= MAX_BLOCK ? counts : undefined;
  }
  return undefined;
}

/** Fisher–Yates, in place. */
function shuffle(items: number[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(random() * (i + 1)));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

export class RoutingTable {
  private readonly weighted: Upstream[];
  private readonly total: number;
  private readonly random: () => number;
  /** Indices into `weighted`, each upstream weight/gcd times; undefined → independent choice. */
  private readonly block: number[] | undefined;
  private cursor: number;
  private readonly mirrorUpstream: Upstream | undefined;
  private mirrorCredit = 0;

  constructor(
    readonly config: RouterConfig,
    options: RoutingTableOptions = {},
  ) {
    this.weighted = config.upstreams.filter((u) => u.weight > 0);
    this.total = this.weighted.reduce((sum, u) => sum + u.weight, 0);
    this.random = options.random ?? Math.random;
    this.block = blockCounts(this.weighted.map((u) => u.weight))?.flatMap((n, i) => new Array<number>(n).fill(i));
    this.cursor = this.block?.length ?? 0; // the first request shuffles
    const m = config.mirror;
    this.mirrorUpstream = m && m.percent > 0 ? config.upstreams.find((u) => u.role === m.role) : undefined;
  }

  /**
   * Chooses the upstream for a request: version pin, role pin (each only from its configured
   * header), sticky key, then weights. Feedback takes no place in the split: any version's pods
   * count it for the version that predicted, so it goes to the highest-weight upstream, and the
   * split of predictions stays exact.
   */
  route(headers: Headers, kind: 'request' | 'feedback' = 'request'): Route {
    const pins = this.config.pins;
    const version = pins?.versionHeader ? single(headers[pins.versionHeader]) : undefined;
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
    const role = pins?.roleHeader ? single(headers[pins.roleHeader]) : undefined;
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
    if (kind === 'feedback') return { upstream: this.byHighestWeight(this.weighted)!, reason: 'feedback' };
    const key = this.stickyKey(headers);
    if (key !== undefined) return { upstream: this.atPoint(hashToUnit(key) * this.total), reason: 'sticky' };
    return { upstream: this.nextWeighted(), reason: 'weighted' };
  }

  /** The upstream copies go to, if any. */
  mirrorTarget(): Upstream | undefined {
    return this.mirrorUpstream;
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

  /** The next entry of the shuffled block, reshuffled when spent; else an independent draw. */
  private nextWeighted(): Upstream {
    const block = this.block;
    if (!block) return this.atPoint(this.random() * this.total);
    if (this.cursor >= block.length) {
      shuffle(block, this.random);
      this.cursor = 0;
    }
    return this.weighted[block[this.cursor++]];
  }

  private byHighestWeight(candidates: Upstream[]): Upstream | undefined {
    return candidates.reduce<Upstream | undefined>((a, b) => (a && a.weight >= b.weight ? a : b), undefined);
  }
}
