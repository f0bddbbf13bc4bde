// Events like the real components emit them (reason, message, source component), so that
// `kubectl describe` and `kubectl get events` tell what the dev cluster did and why. Recording
// is best effort: a failed event write never affects reconciliation. Identical events for the
// same object within a minute are folded into one (count and lastTimestamp updated in place).
import type { KubeClient, KubeObject } from './kube-client.js';
import { nowIso } from './util.js';

/** Event writes in flight at once per agent process; the rest wait in order. */
const MAX_EVENT_WRITES_IN_FLIGHT = 4;

/**
 * Shared by every recorder of the process: events are best effort, and hundreds of pods
 * starting at once otherwise put thousands of event creates ahead of the pod and Job writes
 * at the API server (client-go's broadcaster likewise drains its queue with one sink writer).
 */
class WriteLimiter {
  private readonly queued: Array<() => void> = [];
  private inFlight = 0;

  constructor(private readonly limit: number) {}

  async run(write: () => Promise<void>): Promise<void> {
    if (this.inFlight >= this.limit) await new Promise<void>((resolve) => this.queued.push(resolve));
    else this.inFlight++;
    try {
      await write();
    } finally {
      const next = this.queued.shift();
      if (next)
        next(); // the slot passes straight to the next waiter
      else this.inFlight--;
    }
  }
}

const eventWrites = new WriteLimiter(MAX_EVENT_WRITES_IN_FLIGHT);

interface Folded {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  at: number;
}

export class EventRecorder {
  private readonly recent = new Map<string, Folded>();

  /** `host`: the node of a kubelet's events (source.host), also the reporting instance. */
  constructor(
    private readonly client: KubeClient,
    private readonly component: string,
    private readonly host?: string,
  ) {}

  normal(obj: KubeObject, reason: string, message: string): void {
    this.record(obj, 'Normal', reason, message);
  }

  warning(obj: KubeObject, reason: string, message: string): void {
    this.record(obj, 'Warning', reason, message);
  }

  private record(obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    void eventWrites.run(() => this.write(obj, type, reason, message)).catch(() => undefined);
  }

  private async write(obj: KubeObject, type: string, reason: string, message: string): Promise<void> {
    const namespace = obj.metadata.namespace ?? 'default';
    const key = `${obj.metadata.uid}/${type}/${reason}/${message}`;
    const now = Date.now();
    const ts = nowIso(now);
    const previous = this.recent.get(key);
    if (previous && now - previous.at < 60_000) {
      previous.count++;
      previous.at = now;
      await this.client.mergePatch(
        `/api/v1/namespaces/${encodeURIComponent(previous.namespace)}/events/${encodeURIComponent(previous.name)}`,
        { count: previous.count, lastTimestamp: ts },
      );
      return;
    }
    if (this.recent.size > 2000) this.recent.clear();
    const name = `${obj.metadata.name}.${(now * 1_000_000 + Math.floor(Math.random() * 1_000_000)).toString(16)}`;
    this.recent.set(key, { name, namespace, count: 1, firstTimestamp: ts, at: now });
    await this.client.create(`/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      reason,
      message,
      type,
      source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
      reportingComponent: this.component,
      reportingInstance: this.host ?? this.component,
      firstTimestamp: ts,
      lastTimestamp: ts,
      count: 1,
    });
  }
}
