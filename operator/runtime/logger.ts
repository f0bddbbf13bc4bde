// winston JSON logs. One root logger per process; child loggers carry object-scoped fields
// ({controller, kind, namespace, name}) so every line about an object can be filtered on them.
import winston from 'winston';
import type { KubeObject } from './kinds.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level?: string;
  /** Silences output (tests that assert on behaviour, not on log lines). */
  silent?: boolean;
  /** Extra transport, e.g. an in-memory one in tests. */
  transports?: winston.transport[];
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return winston.createLogger({
    level: opts.level ?? process.env.LOG_LEVEL ?? 'info',
    format: winston.format.combine(
      winston.format.timestamp(),
      winston.format.errors({ stack: false }),
      winston.format.json(),
    ),
    defaultMeta: { component: 'operator' },
    transports: opts.transports ?? [new winston.transports.Console({ silent: opts.silent })],
  });
}

/** The fields that identify an object in logs. */
export function objectFields(obj: KubeObject): { kind?: string; namespace?: string; name?: string } {
  return { kind: obj.kind, namespace: obj.metadata?.namespace || undefined, name: obj.metadata?.name };
}

export const loggerFor = (log: Logger, obj: KubeObject): Logger => log.child(objectFields(obj));

/** An error and its cause chain as one line ("a: b: c"), for log fields and Events. */
export function errorChain(err: unknown): string {
  const parts: string[] = [];
  let cur: unknown = err;
  for (let i = 0; cur !== undefined && cur !== null && i < 5; i++) {
    const msg = cur instanceof Error ? cur.message : String(cur);
    if (!parts.some((p) => p.includes(msg))) parts.push(msg);
    cur = cur instanceof Error ? cur.cause : undefined;
  }
  return parts.join(': ');
}
