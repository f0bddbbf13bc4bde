// A local-path provisioner: binds every pending PersistentVolumeClaim to a folder under the data
// dir (<dataDir>/volumes/pvc/<namespace>/<claim>/), which the kubelet mounts for pods.
import { mkdirSync } from 'node:fs';
import type { Informers } from './controllers.js';
import type { CacheWriter } from './cache-writer.js';
import { PVCS } from './resources.js';
import { pvcDir } from './volumes.js';

export class PvcBinder {
  readonly name = 'pvcs';

  constructor(
    private readonly inf: Informers,
    private readonly w: CacheWriter,
    private readonly dataDir: string,
  ) {}

  async sync(): Promise<void> {
    const { pvcs } = this.inf;
    if (!pvcs.available) return;
    for (const pvc of pvcs.list()) {
      if (pvc.status?.phase === 'Bound' || pvc.metadata.deletionTimestamp) continue;
      mkdirSync(pvcDir(this.dataDir, pvc.metadata.namespace ?? 'default', pvc.metadata.name), { recursive: true });
      await this.w.writeStatus(PVCS, pvcs, pvc, {
        phase: 'Bound',
        accessModes: pvc.spec?.accessModes ?? ['ReadWriteOnce'],
        capacity: { storage: pvc.spec?.resources?.requests?.storage ?? '1Gi' },
      });
    }
  }
}
