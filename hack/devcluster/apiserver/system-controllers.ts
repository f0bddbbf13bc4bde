// What kube-apiserver and kube-controller-manager keep in place for in-cluster clients, as
// reconcilers over the store: the `default/kubernetes` Service with its Endpoints and
// EndpointSlice pointing at the secure port (kube-apiserver's master endpoint reconciler),
// the `kube-root-ca.crt` ConfigMap in every namespace (the root-CA publisher), the default RBAC
// policy (bootstrap roles, created when missing), and aggregated ClusterRoles' rules (the
// clusterrole-aggregation controller). Each re-creates or repairs its objects when changed.
import { bootstrapPolicy } from './bootstrap-policy.js';
import { ApiError } from './errors.js';
import { aggregatedRules, type RoleLike } from './rbac.js';
import type { KObject, Registry, ResourceType } from './registry.js';
import type { Rest } from './rest.js';
import { ROOT_CA_CONFIGMAP } from './sa-admission.js';
import type { Store, StoreEvent } from './store.js';
import { CoalescingQueue } from './work-queue.js';

export interface SystemOptions {
  caCert: string;
  /** The secure port the `kubernetes` Service targets. */
  securePort: number;
  /** Address in the Endpoints (where the secure port listens). */
  endpointIp: string;
  serviceIp: string;
}

const CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** The objects kube-apiserver maintains for itself in `default` (pure). */
export function kubernetesServiceObjects(o: SystemOptions): { service: KObject; endpoints: KObject; slice: KObject } {
  const port = { name: 'https', port: o.securePort, protocol: 'TCP' };
  return {
    service: {
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { component: 'apiserver', provider: 'kubernetes' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: o.serviceIp,
        sessionAffinity: 'None',
        ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: o.securePort }],
      },
    },
    endpoints: {
      metadata: {
        name: 'kubernetes',
        namespace: 'default',
        labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
      },
      subsets: [{ addresses: [{ ip: o.endpointIp }], ports: [port] }],
    },
    slice: {
      metadata: { name: 'kubernetes', namespace: 'default', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [o.endpointIp], conditions: { ready: true } }],
      ports: [port],
    },
  };
}

export function rootCaConfigMap(caCert: string): KObject {
  return {
    metadata: { name: ROOT_CA_CONFIGMAP, annotations: { 'kubernetes.io/description': CA_DESCRIPTION } },
    data: { 'ca.crt': caCert },
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Does the stored Service still send `https` 443 to the secure port (which a restart may change)? */
function servicePortsMatch(svc: KObject, securePort: number): boolean {
  const ports: KObject[] = svc.spec?.ports ?? [];
  return ports.length === 1 && ports[0].name === 'https' && ports[0].port === 443 && ports[0].targetPort === securePort;
}

export class SystemControllers {
  private readonly queue = new CoalescingQueue(
    (key) => this.reconcile(key),
    (err) => {
      // A conflicting concurrent write re-queues through its own event; a namespace being
      // deleted refuses new content, which is what the publisher skips anyway.
      if (!(err instanceof ApiError && [403, 404, 409].includes(err.code)))
        console.error('devcluster system controllers:', err);
    },
  );
  private stopped = false;
  private unsubscribe: () => void = () => undefined;

  constructor(
    private readonly store: Store,
    private readonly registry: Registry,
    private readonly rest: Rest,
    private readonly opts: SystemOptions,
  ) {}

  start(): void {
    this.unsubscribe = this.store.subscribeAll((e) => this.onEvent(e));
    this.enqueue('policy');
    this.enqueue('kubernetes');
    this.enqueue('aggregate');
    for (const ns of this.store.list('/namespaces')) this.enqueue(`ca/${ns.metadata.name}`);
  }

  stop(): void {
    this.stopped = true;
    this.queue.stop();
    this.unsubscribe();
  }

  /** Resolved when all queued controller work is done (tests / stop). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  private onEvent(e: StoreEvent): void {
    if (this.stopped) return;
    const name = e.object.metadata.name;
    if (e.storageKey === '/namespaces') {
      if (e.type !== 'DELETED') this.enqueue(`ca/${name}`);
    } else if (e.storageKey === '/configmaps' && name === ROOT_CA_CONFIGMAP) {
      this.enqueue(`ca/${e.namespace}`);
    } else if (
      e.namespace === 'default' &&
      name === 'kubernetes' &&
      ['/services', '/endpoints', 'discovery.k8s.io/endpointslices'].includes(e.storageKey)
    ) {
      this.enqueue('kubernetes');
    } else if (e.storageKey === 'rbac.authorization.k8s.io/clusterroles') {
      this.enqueue('aggregate');
    }
  }

  private enqueue(item: string): void {
    this.queue.add(item);
  }

  private type(group: string, version: string, plural: string): ResourceType {
    const t = this.registry.lookup(group, version, plural);
    if (!t) throw new Error(`no type ${group}/${version}/${plural}`);
    return t;
  }

  private reconcile(item: string): void {
    if (item === 'policy') this.ensurePolicy();
    else if (item === 'kubernetes') this.ensureKubernetesService();
    else if (item === 'aggregate') this.aggregate();
    else if (item.startsWith('ca/')) this.ensureRootCa(item.slice(3));
  }

  /** Creates missing default roles and bindings; an existing one is left as its owner changed it. */
  private ensurePolicy(): void {
    for (const obj of bootstrapPolicy()) {
      const t = this.type(
        'rbac.authorization.k8s.io',
        'v1',
        obj.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings',
      );
      if (!this.rest.find(t, '', obj.metadata.name)) this.rest.create(t, '', obj, { fieldManager: 'kube-apiserver' });
    }
  }

  private ensureKubernetesService(): void {
    if (!this.store.get('/namespaces', '', 'default')) return;
    const want = kubernetesServiceObjects(this.opts);
    const services = this.type('', 'v1', 'services');
    const svc = this.rest.find(services, 'default', 'kubernetes');
    if (svc && svc.spec?.clusterIP !== this.opts.serviceIp) {
      // A cluster IP is immutable; one from before the address was reserved is replaced.
      this.rest.delete(services, 'default', 'kubernetes', {});
      return; // the DELETED event brings us back to create it
    }
    if (!svc) this.rest.create(services, 'default', want.service, { fieldManager: 'kube-apiserver' });
    else if (!servicePortsMatch(svc, this.opts.securePort)) {
      this.rest.commitUpdate(
        services,
        svc,
        { ...svc, spec: { ...svc.spec, ports: want.service.spec.ports } },
        { fieldManager: 'kube-apiserver' },
      );
    }
    this.ensureObject(this.type('', 'v1', 'endpoints'), want.endpoints, (o) => same(o.subsets, want.endpoints.subsets));
    this.ensureObject(
      this.type('discovery.k8s.io', 'v1', 'endpointslices'),
      want.slice,
      (o) => same(o.endpoints, want.slice.endpoints) && same(o.ports, want.slice.ports),
    );
  }

  private ensureObject(t: ResourceType, want: KObject, upToDate: (o: KObject) => boolean): void {
    const ns = want.metadata.namespace;
    const cur = this.rest.find(t, ns, want.metadata.name);
    if (!cur) {
      this.rest.create(t, ns, want, { fieldManager: 'kube-apiserver' });
      return;
    }
    if (!upToDate(cur)) {
      const { metadata: _m, ...content } = want;
      this.rest.commitUpdate(
        t,
        cur,
        {
          ...cur,
          ...content,
          metadata: { ...cur.metadata, labels: { ...(cur.metadata.labels ?? {}), ...want.metadata.labels } },
        },
        { fieldManager: 'kube-apiserver' },
      );
    }
  }

  private ensureRootCa(namespace: string): void {
    const ns = this.store.get('/namespaces', '', namespace);
    if (!ns || ns.metadata.deletionTimestamp) return;
    const t = this.type('', 'v1', 'configmaps');
    const want = rootCaConfigMap(this.opts.caCert);
    const cur = this.rest.find(t, namespace, ROOT_CA_CONFIGMAP);
    if (!cur) {
      this.rest.create(t, namespace, want, { fieldManager: 'kube-controller-manager' });
      return;
    }
    if (!same(cur.data, want.data))
      this.rest.commitUpdate(t, cur, { ...cur, data: want.data }, { fieldManager: 'kube-controller-manager' });
  }

  private aggregate(): void {
    const t = this.type('rbac.authorization.k8s.io', 'v1', 'clusterroles');
    const all = this.store.list(t.storageKey) as RoleLike[];
    for (const role of all) {
      const rules = aggregatedRules(role, all);
      if (!rules || same(role.rules ?? [], rules)) continue;
      // The next event re-runs this with the new rules, so roles aggregating this one follow.
      this.rest.commitUpdate(
        t,
        role as KObject,
        { ...role, rules },
        { fieldManager: 'clusterrole-aggregation-controller' },
      );
    }
  }
}
