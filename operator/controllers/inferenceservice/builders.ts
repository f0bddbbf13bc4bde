// Pure builders of the serving topology: per role (stable, canary) a Deployment running the
// serving image on the ModelVersion's artifact and a Service in front of it; the per-service
// feedback-key Secret; an optional HorizontalPodAutoscaler. Pods carry the role and version as
// labels; Prometheus series carry `model` and `version` from the serving process itself, so a
// version keeps its numbers when it moves from canary to stable.
import {
  Annotations,
  Labels,
  withInferenceServiceDefaults,
  type InferenceService,
  type ModelVersion,
  type VersionRole,
  type WorkloadDefaults,
} from '../../api/index.js';
import type { KubeObject } from '../../runtime/kinds.js';
import { childMeta, scrapeAnnotations, servingPlacement } from '../../traffic/common.js';
import { RESTRICTED_CONTAINER_SECURITY } from '../common/security.js';
import { readOnlyStorage, type PodStorage } from '../common/pod-storage.js';
import { servingThreadpoolSize } from './threadpool.js';

export const SERVING_PORT = 8080;
export const ROLE_SERVICE_PORT = 80;
export const SERVING_CONTAINER = 'serving';
/** The first signing key's id; the Secret's `primary` names the key that signs. */
export const FEEDBACK_KEY_ID = 'k1';
export const FEEDBACK_CREDENTIAL_ID = 'c1';
const FEEDBACK_KEYS_DIR = '/var/run/modelship/feedback-keys';
const FEEDBACK_CREDENTIALS_DIR = '/var/run/modelship/feedback-credentials';
const REPLAY_DIR = '/var/run/modelship/replay';

export const roleName = (isvc: InferenceService, role: VersionRole): string => `${isvc.metadata.name}-${role}`;
/**
 * The feedback-key Secret, named with the service's uid: no Secret made before the service can
 * hold that name, so the operator creates it and takes AlreadyExists as its own, and needs no
 * read access to Secrets at all.
 */
export const feedbackSecretName = (isvc: InferenceService): string => uidNamed(isvc, 'feedback');
/** The feedback credentials the application owning the labels sends; named like the keys. */
export const feedbackCredentialSecretName = (isvc: InferenceService): string => uidNamed(isvc, 'feedback-credential');

function uidNamed(isvc: InferenceService, what: string): string {
  const uid = isvc.metadata.uid?.replace(/-/g, '').slice(0, 12);
  return uid ? `${isvc.metadata.name}-${what}-${uid}` : `${isvc.metadata.name}-${what}`;
}

/** Whether feedback must carry a credential (spec.feedback.credential, Required by default). */
export const requiresFeedbackCredential = (isvc: InferenceService): boolean =>
  withInferenceServiceDefaults(isvc.spec).feedback?.credential !== 'None';

export interface ServingOptions {
  servingImage: string;
  /** Operator-wide pod placement, under the InferenceService's own placement fields. */
  workloadDefaults?: WorkloadDefaults;
  /** prometheus.io annotations on serving pods (default true). */
  scrapeAnnotations?: boolean;
}

/** Labels of one role's pods; the role Service selects exactly these. */
export function roleSelector(isvc: InferenceService, role: VersionRole): Record<string, string> {
  return { [Labels.inferenceService]: isvc.metadata.name ?? '', [Labels.role]: role };
}

/**
 * The artifact directory as the serving pod sees it, always at the same path: the claim or node
 * folder mounted read-only, or an emptyDir the fetch init container fills (digest checked).
 * Throws StorageUriError for a location no pod can read.
 */
export function artifactStorage(mv: ModelVersion, opts: Pick<ServingOptions, 'servingImage'>): PodStorage {
  return readOnlyStorage(mv.spec.artifact, { image: opts.servingImage, role: 'model' });
}

const probe = (path: string, period: number, failureThreshold: number) => ({
  httpGet: { path, port: SERVING_PORT },
  periodSeconds: period,
  timeoutSeconds: 2,
  failureThreshold,
});

/**
 * The feedback volumes: the Secrets mounted, not in the environment (a mounted Secret follows
 * its updates, so keys and credentials rotate without restarting pods), and the replay journal.
 */
function feedbackVolumes(isvc: InferenceService): { volumes: object[]; volumeMounts: object[]; args: string[] } {
  const secrets = [
    { name: 'feedback-keys', secret: feedbackSecretName(isvc), dir: FEEDBACK_KEYS_DIR, flag: '--feedback-keys-dir' },
  ];
  if (requiresFeedbackCredential(isvc))
    secrets.push({
      name: 'feedback-credentials',
      secret: feedbackCredentialSecretName(isvc),
      dir: FEEDBACK_CREDENTIALS_DIR,
      flag: '--feedback-credentials-dir',
    });
  // The replay memory's journal outlives a container restart in the same pod (emptyDir): a
  // restarted server still refuses feedback it counted. Records are 25 bytes each.
  return {
    volumes: [
      ...secrets.map((v) => ({ name: v.name, secret: { secretName: v.secret } })),
      { name: 'replay', emptyDir: { sizeLimit: '64Mi' } },
    ],
    volumeMounts: [
      ...secrets.map((v) => ({ name: v.name, mountPath: v.dir, readOnly: true })),
      { name: 'replay', mountPath: REPLAY_DIR },
    ],
    args: [...secrets.flatMap((v) => [v.flag, v.dir]), '--replay-journal', `${REPLAY_DIR}/journal`],
  };
}

/** The serving container: `serve` on the mounted artifact, the feedback secrets mounted. */
function servingContainer(isvc: InferenceService, mv: ModelVersion, mount: PodStorage, opts: ServingOptions): object {
  const secrets = feedbackVolumes(isvc);
  const args = ['serve', '--model-dir', mount.dir, '--name', isvc.spec.model];
  args.push('--model-version', String(mv.spec.version), '--port', String(SERVING_PORT), ...secrets.args);
  // Whatever the location, the server refuses a model file that is not the registered one.
  if (mv.spec.artifact.digest) args.push('--expect-digest', mv.spec.artifact.digest);
  return {
    name: SERVING_CONTAINER,
    image: opts.servingImage,
    args,
    env: [
      // Admission control sizes its budgets from the memory limit (node allocatable when unset).
      { name: 'MODELSHIP_MEMORY_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
      { name: 'UV_THREADPOOL_SIZE', value: String(servingThreadpoolSize(isvc.spec.resources)) },
    ],
    ports: [{ name: 'http', containerPort: SERVING_PORT }],
    readinessProbe: probe('/v2/health/ready', 2, 3),
    livenessProbe: { ...probe('/v2/health/live', 10, 3), initialDelaySeconds: 5 },
    resources: isvc.spec.resources ?? { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    securityContext: RESTRICTED_CONTAINER_SECURITY,
    volumeMounts: [...mount.volumeMounts, ...secrets.volumeMounts],
  };
}

/** The serving Deployment of `role` running `mv`. Throws StorageUriError for an unmountable artifact. */
export function buildServingDeployment(
  isvc: InferenceService,
  role: VersionRole,
  mv: ModelVersion,
  opts: ServingOptions,
): KubeObject {
  const spec = withInferenceServiceDefaults(isvc.spec);
  const mount = artifactStorage(mv, opts);
  const selector = roleSelector(isvc, role);
  const podLabels = { ...selector, [Labels.model]: spec.model, [Labels.version]: String(mv.spec.version) };
  const annotations = {
    ...scrapeAnnotations(opts.scrapeAnnotations, SERVING_PORT, '/metrics'),
    [Annotations.modelVersion]: mv.metadata.name ?? '',
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(isvc, roleName(isvc, role), { [Labels.role]: role }),
    spec: {
      // With an autoscaler the HPA owns the replica count; leaving it out keeps apply from fighting it.
      ...(spec.autoscaling ? {} : { replicas: spec.replicas }),
      selector: { matchLabels: selector },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: podLabels, annotations },
        spec: {
          automountServiceAccountToken: false,
          ...servingPlacement(isvc, opts.workloadDefaults),
          terminationGracePeriodSeconds: 30,
          ...(mount.initContainers.length ? { initContainers: mount.initContainers } : {}),
          containers: [servingContainer(isvc, mv, mount, opts)],
          volumes: [...mount.volumes, ...feedbackVolumes(isvc).volumes],
        },
      },
    },
  };
}

export function buildRoleService(isvc: InferenceService, role: VersionRole): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(isvc, roleName(isvc, role), { [Labels.role]: role }),
    spec: {
      selector: roleSelector(isvc, role),
      ports: [{ name: 'http', port: ROLE_SERVICE_PORT, targetPort: SERVING_PORT }],
    },
  };
}

/**
 * The feedback-token signing keys shared by every serving pod of the service, created once and
 * never re-applied: rotating them is the user's (add a key, name it in `primary`, drop the old).
 */
export function buildFeedbackSecret(isvc: InferenceService, key: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(isvc, feedbackSecretName(isvc)),
    type: 'Opaque',
    stringData: { primary: FEEDBACK_KEY_ID, [FEEDBACK_KEY_ID]: key },
  };
}

/** The feedback credentials: each key one bearer token the serving pods accept. */
export function buildFeedbackCredentialSecret(isvc: InferenceService, credential: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(isvc, feedbackCredentialSecretName(isvc)),
    type: 'Opaque',
    stringData: { [FEEDBACK_CREDENTIAL_ID]: credential },
  };
}

/** An autoscaler per role when spec.autoscaling is set. */
export function buildAutoscaler(isvc: InferenceService, role: VersionRole): KubeObject | undefined {
  const a = withInferenceServiceDefaults(isvc.spec).autoscaling;
  if (!a) return undefined;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMeta(isvc, roleName(isvc, role), { [Labels.role]: role }),
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: roleName(isvc, role) },
      minReplicas: a.minReplicas,
      maxReplicas: a.maxReplicas,
      metrics: [
        {
          type: 'Resource',
          resource: {
            name: 'cpu',
            target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage },
          },
        },
      ],
    },
  };
}
