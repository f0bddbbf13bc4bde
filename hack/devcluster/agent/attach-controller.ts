// The attach/detach controller of kube-controller-manager, for the dev cluster's claim volumes:
// writes each Node's status.volumesAttached from attach-logic.ts's plan (the kubelet starts a
// pod only once its claim volumes are listed there) and reports a Multi-Attach error once per
// waiting pod and volume, as the real reconciler reports it once per volume and node.
import type { Informers } from './controllers.js';
import type { CacheWriter } from './cache-writer.js';
import type { EventRecorder } from './events.js';
import { NODES } from './resources.js';
import { deepEqual } from './util.js';
import { attachedVolumes, planAttachments } from './attach-logic.js';

export class AttachDetachController {
  readonly name = 'attachdetach';
  private reported = new Set<string>();

  constructor(
    private readonly inf: Informers,
    private readonly w: CacheWriter,
    private readonly events: EventRecorder,
  ) {}

  async sync(): Promise<void> {
    const { pods, nodes, pvcs } = this.inf;
    if (!nodes.available || !pvcs.available) return;
    const nodeList = nodes.list();
    const current = new Map(nodeList.map((n) => [n.metadata.name, attachedVolumes(n)]));
    const plan = planAttachments(
      nodeList.map((n) => n.metadata.name),
      current,
      pods.list(),
      (ns, name) => pvcs.get(ns, name),
    );
    for (const node of nodeList) {
      const want = plan.attached.get(node.metadata.name) ?? [];
      if (deepEqual(want, attachedVolumes(node))) continue;
      const { volumesAttached: _old, ...rest } = node.status ?? {};
      await this.w.writeStatus(
        NODES,
        nodes,
        node,
        want.length ? { ...rest, volumesAttached: want.map((name) => ({ name, devicePath: '' })) } : rest,
      );
    }
    const now = new Set<string>();
    for (const e of plan.errors) {
      const key = `${e.pod.metadata.uid}/${e.uniqueName}`;
      now.add(key);
      if (!this.reported.has(key)) this.events.warning(e.pod, 'FailedAttachVolume', e.message);
    }
    this.reported = now;
  }
}
