// A routing table read from a JSON file and re-read when it changes, without a restart.
// Watches the file's *directory*, because editors and Kubernetes ConfigMap volumes replace
// files by rename (ConfigMaps swap a `..data` symlink), which a watch on the file itself
// misses. A slow poll backs up fs.watch on filesystems where it is unreliable. A change that
// does not parse or validate is logged with the offending fields and the last good table stays.
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parseRouterConfig, RouterConfigError, type RouterConfig } from './config.js';
import { BaseRoutingSource, jsonLogger, type RouterLogger } from './source.js';

export interface FileRoutingSourceOptions {
  log?: RouterLogger;
  /** Backup poll interval in ms (default 1000); fs.watch normally reacts within milliseconds. */
  pollMs?: number;
  /** Coalesces bursts of watch events (a write is often several) (default 25 ms). */
  debounceMs?: number;
  /** Told about every rejected change, e.g. to count it in metrics. */
  onRejected?: (error: RouterConfigError) => void;
}

export class FileRoutingSource extends BaseRoutingSource {
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly log: RouterLogger;

  private constructor(
    readonly path: string,
    config: RouterConfig,
    private lastText: string,
    private readonly options: FileRoutingSourceOptions,
  ) {
    super(config);
    this.log = options.log ?? jsonLogger;
  }

  /** Reads and validates the file once (throws RouterConfigError or the read error), then watches it. */
  static async open(path: string, options: FileRoutingSourceOptions = {}): Promise<FileRoutingSource> {
    const absolute = resolve(path);
    let text: string;
    try {
      text = await readFile(absolute, 'utf8');
    } catch (err) {
      throw new Error(`cannot read router config ${absolute}: ${(err as Error).message}`, { cause: err });
    }
    const source = new FileRoutingSource(absolute, parseRouterConfig(text), text, options);
    source.start();
    return source;
  }

  close(): void {
    this.closed = true;
    this.stopListening();
    this.watcher?.close();
    clearInterval(this.poller);
    clearTimeout(this.debounce);
  }

  private start(): void {
    const file = basename(this.path);
    try {
      this.watcher = watch(dirname(this.path), { persistent: false }, (_event, name) => {
        // `..data` is the ConfigMap symlink swap; a null name means "something changed".
        if (name === null || name === file || name === '..data') this.scheduleReload();
      });
      this.watcher.on('error', (err) =>
        this.log.warn('router config watch failed; polling only', { path: this.path, error: err.message }),
      );
    } catch (err) {
      this.log.warn('router config watch unavailable; polling only', {
        path: this.path,
        error: (err as Error).message,
      });
    }
    this.poller = setInterval(() => this.scheduleReload(), this.options.pollMs ?? 1000);
    this.poller.unref();
  }

  private scheduleReload(): void {
    if (this.closed) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      // Serialise reads so an older read can never overwrite a newer table.
      this.reading = this.reading.then(() => this.reload());
    }, this.options.debounceMs ?? 25);
    this.debounce.unref();
  }

  private async reload(): Promise<void> {
    if (this.closed) return;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      // A file briefly missing during a replace is normal; keep serving the last table.
      this.log.warn('router config unreadable; keeping the last good table', {
        path: this.path,
        error: (err as Error).message,
      });
      return;
    }
    if (text === this.lastText || this.closed) return;
    this.lastText = text;
    let next: RouterConfig;
    try {
      next = parseRouterConfig(text);
    } catch (err) {
      if (!(err instanceof RouterConfigError)) throw err;
      this.log.error('router config rejected; keeping the last good table', {
        path: this.path,
        problems: err.problems,
      });
      this.options.onRejected?.(err);
      return;
    }
    this.log.info('router config applied', {
      path: this.path,
      upstreams: next.upstreams.map((u) => `${u.role}=${u.version}@${u.weight}`),
    });
    this.publish(next);
  }
}
