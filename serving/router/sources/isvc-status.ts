// A RoutingSource that watches one InferenceService's status (provider `router`): the operator
// writes the stable/canary weights and role Service URLs into status, and every router pod
// follows them by watch, so a rollback is on the data path within the watch delay (tens of
// milliseconds) and an operator outage leaves the last table in force. Needs only get/list/watch
// on that one object (the Role the operator creates). A status that cannot be turned into a
// valid table is logged and the last good table stays.
import { CustomObjectsApi, KubeConfig, Watch } from '@kubernetes/client-node';
import { RouterConfigError, validateRouterConfig, type RouterConfig, type Upstream } from '../config.js';
import { BaseRoutingSource, type RouterLogger } from '../source.js';
import { EndpointSlicePoller } from './endpoint-slices.js';

const GROUP = 'modelship.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'inferenceservices';

/** The parts of an InferenceService this source reads. */
export interface IsvcLike {
  metadata?: { name?: string; generation?: number; resourceVersion?: string };
  spec?: { model?: string; traffic?: { router?: { pinHeaders?: { version?: string; role?: string } } } };
  status?: {
    stable?: { version?: number; url?: string; weight?: number };
    canary?: { version?: number; url?: string; weight?: number; shadow?: { passedAt?: string } };
  };
}

/** The pin headers spec.traffic.router.pinHeaders names; none unless the user named some. */
function pinsOf(isvc: IsvcLike): RouterConfig['pins'] {
  const named = isvc.spec?.traffic?.router?.pinHeaders;
  if (!named?.version && !named?.role) return undefined;
  return {
    ...(named.version ? { versionHeader: named.version } : {}),
    ...(named.role ? { roleHeader: named.role } : {}),
  };
}

/** A canary in its shadow phase takes no traffic and gets a copy of every request. */
function shadowPhase(isvc: IsvcLike): boolean {
  const shadow = isvc.status?.canary?.shadow;
  return shadow !== undefined && shadow.passedAt === undefined;
}

const ROLES = ['stable', 'canary'] as const;
/** The role Services the operator names `<name>-<role>` (operator/controllers/inferenceservice/builders.ts). */
const roleService = (name: string | undefined, role: string) => `${name}-${role}`;

/** The roles with a version and a URL in status, as upstreams. */
function upstreamsOf(isvc: IsvcLike, endpoints?: ReadonlyMap<string, string[]>): Upstream[] {
  const upstreams: Upstream[] = [];
  for (const role of ROLES) {
    const r = isvc.status?.[role];
    const pods = endpoints?.get(roleService(isvc.metadata?.name, role));
    if (r?.version !== undefined && r.url)
      upstreams.push({
        role,
        version: String(r.version),
        url: r.url,
        weight: r.weight ?? (role === 'stable' ? 100 : 0),
        ...(pods?.length ? { endpoints: pods } : {}),
      });
  }
  return upstreams;
}

/**
 * The routing table of a status, with each role's ready pods when known (pure); throws
 * RouterConfigError when it is not a valid table.
 */
export function tableFromStatus(isvc: IsvcLike, endpoints?: ReadonlyMap<string, string[]>): RouterConfig {
  const upstreams = upstreamsOf(isvc, endpoints);
  const pins = pinsOf(isvc);
  const inShadow = shadowPhase(isvc) && upstreams.some((u) => u.role === 'canary');
  return validateRouterConfig({
    model: isvc.spec?.model ?? isvc.metadata?.name ?? 'unknown',
    upstreams,
    ...(pins ? { pins } : {}),
    ...(inShadow ? { mirror: { role: 'canary', percent: 100 } } : {}),
    ...(isvc.metadata?.generation !== undefined ? { generation: isvc.metadata.generation } : {}),
  });
}

export interface IsvcStatusSourceOptions {
  namespace: string;
  name: string;
  log: RouterLogger;
  /** Kubeconfig: $KUBECONFIG, ~/.kube/config or in-cluster (client-node's loadFromDefault). */
  kubeConfig?: KubeConfig;
  /** Delay before re-listing after a watch ends or fails (default 500 ms). */
  retryMs?: number;
  onRejected?: () => void;
}

export class IsvcStatusRoutingSource extends BaseRoutingSource {
  private closed = false;
  private abort?: AbortController;
  private timer?: NodeJS.Timeout;
  private readonly api: CustomObjectsApi;
  private readonly watcher: Watch;
  private readonly pods: EndpointSlicePoller;
  private isvc: IsvcLike | undefined;
  private endpoints = new Map<string, string[]>();

  private constructor(
    private readonly opts: IsvcStatusSourceOptions,
    kc: KubeConfig,
    first: RouterConfig,
  ) {
    super(first);
    this.api = kc.makeApiClient(CustomObjectsApi);
    this.watcher = new Watch(kc);
    this.pods = new EndpointSlicePoller(kc, {
      namespace: opts.namespace,
      services: ROLES.map((role) => roleService(opts.name, role)),
      onChange: (endpoints) => {
        this.endpoints = endpoints;
        if (this.isvc) this.accept(this.isvc);
      },
      warn: (message, fields) => opts.log.warn(message, fields),
    });
  }

  /** Reads the object once (retrying until it can), then follows it by watch. */
  static async open(opts: IsvcStatusSourceOptions): Promise<IsvcStatusRoutingSource> {
    const kc =
      opts.kubeConfig ??
      (() => {
        const k = new KubeConfig();
        k.loadFromDefault();
        return k;
      })();
    const source = new IsvcStatusRoutingSource(opts, kc, { model: opts.name, upstreams: [] });
    const rv = await source.readUntilOk();
    source.follow(rv);
    source.pods.start();
    return source;
  }

  close(): void {
    this.closed = true;
    this.pods.close();
    this.stopListening();
    clearTimeout(this.timer);
    this.abort?.abort();
  }

  private accept(obj: IsvcLike): void {
    this.isvc = obj;
    let next: RouterConfig;
    try {
      next = tableFromStatus(obj, this.endpoints);
    } catch (err) {
      if (!(err instanceof RouterConfigError)) throw err;
      this.opts.onRejected?.();
      this.opts.log.warn('router table from InferenceService status rejected; keeping the last good table', {
        problems: err.problems,
      });
      return;
    }
    if (JSON.stringify(next) === JSON.stringify(this.config)) return;
    this.opts.log.info('router table applied from InferenceService status', {
      upstreams: next.upstreams.map((u) => `${u.role}=${u.version}@${u.weight} (${u.endpoints?.length ?? 0} pods)`),
    });
    this.publish(next);
  }

  private async read(): Promise<string | undefined> {
    const obj = (await this.api.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: this.opts.namespace,
      plural: PLURAL,
      name: this.opts.name,
    })) as IsvcLike;
    this.accept(obj);
    return obj.metadata?.resourceVersion;
  }

  private async readUntilOk(): Promise<string | undefined> {
    for (;;) {
      try {
        return await this.read();
      } catch (err) {
        if (this.closed) return undefined;
        this.opts.log.warn('cannot read the InferenceService; retrying', {
          namespace: this.opts.namespace,
          name: this.opts.name,
          error: String((err as Error).message ?? err),
        });
        await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 500));
      }
    }
  }

  private follow(resourceVersion: string | undefined): void {
    if (this.closed) return;
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${encodeURIComponent(this.opts.namespace)}/${PLURAL}`;
    let lastRv = resourceVersion;
    const restart = () => {
      if (this.closed) return;
      this.timer = setTimeout(() => {
        void this.readUntilOk().then((rv) => this.follow(rv ?? lastRv));
      }, this.opts.retryMs ?? 500);
    };
    this.watcher
      .watch(
        path,
        { fieldSelector: `metadata.name=${this.opts.name}`, resourceVersion: lastRv, allowWatchBookmarks: true },
        (type, obj: IsvcLike) => {
          if (obj?.metadata?.resourceVersion) lastRv = obj.metadata.resourceVersion;
          if (type === 'ADDED' || type === 'MODIFIED') this.accept(obj);
        },
        () => restart(),
      )
      .then(
        (ac) => {
          if (this.closed) ac.abort();
          else this.abort = ac;
        },
        () => restart(),
      );
  }
}
