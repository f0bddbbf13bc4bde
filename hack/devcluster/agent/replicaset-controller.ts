// ReplicaSet controller: keeps spec.replicas active Pods per ReplicaSet and reports its status.
import type { Informers } from './controllers.js';
import type { CacheWriter } from './cache-writer.js';
import type { EventRecorder } from './events.js';
import { PODS, REPLICASETS } from './resources.js';
import { isControlledBy } from './util.js';
import { planReplicaSet, podFromTemplate } from './replicaset-logic.js';

export class ReplicaSetController {
  readonly name = 'replicasets';

  constructor(
    private readonly inf: Informers,
    private readonly w: CacheWriter,
    private readonly events: EventRecorder,
  ) {}

  async sync(): Promise<void> {
    const { replicasets, pods } = this.inf;
    const now = Date.now();
    for (const rs of replicasets.list()) {
      if (rs.metadata.deletionTimestamp) continue;
      const owned = pods.list(rs.metadata.namespace).filter((p) => isControlledBy(p, rs));
      const plan = planReplicaSet(rs, owned, now);
      for (let i = 0; i < plan.create; i++) {
        const pod = await this.w.create(PODS, pods, podFromTemplate(rs, 'apps/v1', 'ReplicaSet'));
        this.events.normal(rs, 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      }
      for (const pod of plan.remove) {
        await this.w.remove(PODS, pods, pod);
        this.events.normal(rs, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      }
      if (plan.create || plan.remove.length) {
        const after = pods.list(rs.metadata.namespace).filter((p) => isControlledBy(p, rs));
        await this.w.writeStatus(REPLICASETS, replicasets, rs, planReplicaSet(rs, after, now).status);
      } else await this.w.writeStatus(REPLICASETS, replicasets, rs, plan.status);
    }
  }
}
