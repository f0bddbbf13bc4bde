// The replay memory's journal: every entry is appended to a file as it is added, and read back
// when the process starts, so a restarted server (a crash, an OOM kill, a liveness restart: the
// container restarts in the same pod, its emptyDir kept) still refuses what it counted before.
// Records are fixed-size: the 17-byte key and the expiry (ms, float64). The file is rewritten
// with only the live entries at start and whenever it holds more than twice as many as the
// memory, so it stays within a few times capacity × 25 bytes.
import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';

const KEY_BYTES = 17;
const RECORD_BYTES = KEY_BYTES + 8;

export interface JournalEntry {
  key: string;
  expiresAtMs: number;
}

export class ReplayJournal {
  private fd: number;
  private records = 0;

  /** Opens `path`, returning the live entries it holds (expired and torn records dropped). */
  static open(path: string, nowMs = Date.now()): { journal: ReplayJournal; entries: JournalEntry[] } {
    const entries = existsSync(path) ? readEntries(readFileSync(path), nowMs) : [];
    const journal = new ReplayJournal(path);
    journal.rewrite(entries);
    return { journal, entries };
  }

  private constructor(private readonly path: string) {
    this.fd = -1;
  }

  append(key: string, expiresAtMs: number): void {
    writeSync(this.fd, encode(key, expiresAtMs));
    this.records++;
  }

  /** Rewrites the file with `live` when it has grown past twice that many records. */
  compactIfLarge(live: () => JournalEntry[], liveCount: number): void {
    if (this.records > 2 * liveCount + 1024) this.rewrite(live());
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Atomic: a crash mid-rewrite leaves the old file whole. */
  private rewrite(entries: JournalEntry[]): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, Buffer.concat(entries.map((e) => encode(e.key, e.expiresAtMs))));
    renameSync(tmp, this.path);
    this.close();
    this.fd = openSync(this.path, 'a');
    this.records = entries.length;
  }
}

function encode(key: string, expiresAtMs: number): Buffer {
  const record = Buffer.alloc(RECORD_BYTES);
  record.write(key, 0, KEY_BYTES, 'latin1');
  record.writeDoubleLE(expiresAtMs, KEY_BYTES);
  return record;
}

function readEntries(data: Buffer, nowMs: number): JournalEntry[] {
  const entries: JournalEntry[] = [];
  // A record torn by a crash mid-write is the last, partial one: dropped.
  for (let at = 0; at + RECORD_BYTES <= data.length; at += RECORD_BYTES) {
    const expiresAtMs = data.readDoubleLE(at + KEY_BYTES);
    if (expiresAtMs > nowMs) entries.push({ key: data.toString('latin1', at, at + KEY_BYTES), expiresAtMs });
  }
  return entries;
}
