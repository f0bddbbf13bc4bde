// Keeps Prometheus's file_sd targets file in step with the pods (written atomically, and only
// when the content changes, so Prometheus reloads only on real changes).
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Informer } from './informer.js';
import { podTargetGroups } from '../prometheus/config.js';

export class PromTargetsWriter {
  private timer?: NodeJS.Timeout;
  private last?: string;

  constructor(private readonly pods: Informer, private readonly file: string, private readonly log: (m: string) => void) {}

  start(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    try {
      this.last = readFileSync(this.file, 'utf8');
    } catch {
      this.last = undefined;
    }
    this.pods.onChange(() => this.schedule());
    this.schedule();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, 50);
  }

  private write(): void {
    const content = JSON.stringify(podTargetGroups(this.pods.list()), null, 2) + '\n';
    if (content === this.last) return;
    try {
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, content);
      renameSync(tmp, this.file);
      this.last = content;
    } catch (err) {
      this.log(`write Prometheus targets ${this.file}: ${(err as Error).message}`);
    }
  }
}
