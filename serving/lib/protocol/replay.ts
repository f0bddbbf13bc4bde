// The memory of feedback already counted, so a replayed feedback does not count twice within
// the token lifetime. Keyed on the token's decoded MAC (its first 16 bytes: a collision needs
// 2^64 tokens) and the head, so every entry has the same small size whatever was sent, and no
// re-encoding of a token is a new key. Full means refusing, not forgetting: evicting an entry
// before its token expires would let that feedback be counted again.
import { ServingError } from '../errors.js';
import { ReplayJournal } from './replay-journal.js';

const MAC_BYTES_KEPT = 16;

export class ReplayMemory {
  private readonly expiries = new Map<string, number>();
  private journal: ReplayJournal | undefined;

  constructor(readonly capacity: number) {}

  /** A memory kept in `path` too, starting with what it holds: it outlives the process. */
  static journaled(capacity: number, path: string, nowMs = Date.now()): ReplayMemory {
    const memory = new ReplayMemory(capacity);
    const { journal, entries } = ReplayJournal.open(path, nowMs);
    for (const e of entries) memory.expiries.set(e.key, e.expiresAtMs);
    memory.journal = journal;
    return memory;
  }

  static key(mac: Buffer, headIndex: number): string {
    return mac.subarray(0, MAC_BYTES_KEPT).toString('latin1') + String.fromCharCode(headIndex);
  }

  has(key: string, nowMs = Date.now()): boolean {
    const exp = this.expiries.get(key);
    return exp !== undefined && exp > nowMs;
  }

  /** Throws OVERLOADED, naming when room frees up, if the keys do not fit. */
  reserve(count: number, nowMs = Date.now()): void {
    this.prune(nowMs);
    if (this.expiries.size + count <= this.capacity) return;
    const oldest = this.expiries.values().next().value ?? nowMs;
    const retryAfterSeconds = Math.max(1, Math.ceil((oldest - nowMs) / 1000));
    throw new ServingError(
      'OVERLOADED',
      `the replay memory (${this.capacity} entries, --seen-capacity) is full of unexpired feedback; retry in ${retryAfterSeconds}s`,
      { retryAfterSeconds },
    );
  }

  add(key: string, expiresAtMs: number): void {
    this.expiries.set(key, expiresAtMs);
    this.journal?.append(key, expiresAtMs);
    this.journal?.compactIfLarge(
      () => [...this.expiries].map(([k, exp]) => ({ key: k, expiresAtMs: exp })),
      this.expiries.size,
    );
  }

  get size(): number {
    return this.expiries.size;
  }

  /**
   * Drops expired entries from the front. Feedback mostly arrives in the order its tokens were
   * issued, so this frees nearly all; one that lingers behind a later one is still bounded.
   */
  private prune(nowMs: number): void {
    for (const [key, exp] of this.expiries) {
      if (exp > nowMs) break;
      this.expiries.delete(key);
    }
  }
}
