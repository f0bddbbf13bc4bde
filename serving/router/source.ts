// Where the routing table comes from. One implementation per file: `file-source.ts` (a JSON
// file, for tests and plain deployments); the operator will add one that watches the
// InferenceService status. A source only hands out configs that passed validateRouterConfig.
import type { RouterConfig } from './config.js';

export interface RoutingSource {
  /** The last valid routing table; never an invalid one. */
  current(): RouterConfig;
  /** Called with each newly applied valid table (not for rejected ones). */
  onChange(cb: (config: RouterConfig) => void): void;
  /** Stops watching; no callbacks after this returns. */
  close(): void;
}

/** Minimal structured logger the router parts accept (winston or console both fit). */
export interface RouterLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** JSON lines on stderr: one object per event, easy to grep and to ship. */
export const jsonLogger: RouterLogger = {
  info: (message, fields) => write('info', message, fields),
  warn: (message, fields) => write('warn', message, fields),
  error: (message, fields) => write('error', message, fields),
};

function write(level: string, message: string, fields?: Record<string, unknown>): void {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level, component: 'router', message, ...fields })}\n`,
  );
}

export const silentLogger: RouterLogger = { info() {}, warn() {}, error() {} };

/** A fixed table: for tests, benchmarks, and callers that push tables themselves. */
export class StaticRoutingSource implements RoutingSource {
  private listeners: ((config: RouterConfig) => void)[] = [];
  constructor(private config: RouterConfig) {}
  current(): RouterConfig {
    return this.config;
  }
  onChange(cb: (config: RouterConfig) => void): void {
    this.listeners.push(cb);
  }
  /** Replaces the table (caller validates) and notifies listeners. */
  set(config: RouterConfig): void {
    this.config = config;
    for (const cb of this.listeners) cb(config);
  }
  close(): void {
    this.listeners = [];
  }
}
