// Where the routing table comes from. One implementation per file: `file-source.ts` (a JSON
// file, for tests and plain deployments) and `sources/isvc-status.ts` (the InferenceService's
// status, by watch: what the operator deploys). A source only hands out configs that passed
// validateRouterConfig.
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

/** The table in force and who wants to hear of the next one: what every source shares. */
export abstract class BaseRoutingSource implements RoutingSource {
  private listeners: ((config: RouterConfig) => void)[] = [];

  protected constructor(protected config: RouterConfig) {}

  current(): RouterConfig {
    return this.config;
  }

  onChange(cb: (config: RouterConfig) => void): void {
    this.listeners.push(cb);
  }

  /** Puts a validated table in force and tells the listeners. */
  protected publish(config: RouterConfig): void {
    this.config = config;
    for (const cb of this.listeners) cb(config);
  }

  /** Forgets the listeners: no callbacks after close(). */
  protected stopListening(): void {
    this.listeners = [];
  }

  abstract close(): void;
}

/** A fixed table: for tests, benchmarks, and callers that push tables themselves. */
export class StaticRoutingSource extends BaseRoutingSource {
  constructor(config: RouterConfig) {
    super(config);
  }
  /** Replaces the table (caller validates) and notifies listeners. */
  set(config: RouterConfig): void {
    this.publish(config);
  }
  close(): void {
    this.stopListening();
  }
}
