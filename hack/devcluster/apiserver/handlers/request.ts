// Reading a request: its body (JSON, or protobuf from typed client-go clients) and the write
// and delete options carried in its query string and body.
import type { IncomingMessage } from 'node:http';
import { ApiError, errors } from '../errors.js';
import { decodeProtobuf, PROTOBUF } from '../protobuf.js';
import type { KObject } from '../registry.js';
import type { DeleteOptions, WriteOptions } from '../rest.js';
import type { FieldValidation } from '../validation.js';
import type { RequestScope } from './scope.js';

// Event-based rather than `for await`: the async iterator costs measurably on the write path.
function readRaw(req: IncomingMessage): Promise<Buffer> {
  if (req.headers['content-length'] === '0') return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readRaw(req)).toString('utf8');
}

/** A create/update/delete body: JSON, or protobuf from typed client-go clients (helm). */
export async function readObject(req: IncomingMessage): Promise<KObject> {
  const raw = await readRaw(req);
  if (String(req.headers['content-type'] ?? '').startsWith(PROTOBUF) && raw.length) return decodeProtobuf(raw);
  return parseJson(raw.toString('utf8'));
}

export function parseJson(raw: string): KObject {
  if (!raw.trim()) return {};
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new ApiError(
      400,
      'BadRequest',
      `couldn't get version/kind; json parse error: ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
}

export function writeOptions(s: RequestScope): WriteOptions {
  const q = s.query;
  const fv = q.get('fieldValidation');
  let fieldValidation: FieldValidation | undefined;
  if (fv) {
    if (!['Strict', 'Warn', 'Ignore'].includes(fv))
      throw errors.badRequest(`fieldValidation parameter unsupported: ${fv}`);
    fieldValidation = fv as FieldValidation;
  }
  const forceParam = q.get('force');
  return {
    fieldManager: q.get('fieldManager') ?? defaultManager(s.req.headers['user-agent']),
    fieldValidation: fieldValidation ?? 'Warn',
    dryRun: q.getAll('dryRun').includes('All'),
    force: forceParam === 'true',
  };
}

/** kube-apiserver names an Update's manager after the user agent's command name. */
function defaultManager(userAgent: string | undefined): string {
  const name = (userAgent ?? 'unknown').split('/')[0];
  return name.slice(0, 128) || 'unknown';
}

/** A create or update: the object sent, then the options (a bad body is reported first). */
export async function readWrite(s: RequestScope): Promise<{ body: KObject; opts: WriteOptions }> {
  const body = await readObject(s.req);
  return { body, opts: writeOptions(s) };
}

/** As upstream's BeforeDelete: a negative grace period is taken as 1 s. */
function gracePeriodOf(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw errors.badRequest(`gracePeriodSeconds: invalid value "${String(value)}"`);
  return n < 0 ? 1 : n;
}

/** DeleteOptions from the body, falling back to the query parameters of the same names. */
export function deleteOptions(body: KObject, q: URLSearchParams): DeleteOptions {
  const opts: DeleteOptions = {
    propagationPolicy: body.propagationPolicy ?? q.get('propagationPolicy') ?? undefined,
    orphanDependents:
      body.orphanDependents ?? (q.has('orphanDependents') ? q.get('orphanDependents') === 'true' : undefined),
    preconditions: body.preconditions,
    dryRun: (body.dryRun ?? q.getAll('dryRun')).includes?.('All'),
    gracePeriodSeconds: gracePeriodOf(body.gracePeriodSeconds ?? q.get('gracePeriodSeconds') ?? undefined),
  };
  if (opts.propagationPolicy && !['Background', 'Foreground', 'Orphan'].includes(opts.propagationPolicy)) {
    throw errors.badRequest(
      `DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"`,
    );
  }
  return opts;
}
