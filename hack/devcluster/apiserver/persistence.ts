// Optional persistence: the whole state is written to <dir>/state.json shortly after changes
// (debounced, atomically via rename), and read back on start. History is not kept: a watch
// resuming from an older resourceVersion after a restart gets 410 and relists, as after an
// etcd compaction.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { KObject } from './registry.js';
import type { Store } from './store.js';

export interface SavedState {
  resourceVersion: number;
  objects: Array<{ storageKey: string; object: KObject }>;
}

export class Persistence {
  private readonly file: string;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private store: Store | undefined;
  private dirty = false;

  constructor(
    dir: string,
    private readonly debounceMs = 200,
  ) {
    mkdirSync(dir, { recursive: true });
    this.file = join(dir, 'state.json');
  }

  load(): SavedState | undefined {
    if (!existsSync(this.file)) return undefined;
    const state = JSON.parse(readFileSync(this.file, 'utf8')) as SavedState;
    // CRDs first so their types exist before their custom resources are restored.
    state.objects.sort(
      (a, b) =>
        Number(b.storageKey === 'apiextensions.k8s.io/customresourcedefinitions') -
        Number(a.storageKey === 'apiextensions.k8s.io/customresourcedefinitions'),
    );
    return state;
  }

  attach(store: Store): void {
    this.store = store;
    store.subscribeAll(() => this.schedule());
  }

  private snapshot(): string {
    const store = this.store!;
    const objects = store
      .storageKeys()
      .flatMap((storageKey) => store.list(storageKey).map((object) => ({ storageKey, object })));
    return JSON.stringify({ resourceVersion: store.rv, objects } satisfies SavedState);
  }

  private schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.writing.then(() => this.writeAsync());
    }, this.debounceMs);
  }

  private async writeAsync(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, this.snapshot());
    await rename(tmp, this.file);
  }

  /** Writes pending changes now (on stop). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.writing;
    if (this.dirty && this.store) {
      this.dirty = false;
      const tmp = `${this.file}.tmp`;
      writeFileSync(tmp, this.snapshot());
      renameSync(tmp, this.file);
    }
  }
}
