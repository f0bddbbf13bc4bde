// Admission control: how much work a model server takes on at once. Requests that carry a body
// (predict, infer, feedback) are admitted against two budgets — requests in flight and request
// bytes held — sized from the container's memory limit, and the rest are answered 503 with
// Retry-After at once, before their body is read: a pod that takes everything offered is
// killed for memory and answers nobody. Probes and metrics are never refused.
import type { IncomingMessage } from 'node:http';
import { ServingError } from '../errors.js';
import type { Limits } from './options.js';

export interface AdmissionLimits {
  /** requests with a body in flight */
  maxInFlight: number;
  /** request-body bytes held at once (declared Content-Length, or the route's limit without one) */
  maxBufferedBytes: number;
}

const MIB = 1024 * 1024;
/**
 * Bodies may use a fifth of the memory limit: a body is held once as chunks and once joined,
 * and decoding, the model and the runtime need the rest (measured: 48 uploads of 9.4 MB held
 * at once took a 1 GiB server to 914-1,157 MiB RSS without this budget).
 */
const BODY_SHARE_OF_MEMORY = 0.2;
/** One request in flight per 16 MiB of memory limit: 64 for 1 GiB. */
const MEMORY_PER_REQUEST = 16 * MIB;
/** Without a known memory limit, the operator's default one (1 GiB). */
export const DEFAULT_MEMORY_LIMIT = 1024 * MIB;

export function admissionLimitsFor(memoryLimitBytes: number): AdmissionLimits {
  return {
    maxInFlight: Math.max(4, Math.floor(memoryLimitBytes / MEMORY_PER_REQUEST)),
    maxBufferedBytes: Math.max(16 * MIB, Math.floor(memoryLimitBytes * BODY_SHARE_OF_MEMORY)),
  };
}

/** A held admission: give it back once the request is answered. */
export interface Ticket {
  release(): void;
}

export class Admission {
  private inFlight = 0;
  private buffered = 0;

  constructor(readonly limits: AdmissionLimits) {}

  /** Admits a request that may hold `bytes` of body, or throws OVERLOADED (503, Retry-After 1). */
  admit(bytes: number): Ticket {
    if (this.inFlight >= this.limits.maxInFlight)
      throw overloaded(`${this.inFlight} requests in flight (limit ${this.limits.maxInFlight})`);
    if (this.buffered + bytes > this.limits.maxBufferedBytes)
      throw overloaded(
        `${Math.round(this.buffered / MIB)} MiB of request bodies held, ${Math.ceil(bytes / MIB)} MiB more would pass the limit of ${Math.round(this.limits.maxBufferedBytes / MIB)} MiB`,
      );
    this.inFlight++;
    this.buffered += bytes;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inFlight--;
        this.buffered -= bytes;
      },
    };
  }

  get load(): { inFlight: number; bufferedBytes: number } {
    return { inFlight: this.inFlight, bufferedBytes: this.buffered };
  }
}

/** The routes that read a body, and the limit that bounds it when no length is declared. */
const BODY_LIMIT: Record<string, 'maxBodyBytes' | 'maxJsonBytes' | undefined> = {
  predict: 'maxBodyBytes',
  infer: 'maxJsonBytes',
  feedback: 'maxJsonBytes',
};
const FREE: Ticket = { release: () => {} };

/** Requests with a body hold admission for it: the declared size, or the route's limit; others are free. */
export function admitRequest(admission: Admission, req: IncomingMessage, handler: string, limits: Limits): Ticket {
  const limit = BODY_LIMIT[handler];
  if (!limit) return FREE;
  const declared = Number(req.headers['content-length']);
  const max = limits[limit];
  return admission.admit(Number.isFinite(declared) && declared >= 0 ? Math.min(declared, max) : max);
}

const overloaded = (why: string) =>
  new ServingError('OVERLOADED', `the server is at capacity (${why}); retry shortly, or add replicas`, {
    retryAfterSeconds: 1,
  });

/**
 * The memory limit the process runs under: MODELSHIP_MEMORY_LIMIT (bytes, from the downward
 * API's limits.memory), else undefined.
 */
export function memoryLimitFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.MODELSHIP_MEMORY_LIMIT;
  if (!raw) return undefined;
  const bytes = Number(raw);
  return Number.isFinite(bytes) && bytes > 0 ? bytes : undefined;
}
