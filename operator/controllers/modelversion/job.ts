// The validation Job of a ModelVersion (pure): the serving image in `validate` mode against the
// artifact, so that the version is checked by exactly the code that will serve it. The artifact
// is mounted read-only; the one thing validation writes, profile.json (the reference profile the
// serving pods bin live traffic into), goes through a second, writable mount of the same
// directory that only --profile-out points at.
import {
  BUILTIN_WORKLOAD_DEFAULTS,
  Labels,
  podPlacement,
  type ModelVersion,
  type WorkloadDefaults,
  withModelVersionDefaults,
  Annotations,
} from '../../api/index.js';
import type { ContainerSpec, Job } from '../common/k8s.js';
import { shortName } from '../common/names.js';
import { controllerReference } from '../common/owner.js';
import { RESTRICTED_JOB_CONTAINER_SECURITY } from '../common/security.js';
import {
  claimVolumeName,
  isPvc,
  NODE_ARTIFACT_VOLUME,
  joinUri,
  mountPath,
  parseStorageUri,
  StorageUriError,
} from '../common/storage.js';

export const VALIDATE_CONTAINER = 'validate';
export const DEFAULT_SERVING_IMAGE = 'modelship/serving:0.1.0';
/** Finished validation Jobs are kept this long for `kubectl logs`, then collected. */
export const VALIDATION_JOB_TTL_SECONDS = 86_400;

export interface ValidationJobOptions {
  servingImage?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** Operator-wide pod placement, under the version's spec.validation placement fields. */
  workloadDefaults?: WorkloadDefaults;
}

export const validationJobName = (mv: ModelVersion): string => shortName(`${mv.metadata.name ?? ''}-validate`, 63);

/** Where validation writes the full profile (next to model.onnx, where serve mode reads it). */
export const profileUri = (mv: ModelVersion): string => joinUri(mv.spec.artifact.uri, 'profile.json');

interface ArtifactMounts {
  modelDir: string;
  profileDir: string;
  volumes: object[];
  volumeMounts: object[];
}

function artifactMounts(mv: ModelVersion): ArtifactMounts {
  const loc = parseStorageUri(mv.spec.artifact.uri);
  if (isPvc(loc)) {
    const name = claimVolumeName(loc.claim);
    const subPath = loc.path || undefined;
    return {
      modelDir: mountPath('model'),
      profileDir: mountPath('profile'),
      volumes: [{ name, persistentVolumeClaim: { claimName: loc.claim } }],
      volumeMounts: [
        { name, mountPath: mountPath('model'), readOnly: true, ...(subPath ? { subPath } : {}) },
        { name, mountPath: mountPath('profile'), ...(subPath ? { subPath } : {}) },
      ],
    };
  }
  if (loc.scheme === 'file') {
    // The node's folder (hostPath): read-only for the model, writable for the profile it writes.
    const path = decodeURIComponent(new URL(mv.spec.artifact.uri).pathname);
    return {
      modelDir: mountPath('model'),
      profileDir: mountPath('profile'),
      volumes: [{ name: NODE_ARTIFACT_VOLUME, hostPath: { path, type: 'Directory' } }],
      volumeMounts: [
        { name: NODE_ARTIFACT_VOLUME, mountPath: mountPath('model'), readOnly: true },
        { name: NODE_ARTIFACT_VOLUME, mountPath: mountPath('profile') },
      ],
    };
  }
  throw new StorageUriError(
    `artifact location ${mv.spec.artifact.uri} cannot be mounted for validation (supported: pvc://, file://)`,
  );
}

/** The validation Job. Throws StorageUriError for an artifact location it cannot mount. */
export function buildValidationJob(mv: ModelVersion, opts: ValidationJobOptions = {}): Job {
  const name = mv.metadata.name ?? '';
  const mounts = artifactMounts(mv);
  // The validation pod is placed by spec.validation (which a registering TrainingRun fills from
  // its spec.registration.validation), over the operator's workload defaults.
  const { imagePullSecrets, serviceAccountName, nodeSelector, tolerations, affinity, securityContext } =
    mv.spec.validation ?? {};
  const placement = podPlacement(
    { imagePullSecrets, serviceAccountName, nodeSelector, tolerations, affinity, securityContext },
    opts.workloadDefaults ?? BUILTIN_WORKLOAD_DEFAULTS,
  );
  const labels = {
    [Labels.modelVersion]: shortName(name),
    [Labels.model]: mv.spec.model,
    [Labels.managedBy]: 'modelship',
  };
  const container: ContainerSpec = {
    name: VALIDATE_CONTAINER,
    image: opts.servingImage ?? DEFAULT_SERVING_IMAGE,
    ...(opts.imagePullPolicy ? { imagePullPolicy: opts.imagePullPolicy } : {}),
    args: ['validate', '--model-dir', mounts.modelDir, '--profile-out', `${mounts.profileDir}/profile.json`],
    env: [{ name: 'MODELSHIP_MODEL_VERSION', value: name }],
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '2Gi' } },
    ...(mounts.volumeMounts.length ? { volumeMounts: mounts.volumeMounts } : {}),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: RESTRICTED_JOB_CONTAINER_SECURITY,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: validationJobName(mv),
      namespace: mv.metadata.namespace,
      labels,
      annotations: { [Annotations.modelVersion]: name },
      ownerReferences: [controllerReference('ModelVersion', mv)],
    },
    spec: {
      backoffLimit: 0,
      completions: 1,
      parallelism: 1,
      activeDeadlineSeconds: withModelVersionDefaults(mv.spec).validation.activeDeadlineSeconds,
      ttlSecondsAfterFinished: VALIDATION_JOB_TTL_SECONDS,
      template: {
        metadata: { labels, annotations: { [Annotations.modelVersion]: name } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...placement,
          containers: [container],
          ...(mounts.volumes.length ? { volumes: mounts.volumes } : {}),
        },
      },
    },
  };
}
