// The dev cluster's kube-scheduler: binds each unscheduled pod to a Node (scheduler-logic.ts)
// and, when none fits, marks it PodScheduled=False/Unschedulable with a FailedScheduling event.
// The dev API server serves no pods/binding subresource, so the bind is what a Binding does to
// the pod: spec.nodeName set by an update that carries the resourceVersion read (a conflict
// retries on the next pass, as a lost Binding race does).
import type { Informers } from './controllers.js';
import type { CacheWriter } from './cache-writer.js';
import type { EventRecorder } from './events.js';
import type { KubeObject } from './kube-client.js';
import { PODS } from './resources.js';
import { findCondition, nowIso, setCondition } from './util.js';
import { needsScheduling, schedulePod } from './scheduler-logic.js';

export class Scheduler {
  readonly name = 'scheduler';

  constructor(
    private readonly inf: Informers,
    private readonly w: CacheWriter,
    private readonly events: EventRecorder,
  ) {}

  async sync(): Promise<void> {
    const { pods, nodes, pvcs } = this.inf;
    if (!nodes.available) return;
    const pending = pods
      .list()
      .filter(needsScheduling)
      .sort((a, b) => ((a.metadata.creationTimestamp ?? '') < (b.metadata.creationTimestamp ?? '') ? -1 : 1));
    for (const pod of pending) {
      // Every decision sees the binds made before it in this pass (the writes go to the cache).
      const result = schedulePod(pod, nodes.list(), pods.list(), (ns, name) => pvcs.get(ns, name));
      if ('node' in result) await this.bind(pod, result.node);
      else await this.markUnschedulable(pod, result.unschedulable);
    }
  }

  private async bind(pod: KubeObject, node: string): Promise<void> {
    await this.w.replace(PODS, this.inf.pods, { ...pod, spec: { ...pod.spec, nodeName: node } });
    this.events.normal(
      pod,
      'Scheduled',
      `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`,
    );
  }

  /** Written and reported once per distinct reason, so a pod that stays unschedulable costs no writes. */
  private async markUnschedulable(pod: KubeObject, message: string): Promise<void> {
    const old = findCondition(pod.status?.conditions, 'PodScheduled');
    if (old?.status === 'False' && old.message === message) return;
    const conditions = setCondition(
      pod.status?.conditions,
      { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null },
      nowIso(),
    );
    await this.w.writeStatus(PODS, this.inf.pods, pod, { phase: 'Pending', ...(pod.status ?? {}), conditions });
    this.events.warning(pod, 'FailedScheduling', message);
  }
}
