// The router's routing table, as an operator of the cluster reads it: from the admin port of a
// router pod (the public Service serves only traffic and the probes).
import { Labels } from '../../operator/api/index.js';
import { ROUTER_ADMIN_PORT } from '../../operator/traffic/router.js';
import { Kinds, type KindRef, type KubeObject } from '../../operator/runtime/kinds.js';

interface Lister {
  list<T extends KubeObject>(
    kind: KindRef,
    opts?: { namespace?: string; labelSelector?: string },
  ): Promise<{ items: T[] }>;
}

type Pod = KubeObject & {
  status?: { podIP?: string; conditions?: Array<{ type: string; status: string }> };
};

export interface RoutedUpstream {
  role: string;
  version: string;
  weight: number;
  /** the ready pods feedback is routed over */
  endpoints?: string[];
}

/** The admin address of a ready router pod of the service, undefined when none is ready. */
export async function routerAdminUrl(client: Lister, namespace: string, service: string): Promise<string | undefined> {
  const pods = await client.list<Pod>(Kinds.Pod, {
    namespace,
    labelSelector: `${Labels.inferenceService}=${service},${Labels.role}=router`,
  });
  const ready = pods.items.find(
    (p) => p.status?.podIP && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  return ready ? `http://${ready.status!.podIP}:${ROUTER_ADMIN_PORT}` : undefined;
}

/** The upstreams of the table a router pod uses, undefined when none answers. */
export async function routerUpstreams(
  client: Lister,
  namespace: string,
  service: string,
): Promise<RoutedUpstream[] | undefined> {
  const admin = await routerAdminUrl(client, namespace, service).catch(() => undefined);
  if (!admin) return undefined;
  const table = await fetch(`${admin}/config`).then(
    (res) => res.json() as Promise<{ upstreams: RoutedUpstream[] }>,
    () => undefined,
  );
  return table?.upstreams;
}
