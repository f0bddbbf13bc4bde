// A file derived from an informer's objects (the DNS hosts map, Prometheus's file_sd targets):
// re-rendered shortly after changes (coalesced), written atomically, and only when the content
// differs from what the file holds, so its readers reload only on real changes.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { KubeObject } from './kube-client.js';
import type { Informer } from './informer.js';

export class DerivedFileWriter {
  private timer?: NodeJS.Timeout;
  private last?: string;

  constructor(
    private readonly source: Informer,
    private readonly file: string,
    private readonly render: (objects: KubeObject[]) => string,
    private readonly log: (m: string) => void,
    private readonly delayMs = 20,
  ) {}

  /** Writes the file at once (pods started right after may read it), then follows changes. */
  start(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    try {
      this.last = readFileSync(this.file, 'utf8');
    } catch {
      this.last = undefined; // no file yet: the first write creates it
    }
    this.source.onChange(() => this.schedule());
    this.write();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, this.delayMs);
  }

  private write(): void {
    const content = this.render(this.source.list());
    if (content === this.last) return;
    try {
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, content);
      renameSync(tmp, this.file);
      this.last = content;
    } catch (err) {
      this.log(`write ${this.file}: ${(err as Error).message}`);
    }
  }
}
