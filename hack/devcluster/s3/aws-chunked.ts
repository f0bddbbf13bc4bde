// Decodes `Content-Encoding: aws-chunked` request bodies, as S3 does before storing them.
// The AWS SDKs send a stream body of known length this way (the JavaScript SDK v3 for every
// PutObject/UploadPart with a stream since its default checksums, with the CRC32 as a trailer);
// s3rver 3.7 does not know the encoding and would store the chunk framing as the object.
// Chunk signatures and trailing checksums are skipped, not verified (README: differences).
import { Transform, type TransformCallback } from 'node:stream';
import type { IncomingHttpHeaders } from 'node:http';

/** Whether the body is aws-chunked: declared by the encoding or by a STREAMING-* payload hash. */
export function isAwsChunked(headers: IncomingHttpHeaders): boolean {
  const encoding = String(headers['content-encoding'] ?? '');
  const payload = String(headers['x-amz-content-sha256'] ?? '');
  return encoding.split(',').some((e) => e.trim() === 'aws-chunked') || payload.startsWith('STREAMING-');
}

/**
 * The headers s3rver should see for the decoded body: the decoded length, no aws-chunked in
 * Content-Encoding (S3 does not store it), no framing headers.
 */
export function decodedHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = { ...headers };
  const rest = String(headers['content-encoding'] ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '' && e !== 'aws-chunked');
  if (rest.length) out['content-encoding'] = rest.join(',');
  else delete out['content-encoding'];
  delete out['transfer-encoding'];
  delete out['x-amz-trailer'];
  const decodedLength = headers['x-amz-decoded-content-length'];
  if (decodedLength !== undefined) out['content-length'] = String(decodedLength);
  else delete out['content-length'];
  delete out['x-amz-decoded-content-length'];
  return out;
}

/** `<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0…\r\n`, then trailer lines and `\r\n`. */
export class AwsChunkedDecoder extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  private remaining = 0;
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      this.drain();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.state === 'done' || (this.state === 'trailer' && this.buf.length === 0)) done();
    else done(new Error(`aws-chunked body ended inside a chunk (${this.state})`));
  }

  private drain(): void {
    for (;;) {
      if (this.state === 'data') {
        if (this.buf.length === 0) return;
        const n = Math.min(this.remaining, this.buf.length);
        this.push(this.buf.subarray(0, n));
        this.buf = this.buf.subarray(n);
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      if (this.state === 'done') return;
      const eol = this.buf.indexOf('\r\n');
      if (eol < 0) {
        if (this.buf.length > 64 * 1024) throw new Error('aws-chunked line longer than 64 KiB');
        return;
      }
      const line = this.buf.subarray(0, eol).toString('latin1');
      this.buf = this.buf.subarray(eol + 2);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (this.state === 'data-end') {
      if (line !== '') throw new Error('aws-chunked chunk not followed by CRLF');
      this.state = 'size';
    } else if (this.state === 'size') {
      const size = parseInt(line.split(';')[0], 16);
      if (!Number.isFinite(size) || size < 0) throw new Error(`bad aws-chunked size line ${JSON.stringify(line)}`);
      this.remaining = size;
      this.state = size === 0 ? 'trailer' : 'data';
    } else if (this.state === 'trailer' && line === '') {
      // Trailer lines (x-amz-checksum-*, x-amz-trailer-signature) are skipped.
      this.state = 'done';
    }
  }
}
