// Endpoints and EndpointSlice controllers: the ready and not-ready addresses of the Pods each
// Service selects (see endpoints-logic.ts), written only when they change.
import type { Informers } from './controllers.js';
import type { CacheWriter } from './cache-writer.js';
import { ENDPOINTS, ENDPOINTSLICES } from './resources.js';
import { deepEqual } from './util.js';
import {
  buildEndpointSlices,
  buildEndpointSubsets,
  SERVICE_NAME_LABEL,
  SLICE_MANAGED_BY_LABEL,
  SLICE_MANAGER,
} from './endpoints-logic.js';

export class EndpointsController {
  readonly name = 'endpoints';
  /** Endpoints we created for selector Services; removed when their Service goes away. */
  private readonly managedEndpoints = new Set<string>();

  constructor(
    private readonly inf: Informers,
    private readonly w: CacheWriter,
  ) {}

  async sync(): Promise<void> {
    const { services, endpoints, endpointslices, pods } = this.inf;
    const wantedSlices = new Set<string>();
    for (const svc of services.list()) {
      if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0) continue;
      if (svc.metadata.deletionTimestamp) continue;
      const nsPods = pods.list(svc.metadata.namespace);
      if (endpoints.available) {
        const subsets = buildEndpointSubsets(svc, nsPods);
        const existing = endpoints.get(svc.metadata.namespace, svc.metadata.name);
        if (!existing) {
          await this.w.create(ENDPOINTS, endpoints, {
            apiVersion: 'v1',
            kind: 'Endpoints',
            metadata: {
              name: svc.metadata.name,
              namespace: svc.metadata.namespace,
              labels: { ...(svc.metadata.labels ?? {}) },
            },
            subsets,
          });
        } else if (!deepEqual(existing.subsets ?? [], subsets)) {
          await this.w.replace(ENDPOINTS, endpoints, { ...existing, subsets });
        }
      }
      if (endpointslices.available) {
        for (const slice of buildEndpointSlices(svc, nsPods)) {
          wantedSlices.add(`${slice.metadata.namespace}/${slice.metadata.name}`);
          const existing = endpointslices.get(slice.metadata.namespace, slice.metadata.name);
          if (!existing) await this.w.create(ENDPOINTSLICES, endpointslices, slice);
          else if (
            !deepEqual(existing.endpoints ?? [], slice.endpoints) ||
            !deepEqual(existing.ports ?? [], slice.ports)
          ) {
            await this.w.replace(ENDPOINTSLICES, endpointslices, {
              ...existing,
              endpoints: slice.endpoints,
              ports: slice.ports,
            });
          }
        }
      }
    }
    // Slices of ours that no longer match a Service's pods.
    for (const slice of endpointslices.list()) {
      if (
        slice.metadata.labels?.[SLICE_MANAGED_BY_LABEL] !== SLICE_MANAGER ||
        !slice.metadata.labels?.[SERVICE_NAME_LABEL]
      )
        continue;
      if (!wantedSlices.has(`${slice.metadata.namespace}/${slice.metadata.name}`) && !slice.metadata.deletionTimestamp)
        await this.w.remove(ENDPOINTSLICES, endpointslices, slice);
    }
    // Endpoints of deleted Services (the endpoints controller owns Endpoints named after Services it manages).
    for (const ep of endpoints.list()) {
      const svc = services.get(ep.metadata.namespace, ep.metadata.name);
      if (!svc && this.managedEndpoints.has(`${ep.metadata.namespace}/${ep.metadata.name}`)) {
        await this.w.remove(ENDPOINTS, endpoints, ep);
        this.managedEndpoints.delete(`${ep.metadata.namespace}/${ep.metadata.name}`);
      }
    }
    for (const svc of services.list())
      if (svc.spec?.selector && Object.keys(svc.spec.selector).length)
        this.managedEndpoints.add(`${svc.metadata.namespace}/${svc.metadata.name}`);
  }
}
