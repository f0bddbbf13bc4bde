// Provider `router` (default): the serving image in router mode in front of the two role
// Services. Its routing table is not pushed by the operator: the router watches this
// InferenceService's status (serving/router/sources/isvc-status.ts), so a weight change is on the
// data path as soon as the status write is (well under a second), and an operator that is down
// leaves the last table in force. RBAC: get/list/watch on exactly this InferenceService.
import {
  GROUP,
  Labels,
  withInferenceServiceDefaults,
  type InferenceService,
  type WorkloadDefaults,
} from '../api/index.js';
import { RESTRICTED_CONTAINER_SECURITY } from '../controllers/common/security.js';
import type { KubeObject } from '../runtime/kinds.js';
import { childMeta, scrapeAnnotations, servingPlacement, USER_SERVICE_PORT } from './common.js';
import type { TrafficProvider } from './provider.js';

export const ROUTER_PORT = 8080;
/** The router's table and metrics: scraped and read in the cluster, never behind the Service. */
export const ROUTER_ADMIN_PORT = 9090;
export const ROUTER_ROLE = 'router';

export interface RouterProviderOptions {
  /** Image whose `router` mode runs the router (modelship/serving:<tag>). */
  servingImage: string;
  /** Operator-wide pod placement, under the InferenceService's own placement fields. */
  workloadDefaults?: WorkloadDefaults;
  /** prometheus.io annotations on router pods (default true). */
  scrapeAnnotations?: boolean;
}

export const routerName = (isvc: InferenceService): string => `${isvc.metadata.name}-router`;

function routerLabels(isvc: InferenceService): Record<string, string> {
  return { [Labels.inferenceService]: isvc.metadata.name ?? '', [Labels.role]: ROUTER_ROLE };
}

/**
 * ServiceAccount, Role and RoleBinding that let the router read this one InferenceService, and
 * list the EndpointSlices of its namespace (the ready pods each prediction's feedback goes to;
 * list cannot be limited to names, the label selector narrows what it asks for).
 */
export function buildRouterRbac(isvc: InferenceService): KubeObject[] {
  const name = routerName(isvc);
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: childMeta(isvc, name) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: childMeta(isvc, name),
      rules: [
        {
          apiGroups: [GROUP],
          resources: ['inferenceservices'],
          resourceNames: [isvc.metadata.name ?? ''],
          verbs: ['get', 'list', 'watch'],
        },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: childMeta(isvc, name),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name, namespace: isvc.metadata.namespace }],
    },
  ];
}

export function buildRouterDeployment(isvc: InferenceService, opts: RouterProviderOptions): KubeObject {
  const name = routerName(isvc);
  const labels = routerLabels(isvc);
  const probe = (path: string, period: number) => ({
    httpGet: { path, port: ROUTER_PORT },
    periodSeconds: period,
    timeoutSeconds: 2,
    failureThreshold: 3,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(isvc, name, labels),
    spec: {
      replicas: withInferenceServiceDefaults(isvc.spec).traffic.router.replicas,
      selector: { matchLabels: labels },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...labels, [Labels.model]: isvc.spec.model },
          annotations: scrapeAnnotations(opts.scrapeAnnotations, ROUTER_ADMIN_PORT, '/metrics'),
        },
        spec: {
          ...servingPlacement(isvc, opts.workloadDefaults, name),
          containers: [
            {
              name: 'router',
              image: opts.servingImage,
              args: [
                'router',
                '--source',
                'isvc-status',
                '--namespace',
                isvc.metadata.namespace ?? '',
                '--name',
                isvc.metadata.name ?? '',
                '--port',
                String(ROUTER_PORT),
                '--admin-port',
                String(ROUTER_ADMIN_PORT),
                '--shutdown-delay-ms',
                '2000',
              ],
              ports: [
                { name: 'http', containerPort: ROUTER_PORT },
                { name: 'admin', containerPort: ROUTER_ADMIN_PORT },
              ],
              readinessProbe: probe('/-/router/readyz', 2),
              livenessProbe: probe('/-/router/healthz', 10),
              resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '256Mi' } },
              securityContext: RESTRICTED_CONTAINER_SECURITY,
            },
          ],
        },
      },
    },
  };
}

/** The user-facing Service `<name>`, in front of the router pods. */
export function buildRouterUserService(isvc: InferenceService): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(isvc, isvc.metadata.name ?? ''),
    spec: { selector: routerLabels(isvc), ports: [{ name: 'http', port: USER_SERVICE_PORT, targetPort: ROUTER_PORT }] },
  };
}

export class RouterTrafficProvider implements TrafficProvider {
  readonly type = 'router';
  constructor(private readonly opts: RouterProviderOptions) {}

  /** No weights in these objects: they are in the status the router watches, so the status write is the switch. */
  desired(isvc: InferenceService): KubeObject[] {
    return [...buildRouterRbac(isvc), buildRouterDeployment(isvc, this.opts), buildRouterUserService(isvc)];
  }
}
