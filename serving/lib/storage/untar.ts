// A streaming reader of tar archives (ustar, GNU long names, pax `path`/`size`), here because
// the serving image is distroless: there is no tar or gzip binary to call. Entries are written
// as they arrive (nothing buffered beyond a header), through the byte budget, so an archive
// that unpacks past --max-bytes stops there. Only regular files and folders are extracted:
// links and devices are refused (a link could aim a later entry outside the folder).
import { mkdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { StorageError } from './errors.js';
import { safeJoin, streamToFile, type ByteBudget } from './transfer.js';

const BLOCK = 512;

class ByteReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  constructor(private readonly source: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<boolean> {
    while (this.length < n && !this.ended) {
      const next = await this.source.next();
      if (next.done) this.ended = true;
      else {
        this.chunks.push(next.value);
        this.length += next.value.length;
      }
    }
    return this.length >= n;
  }

  private shift(max: number): Buffer {
    const head = this.chunks[0];
    if (head.length <= max) {
      this.chunks.shift();
      this.length -= head.length;
      return head;
    }
    this.chunks[0] = head.subarray(max);
    this.length -= max;
    return head.subarray(0, max);
  }

  /** Exactly `n` bytes, or undefined at the end of the stream. */
  async take(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined;
    const parts: Buffer[] = [];
    for (let left = n; left > 0;) {
      const part = this.shift(left);
      parts.push(part);
      left -= part.length;
    }
    return Buffer.concat(parts);
  }

  /** `n` bytes as a stream of chunks (file data: never more than a chunk in memory). */
  async *stream(n: number): AsyncGenerator<Buffer> {
    for (let left = n; left > 0;) {
      if (!(await this.fill(1))) throw invalid('the archive ends inside a file');
      const part = this.shift(left);
      left -= part.length;
      yield part;
    }
  }
}

const padTo = (size: number) => Math.ceil(size / BLOCK) * BLOCK;
const invalid = (why: string) => new StorageError('InvalidArchive', why);

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  if (block[start] & 0x80) {
    // GNU base-256 for values that do not fit the octal field
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + block[i];
    return value;
  }
  const digits = text(block, start, length).trim();
  return digits ? parseInt(digits, 8) : 0;
}

interface Header {
  name: string;
  size: number;
  type: string;
}

function parseHeader(block: Buffer): Header | undefined {
  if (block.every((b) => b === 0)) return undefined;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  if (sum !== octal(block, 148, 8)) throw invalid('not a tar archive (header checksum mismatch)');
  const prefix = text(block, 257, 6).startsWith('ustar') ? text(block, 345, 155) : '';
  const name = text(block, 0, 100);
  return { name: prefix ? `${prefix}/${name}` : name, size: octal(block, 124, 12), type: text(block, 156, 1) || '0' };
}

/** pax records "<len> key=value\n": the ones that matter here are path and size. */
function parsePax(data: Buffer): { path?: string; size?: number } {
  const out: { path?: string; size?: number } = {};
  for (const line of data.toString('utf8').split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/s.exec(line);
    if (m?.[1] === 'path') out.path = m[2];
    if (m?.[1] === 'size') out.size = Number(m[2]);
  }
  return out;
}

export interface ExtractResult {
  files: number;
  bytes: number;
}

interface Pending {
  path?: string;
  size?: number;
}

/** Extracts one entry; returns the bytes written (0 for folders and metadata entries). */
async function extractEntry(reader: ByteReader, header: Header, pending: Pending, target: ExtractTarget) {
  if (header.type === 'x' || header.type === 'L') {
    const data = (await reader.take(padTo(header.size)))?.subarray(0, header.size);
    if (!data) throw invalid('the archive ends inside a header');
    if (header.type === 'L') pending.path = text(data, 0, data.length);
    else Object.assign(pending, parsePax(data));
    return { bytes: 0, file: false };
  }
  const size = pending.size ?? header.size;
  const padded = padTo(size);
  const name = (pending.path ?? header.name).replace(/^(\.\/)+/, '');
  pending.path = pending.size = undefined;
  let bytes = 0;
  if (header.type === '0' || header.type === '7') {
    const path = safeJoin(target.dir, name, `${target.source}: ${name}`);
    bytes = await streamToFile(Readable.from(reader.stream(size)), path, target.budget);
    await reader.take(padded - size);
  } else if (header.type === '5') {
    if (name && name !== '.' && name !== './')
      await mkdir(safeJoin(target.dir, name, target.source), { recursive: true });
  } else if (header.type === 'g' || header.type === 'K') {
    await reader.take(padded);
  } else throw invalid(`${name}: entries of tar type "${header.type}" (links, devices) are not extracted`);
  return { bytes, file: header.type === '0' || header.type === '7' };
}

export interface ExtractTarget {
  dir: string;
  budget: ByteBudget;
  source: string;
}

/** Unpacks a tar (gzip-compressed when `gzip`) stream into `target.dir`. */
export async function extractTar(input: Readable, gzip: boolean, target: ExtractTarget): Promise<ExtractResult> {
  let stream: Readable = input;
  if (gzip) {
    const gunzip = createGunzip();
    input.on('error', (err) => gunzip.destroy(err));
    stream = input.pipe(gunzip);
  }
  const reader = new ByteReader(stream[Symbol.asyncIterator]());
  const result = { files: 0, bytes: 0 };
  const pending: Pending = {};
  try {
    for (;;) {
      const block = await reader.take(BLOCK);
      const header = block && parseHeader(block);
      if (!header) break;
      const entry = await extractEntry(reader, header, pending, target);
      if (entry.file) result.files++;
      result.bytes += entry.bytes;
    }
  } catch (err) {
    target.budget.release(result.bytes);
    const code = (err as { code?: string }).code ?? '';
    if (code.startsWith('Z_')) throw new StorageError('InvalidArchive', `${target.source}: not gzip data (${code})`);
    if (err instanceof StorageError && err.reason === 'InvalidArchive' && !err.message.startsWith(target.source))
      err.message = `${target.source}: ${err.message}`;
    throw err;
  } finally {
    stream.destroy();
  }
  return result;
}
