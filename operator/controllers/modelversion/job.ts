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
import { DEFAULT_SERVING_IMAGE } from '../common/images.js';
import { readOnlyStorage } from '../common/pod-storage.js';
import {
  claimVolumeName,
  isPvc,
  NODE_ARTIFACT_VOLUME,
  joinUri,
  mountPath,
  parseStorageUri,
} from '../common/storage.js';

export const VALIDATE_CONTAINER = 'validate';
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
  /** Where validate writes profile.json: next to model.onnx, where serve mode reads it. */
  profileOut: string;
  volumes: object[];
  volumeMounts: object[];
  initContainers: object[];
  /** The Secret of an s3:// artifact, for the profile upload. */
  envFrom?: object[];
}

/** A claim or node folder: read-only for the model, writable for the profile next to it. */
function mountedArtifact(mv: ModelVersion): ArtifactMounts | undefined {
  const loc = parseStorageUri(mv.spec.artifact.uri);
  const profileOut = `${mountPath('profile')}/profile.json`;
  if (isPvc(loc)) {
    const name = claimVolumeName(loc.claim);
    const subPath = loc.path || undefined;
    return {
      modelDir: mountPath('model'),
      profileOut,
      volumes: [{ name, persistentVolumeClaim: { claimName: loc.claim } }],
      volumeMounts: [
        { name, mountPath: mountPath('model'), readOnly: true, ...(subPath ? { subPath } : {}) },
        { name, mountPath: mountPath('profile'), ...(subPath ? { subPath } : {}) },
      ],
      initContainers: [],
    };
  }
  if (loc.scheme !== 'file') return undefined;
  const path = decodeURIComponent(new URL(mv.spec.artifact.uri).pathname);
  return {
    modelDir: mountPath('model'),
    profileOut,
    volumes: [{ name: NODE_ARTIFACT_VOLUME, hostPath: { path, type: 'Directory' } }],
    volumeMounts: [
      { name: NODE_ARTIFACT_VOLUME, mountPath: mountPath('model'), readOnly: true },
      { name: NODE_ARTIFACT_VOLUME, mountPath: mountPath('profile') },
    ],
    initContainers: [],
  };
}

/**
 * The artifact as the validation pod sees it. A downloaded one (s3://, https://) is validated
 * from the fetch step's copy; its profile is uploaded next to model.onnx for s3://, and for a
 * read-only https:// location kept in the pod only (a published model brings its own).
 */
function artifactMounts(mv: ModelVersion, image: string): ArtifactMounts {
  const mounted = mountedArtifact(mv);
  if (mounted) return mounted;
  const fetched = readOnlyStorage(mv.spec.artifact, { image, role: 'model' });
  const s3 = parseStorageUri(mv.spec.artifact.uri).scheme === 's3';
  const secretRef = mv.spec.artifact.secretRef;
  return {
    modelDir: fetched.dir,
    profileOut: s3 ? joinUri(mv.spec.artifact.uri, 'profile.json') : `${mountPath('profile')}/profile.json`,
    volumes: [...fetched.volumes, ...(s3 ? [] : [{ name: 'profile', emptyDir: {} }])],
    volumeMounts: [...fetched.volumeMounts, ...(s3 ? [] : [{ name: 'profile', mountPath: mountPath('profile') }])],
    initContainers: fetched.initContainers,
    ...(s3 && secretRef ? { envFrom: [{ secretRef: { name: secretRef.name } }] } : {}),
  };
}

function validateContainer(
  mv: ModelVersion,
  mounts: ArtifactMounts,
  opts: ValidationJobOptions & { image: string },
): ContainerSpec {
  const digest = mv.spec.artifact.digest;
  return {
    name: VALIDATE_CONTAINER,
    image: opts.image,
    ...(opts.imagePullPolicy ? { imagePullPolicy: opts.imagePullPolicy } : {}),
    args: [
      'validate',
      '--model-dir',
      mounts.modelDir,
      '--profile-out',
      mounts.profileOut,
      ...(digest ? ['--expect-digest', digest] : []),
    ],
    env: [{ name: 'MODELSHIP_MODEL_VERSION', value: mv.metadata.name ?? '' }],
    ...(mounts.envFrom ? { envFrom: mounts.envFrom } : {}),
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '2Gi' } },
    ...(mounts.volumeMounts.length ? { volumeMounts: mounts.volumeMounts } : {}),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: RESTRICTED_JOB_CONTAINER_SECURITY,
  };
}

/** The validation Job. Throws StorageUriError for an artifact location it cannot mount. */
export function buildValidationJob(mv: ModelVersion, opts: ValidationJobOptions = {}): Job {
  const name = mv.metadata.name ?? '';
  const image = opts.servingImage ?? DEFAULT_SERVING_IMAGE;
  const mounts = artifactMounts(mv, image);
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
  const container = validateContainer(mv, mounts, { ...opts, image });
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
          ...(mounts.initContainers.length ? { initContainers: mounts.initContainers } : {}),
          containers: [container],
          ...(mounts.volumes.length ? { volumes: mounts.volumes } : {}),
        },
      },
    },
  };
}
