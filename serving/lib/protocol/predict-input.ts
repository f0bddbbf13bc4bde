// The accepted /predict request shapes → a list of encoded images or of feature rows.
//   multipart/form-data    one or more parts named "file"
//   image/*, application/octet-stream   the body is one encoded image
//   application/json       {"image": b64} | {"images": [b64, ...]}            (image models)
//                          {"inputs": {"<tensor>": row | [row, ...]}}          (tensor models)
//                          {"inputs": {"<feature>": number | [number, ...], ...}}
//                          {"inputs": [{"<feature>": number, ...}, ...]}
import busboy from 'busboy';
import { Readable } from 'node:stream';
import { ServingError } from '../errors.js';
import type { Signature, TensorInput } from '../model/schema.js';
import { mediaTypeOfHeader, parseJson, type JsonLimits } from './body.js';

export type PredictInput = { kind: 'images'; images: Buffer[] } | { kind: 'rows'; rows: unknown[] };

export interface PredictLimits extends JsonLimits {
  maxImages: number;
  maxBodyBytes: number;
}

/** contentType: the request's content-type header as sent (multipart needs its boundary). */
export async function parsePredictBody(
  contentType: string,
  body: Buffer,
  sig: Signature,
  limits: PredictLimits,
): Promise<PredictInput> {
  const mediaType = mediaTypeOfHeader(contentType);
  let input: PredictInput;
  if (mediaType === 'multipart/form-data')
    input = { kind: 'images', images: await parseMultipart(contentType, body, limits) };
  else if (mediaType.startsWith('image/') || mediaType === 'application/octet-stream')
    input = { kind: 'images', images: [body] };
  else if (mediaType === 'application/json' || mediaType.endsWith('+json'))
    input = parseJsonInput(parseJson(body, limits), sig);
  else
    throw new ServingError(
      'UNSUPPORTED_MEDIA_TYPE',
      `content-type "${mediaType || '(none)'}" is not accepted; send multipart/form-data, image/*, or application/json`,
    );
  const count = input.kind === 'images' ? input.images.length : input.rows.length;
  if (count === 0) throw new ServingError('INVALID_INPUT', 'request holds no input');
  if (count > limits.maxImages)
    throw new ServingError('PAYLOAD_TOO_LARGE', `request holds ${count} inputs, over the limit of ${limits.maxImages}`);
  if (input.kind === 'images' && sig.input.kind !== 'image')
    throw new ServingError('INVALID_INPUT', `model "${sig.name}" takes a tensor input; send {"inputs": {...}}`);
  if (input.kind === 'rows' && sig.input.kind !== 'tensor')
    throw new ServingError('INVALID_INPUT', `model "${sig.name}" takes images; send an image`);
  return input;
}

function parseMultipart(contentType: string, body: Buffer, limits: PredictLimits): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      bb = busboy({
        headers: { 'content-type': contentType },
        limits: {
          files: limits.maxImages + 1,
          fileSize: limits.maxBodyBytes,
          fields: 20,
          parts: limits.maxImages + 21,
        },
      });
    } catch (err) {
      reject(new ServingError('INVALID_INPUT', `multipart body: ${(err as Error).message}`, { cause: err }));
      return;
    }
    const files: Buffer[] = [];
    const pending: Promise<void>[] = [];
    let failed = false;
    const fail = (err: ServingError) => {
      if (!failed) {
        failed = true;
        reject(err);
      }
    };
    bb.on('file', (field, stream) => {
      // A truncated body makes busboy fail the part's stream too; without a listener that
      // error would be thrown. The request-level 'error' below reports it.
      stream.on('error', () => undefined);
      if (field !== 'file') {
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      pending.push(
        new Promise((done) => {
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            files.push(Buffer.concat(chunks));
            done();
          });
          stream.once('error', () => done());
        }),
      );
    });
    bb.on('filesLimit', () =>
      fail(new ServingError('PAYLOAD_TOO_LARGE', `more than ${limits.maxImages} files in one request`)),
    );
    bb.on('error', (err: Error) =>
      fail(new ServingError('INVALID_INPUT', `multipart body: ${err.message}`, { cause: err })),
    );
    bb.on('close', () => {
      void Promise.all(pending).then(() => {
        if (failed) return;
        if (files.length === 0) fail(new ServingError('INVALID_INPUT', 'multipart body has no part named "file"'));
        else resolve(files);
      });
    });
    Readable.from([body]).pipe(bb);
  });
}

function decodeBase64Image(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || value.length === 0)
    throw new ServingError('INVALID_INPUT', `${where} must be a base64 string`);
  const data = value.startsWith('data:') ? value.slice(value.indexOf(',') + 1) : value;
  if (!/^[A-Za-z0-9+/_\-\s]*={0,2}\s*$/.test(data))
    throw new ServingError('INVALID_INPUT', `${where} is not valid base64`);
  return Buffer.from(data, 'base64');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJsonInput(json: unknown, sig: Signature): PredictInput {
  if (!isObject(json))
    throw new ServingError(
      'INVALID_INPUT',
      'JSON body must be an object: {"image": ...}, {"images": [...]} or {"inputs": {...}}',
    );
  if ('image' in json) return { kind: 'images', images: [decodeBase64Image(json.image, 'image')] };
  if ('images' in json) {
    if (!Array.isArray(json.images))
      throw new ServingError('INVALID_INPUT', 'images must be an array of base64 strings');
    return { kind: 'images', images: json.images.map((v, i) => decodeBase64Image(v, `images[${i}]`)) };
  }
  if ('inputs' in json) {
    if (sig.input.kind !== 'tensor')
      throw new ServingError('INVALID_INPUT', `model "${sig.name}" takes images; send {"image": "<base64>"}`);
    return { kind: 'rows', rows: rowsFromInputs(json.inputs, sig.input) };
  }
  throw new ServingError('INVALID_INPUT', 'JSON body needs "image", "images" or "inputs"');
}

/** The three spellings of tabular input → rows in the signature's feature order. */
export function rowsFromInputs(inputs: unknown, input: TensorInput): unknown[] {
  if (Array.isArray(inputs)) return inputs.map((record, i) => rowFromRecord(record, input, `inputs[${i}]`));
  if (!isObject(inputs)) throw new ServingError('WRONG_TENSOR', 'inputs must be an object or an array of objects');
  if (input.tensor in inputs) {
    const value = inputs[input.tensor];
    if (!Array.isArray(value))
      throw new ServingError('WRONG_TENSOR', `inputs.${input.tensor} must be a row or an array of rows`);
    return value.every((v) => typeof v === 'number') ? [value] : value;
  }
  const missing = input.features.filter((f) => !(f in inputs));
  if (missing.length)
    throw new ServingError(
      'WRONG_TENSOR',
      `inputs misses feature(s) ${missing.join(', ')} (or give "${input.tensor}": [[...]])`,
    );
  const columns = input.features.map((f) => inputs[f]);
  if (columns.every((c) => typeof c === 'number')) return [columns];
  if (!columns.every(Array.isArray))
    throw new ServingError('WRONG_TENSOR', 'each feature must be a number, or all must be arrays of the same length');
  const n = (columns[0] as unknown[]).length;
  if (columns.some((c) => (c as unknown[]).length !== n))
    throw new ServingError('WRONG_TENSOR', 'feature arrays have different lengths');
  return Array.from({ length: n }, (_, r) => columns.map((c) => (c as unknown[])[r]));
}

function rowFromRecord(record: unknown, input: TensorInput, where: string): unknown[] {
  if (!isObject(record)) throw new ServingError('WRONG_TENSOR', `${where} must be an object of feature values`);
  const missing = input.features.filter((f) => !(f in record));
  if (missing.length) throw new ServingError('WRONG_TENSOR', `${where} misses feature(s) ${missing.join(', ')}`);
  return input.features.map((f) => record[f]);
}
