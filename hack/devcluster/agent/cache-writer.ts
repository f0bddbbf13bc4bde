// Writes to the API server that go through to the informer caches, so the next reconcile sees
// its own writes at once (what client-go's "expectations" achieve in kube-controller-manager).
import type { KubeClient, KubeObject } from './kube-client.js';
import { isNotFound } from './kube-client.js';
import type { Informer } from './informer.js';
import { collectionPath, objectPath, type ResourceType } from './resources.js';
import { deepEqual } from './util.js';

export class CacheWriter {
  constructor(private readonly client: KubeClient) {}

  async create(rt: ResourceType, inf: Informer, obj: KubeObject): Promise<KubeObject> {
    const created = await this.client.create<KubeObject>(collectionPath(rt, obj.metadata.namespace), obj);
    inf.upsert(created);
    return created;
  }

  async replace(rt: ResourceType, inf: Informer, obj: KubeObject): Promise<void> {
    const updated = await this.client.replace<KubeObject>(
      objectPath(rt, obj.metadata.namespace, obj.metadata.name),
      obj,
    );
    inf.upsert(updated);
  }

  /** PUT …/status, only when the status differs: a settled cluster sees no writes. */
  async writeStatus(rt: ResourceType, inf: Informer, obj: KubeObject, status: Record<string, unknown>): Promise<void> {
    if (deepEqual(status, obj.status ?? {})) return;
    const updated = await this.client.replace<KubeObject>(
      objectPath(rt, obj.metadata.namespace, obj.metadata.name, 'status'),
      { ...obj, status },
    );
    inf.upsert(updated);
  }

  async remove(rt: ResourceType, inf: Informer, obj: KubeObject, propagationPolicy?: string): Promise<void> {
    try {
      const res = (await this.client.delete(objectPath(rt, obj.metadata.namespace, obj.metadata.name), {
        preconditionUid: obj.metadata.uid,
        propagationPolicy,
      })) as KubeObject | undefined;
      // A graceful deletion leaves the object in place with a deletionTimestamp.
      if (res?.kind === rt.kind && res.metadata?.deletionTimestamp && res.metadata.uid === obj.metadata.uid)
        inf.upsert(res);
      else inf.forget(obj);
    } catch (err) {
      if (isNotFound(err)) inf.forget(obj);
      else throw err;
    }
  }
}
