// The ready pods behind each role Service, from its EndpointSlices, so that feedback can be
// sent to one pod by its prediction (serving/router/feedback.ts). Polled (every 2 s) rather
// than watched: a missed change only means feedback judged by another pod for a moment, and a
// list that fails keeps the last pods known. Needs list on endpointslices in the namespace.
import { DiscoveryV1Api, type KubeConfig, type V1EndpointSlice } from '@kubernetes/client-node';

const SERVICE_LABEL = 'kubernetes.io/service-name';
const POLL_MS = 2000;

/** Service name → endpoint URLs (http://ip:port) of its ready pods, sorted (pure). */
export function readyEndpoints(slices: readonly V1EndpointSlice[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const slice of slices) {
    const service = slice.metadata?.labels?.[SERVICE_LABEL];
    const port = (slice.ports ?? []).find((p) => p.name === 'http')?.port ?? slice.ports?.[0]?.port;
    if (!service || !port) continue;
    const urls = out.get(service) ?? [];
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const address of ep.addresses ?? [])
        urls.push(`http://${address.includes(':') ? `[${address}]` : address}:${port}`);
    }
    out.set(service, urls);
  }
  for (const urls of out.values()) urls.sort();
  return out;
}

export class EndpointSlicePoller {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private last = '';
  private failing = false;
  private readonly api: DiscoveryV1Api;

  constructor(
    kc: KubeConfig,
    private readonly opts: {
      namespace: string;
      services: readonly string[];
      onChange: (endpoints: Map<string, string[]>) => void;
      warn: (message: string, fields: Record<string, unknown>) => void;
    },
  ) {
    this.api = kc.makeApiClient(DiscoveryV1Api);
  }

  start(): void {
    void this.poll();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private async poll(): Promise<void> {
    try {
      const list = await this.api.listNamespacedEndpointSlice({
        namespace: this.opts.namespace,
        labelSelector: `${SERVICE_LABEL} in (${this.opts.services.join(',')})`,
      });
      const endpoints = readyEndpoints(list.items);
      const seen = JSON.stringify([...endpoints]);
      if (seen !== this.last) {
        this.last = seen;
        this.opts.onChange(endpoints);
      }
      this.failing = false;
    } catch (err) {
      // Keep the pods last known; the next poll tries again. Said once per failing streak.
      if (!this.failing)
        this.opts.warn("cannot list the role Services' EndpointSlices; feedback goes through the Services meanwhile", {
          error: String((err as Error).message ?? err),
        });
      this.failing = true;
    }
    if (!this.closed) this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }
}
