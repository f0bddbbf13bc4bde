// The batch/v1 Job a TrainingRun wants (pure). Hyperparameters reach the trainer twice, as
// `--name=value` arguments after spec.args and as HP_<NAME> variables, so trainers can read
// whichever they prefer. pvc:// data sets are mounted read-only, the output claim read-write,
// and every run writes into its own directory <output.uri>/<run name>/.
import {
  BUILTIN_WORKLOAD_DEFAULTS,
  Labels,
  podPlacement,
  withTrainingRunDefaults,
  type TrainingRun,
  type WorkloadDefaults,
} from '../../api/index.js';
import type { ContainerSpec, Job } from '../common/k8s.js';
import { shortName } from '../common/names.js';
import { DEFAULT_SERVING_IMAGE } from '../common/images.js';
import { controllerReference } from '../common/owner.js';
import { readOnlyStorage } from '../common/pod-storage.js';
import { RESTRICTED_JOB_CONTAINER_SECURITY } from '../common/security.js';
import { cpuCores } from '../inferenceservice/threadpool.js';
import {
  claimVolumeName,
  isPvc,
  joinUri,
  mountPath,
  parseStorageUri,
  pathInMount,
  isRemote,
  type StorageLocation,
} from '../common/storage.js';

export const TRAINER_CONTAINER = 'trainer';
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
export const NVIDIA_GPU = 'nvidia.com/gpu';
/** The taint the NVIDIA GPU operator and the cloud GPU node pools put on GPU nodes. */
export const NVIDIA_TOLERATION = { key: NVIDIA_GPU, operator: 'Exists', effect: 'NoSchedule' } as const;
/** Annotation on the Job: what it was built from, so registration records the lineage it ran with. */
export const LINEAGE_ANNOTATION = 'modelship.dev/lineage';
/** Annotation on pods (full name; labels are capped at 63 characters). */
export const TRAINING_RUN_ANNOTATION = 'modelship.dev/training-run';
/** The step that uploads an s3:// output after the trainer succeeded. */
export const UPLOAD_CONTAINER = 'upload';

export interface Lineage {
  image: string;
  hyperparameters: Record<string, string>;
  dataset: { uri: string; version?: string };
}

/** Name of the run's Job: the run's name, shortened with a hash when it would not fit. */
export const trainingJobName = (run: TrainingRun): string => shortName(run.metadata.name ?? '', 63);

/** The directory URI the run's artifact is written to: <output.uri>/<run name>. */
export const artifactUri = (run: TrainingRun): string => joinUri(run.spec.output.uri, run.metadata.name ?? '');

export const hyperparameterEnvName = (name: string): string => `HP_${name.toUpperCase()}`;

export function lineageOf(run: TrainingRun): Lineage {
  return {
    image: run.spec.image,
    hyperparameters: { ...(run.spec.hyperparameters ?? {}) },
    dataset: { uri: run.spec.dataset.uri, ...(run.spec.dataset.version ? { version: run.spec.dataset.version } : {}) },
  };
}

export function runLabels(run: TrainingRun): Record<string, string> {
  return {
    [Labels.trainingRun]: shortName(run.metadata.name ?? ''),
    [Labels.model]: run.spec.model,
    [Labels.managedBy]: 'modelship',
  };
}

interface Mounts {
  volumes: object[];
  volumeMounts: object[];
  /** What the trainer sees for dataset and output locations. */
  datasetPath: string;
  outputPath: string;
  /** Steps before the trainer: the data set's download. */
  fetchSteps: object[];
  /** The step after the trainer: the output's upload to object storage. */
  upload?: object;
}

/** Volumes for pvc:// locations; one volume per claim even when data and output share it. */
function claimMounts(run: TrainingRun, dataset: StorageLocation, output: StorageLocation): Mounts {
  const volumes = new Map<string, { name: string; persistentVolumeClaim: { claimName: string; readOnly?: boolean } }>();
  const volumeMounts: object[] = [];
  const runName = run.metadata.name ?? '';
  let datasetPath = run.spec.dataset.uri;
  let outputPath = artifactUri(run);
  if (isPvc(output)) {
    const name = claimVolumeName(output.claim);
    volumes.set(name, { name, persistentVolumeClaim: { claimName: output.claim } });
    volumeMounts.push({ name, mountPath: mountPath('output') });
    outputPath = `${pathInMount(output, mountPath('output'))}/${runName}`;
  }
  if (isPvc(dataset)) {
    const name = claimVolumeName(dataset.claim);
    // A claim only read from is mounted read-only at the volume level too.
    if (!volumes.has(name))
      volumes.set(name, { name, persistentVolumeClaim: { claimName: dataset.claim, readOnly: true } });
    volumeMounts.push({ name, mountPath: mountPath('dataset'), readOnly: true });
    datasetPath = pathInMount(dataset, mountPath('dataset'));
  }
  return { volumes: [...volumes.values()], volumeMounts, datasetPath, outputPath, fetchSteps: [] };
}

/** The upload step: the trainer's output directory to <output.uri>/<run name>/, with the output's credentials. */
function uploadContainer(run: TrainingRun, image: string, from: string): object {
  const secretRef = run.spec.output.secretRef;
  return {
    name: UPLOAD_CONTAINER,
    image,
    args: ['upload', '--from', from, '--to', artifactUri(run)],
    ...(secretRef ? { envFrom: [{ secretRef: { name: secretRef.name } }] } : {}),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    volumeMounts: [{ name: 'output', mountPath: mountPath('output'), readOnly: true }],
    terminationMessagePath: TERMINATION_MESSAGE_PATH,
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: RESTRICTED_JOB_CONTAINER_SECURITY,
  };
}

/**
 * Where the trainer's data and output live in the pod. Claims are mounted; an s3:// or https://
 * data set is downloaded first into an emptyDir; an s3:// output is an emptyDir the trainer
 * writes and the upload step sends to <output.uri>/<run name>/ after the trainer succeeded, so
 * the trainer image needs no S3 library and each run writes under its own prefix.
 */
function storageMounts(run: TrainingRun, image: string): Mounts {
  const dataset = parseStorageUri(run.spec.dataset.uri);
  const output = parseStorageUri(run.spec.output.uri);
  const mounts = claimMounts(run, dataset, output);
  if (isRemote(dataset)) {
    const fetched = readOnlyStorage(run.spec.dataset, { image, role: 'dataset' });
    mounts.volumes.push(...fetched.volumes);
    mounts.volumeMounts.push(...fetched.volumeMounts);
    mounts.fetchSteps.push(...fetched.initContainers);
    mounts.datasetPath = fetched.dir;
  }
  if (output.scheme === 's3') {
    mounts.volumes.push({ name: 'output', emptyDir: {} });
    mounts.volumeMounts.push({ name: 'output', mountPath: mountPath('output') });
    mounts.outputPath = `${mountPath('output')}/${run.metadata.name ?? ''}`;
    mounts.upload = uploadContainer(run, image, mounts.outputPath);
  }
  return mounts;
}

function resourceRequirements(run: TrainingRun): object | undefined {
  const { cpu, memory, gpus } = run.spec.resources;
  const amounts: Record<string, string> = {};
  if (cpu !== undefined) amounts.cpu = String(cpu);
  if (memory !== undefined) amounts.memory = String(memory);
  const limits: Record<string, string> = { ...amounts };
  if (gpus && gpus > 0) limits[NVIDIA_GPU] = String(gpus);
  if (Object.keys(limits).length === 0) return undefined;
  return { ...(Object.keys(amounts).length ? { requests: amounts } : {}), limits };
}

/** The run's tolerations plus the NVIDIA one when it asks for GPUs and none covers them yet. */
function tolerations(run: TrainingRun): TrainingRun['spec']['tolerations'] {
  const list = [...(run.spec.tolerations ?? [])];
  const gpus = run.spec.resources.gpus;
  const hasNvidia = list.some((t) => t.key === NVIDIA_GPU && (t.operator ?? 'Equal') === 'Exists');
  if (gpus > 0 && !hasNvidia) list.push({ ...NVIDIA_TOLERATION });
  return list.length ? list : undefined;
}

/**
 * OMP_NUM_THREADS from the run's CPU limit, in whole cores: PyTorch, NumPy and the BLAS libraries
 * start one thread per core of the node, not of the container's CPU quota, so a 1-core trainer
 * on a 64-core node would run 64 threads in one core's quota, throttled most of each period.
 * None without a CPU limit, or when the run's own env sets it.
 */
function threadEnv(run: TrainingRun): NonNullable<ContainerSpec['env']> {
  const cores = cpuCores(run.spec.resources.cpu);
  if (cores === undefined || (run.spec.env ?? []).some((e) => e.name === 'OMP_NUM_THREADS')) return [];
  return [{ name: 'OMP_NUM_THREADS', value: String(Math.max(1, Math.ceil(cores))) }];
}

function trainerEnv(run: TrainingRun, mounts: Mounts): NonNullable<ContainerSpec['env']> {
  const hp = Object.entries(run.spec.hyperparameters ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return [
    ...threadEnv(run),
    { name: 'DATASET_URI', value: mounts.datasetPath },
    ...(run.spec.dataset.version ? [{ name: 'DATASET_VERSION', value: run.spec.dataset.version }] : []),
    { name: 'OUTPUT_URI', value: mounts.outputPath },
    { name: 'ARTIFACT_URI', value: artifactUri(run) },
    { name: 'MODELSHIP_MODEL', value: run.spec.model },
    { name: 'MODELSHIP_TRAINING_RUN', value: run.metadata.name ?? '' },
    ...hp.map(([k, v]) => ({ name: hyperparameterEnvName(k), value: v })),
    ...(run.spec.env ?? []),
  ];
}

function trainerContainer(run: TrainingRun, mounts: Mounts): ContainerSpec {
  const hpArgs = Object.entries(run.spec.hyperparameters ?? {})
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `--${k}=${v}`);
  const resources = resourceRequirements(run);
  return {
    name: TRAINER_CONTAINER,
    image: run.spec.image,
    ...(run.spec.imagePullPolicy ? { imagePullPolicy: run.spec.imagePullPolicy } : {}),
    ...(run.spec.command?.length ? { command: [...run.spec.command] } : {}),
    args: [...(run.spec.args ?? []), ...hpArgs],
    env: trainerEnv(run, mounts),
    ...(resources ? { resources } : {}),
    ...(mounts.volumeMounts.length ? { volumeMounts: mounts.volumeMounts } : {}),
    terminationMessagePath: TERMINATION_MESSAGE_PATH,
    // A trainer that dies before writing its summary still tells why (the log's tail).
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: RESTRICTED_JOB_CONTAINER_SECURITY,
  };
}

/**
 * The Job for a TrainingRun, placed by the run's own fields over the operator's workload
 * defaults. Throws StorageUriError for a location it cannot mount.
 */
export function buildTrainingJob(
  stored: TrainingRun,
  defaults: WorkloadDefaults = BUILTIN_WORKLOAD_DEFAULTS,
  servingImage: string = DEFAULT_SERVING_IMAGE,
): Job {
  const run = { ...stored, spec: withTrainingRunDefaults(stored.spec) };
  const name = run.metadata.name ?? '';
  const mounts = storageMounts(run, servingImage);
  const labels = runLabels(run);
  const { imagePullSecrets, serviceAccountName, nodeSelector, affinity, securityContext } = run.spec;
  const placement = podPlacement(
    { imagePullSecrets, serviceAccountName, nodeSelector, tolerations: tolerations(run), affinity, securityContext },
    defaults,
  );
  const trainer = trainerContainer(run, mounts);
  // With an upload step the trainer runs as the last init container: the upload starts only
  // after it succeeded. GPU requests stay on the trainer either way.
  const initContainers = [...mounts.fetchSteps, ...(mounts.upload ? [trainer] : [])];
  const containers = [(mounts.upload as ContainerSpec | undefined) ?? trainer];
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: trainingJobName(run),
      namespace: run.metadata.namespace,
      labels,
      annotations: { [LINEAGE_ANNOTATION]: JSON.stringify(lineageOf(run)), [TRAINING_RUN_ANNOTATION]: name },
      ownerReferences: [controllerReference('TrainingRun', run)],
    },
    spec: {
      backoffLimit: run.spec.backoffLimit,
      completions: 1,
      parallelism: 1,
      ...(run.spec.activeDeadlineSeconds !== undefined
        ? { activeDeadlineSeconds: run.spec.activeDeadlineSeconds }
        : {}),
      ...(run.spec.ttlSecondsAfterFinished !== undefined
        ? { ttlSecondsAfterFinished: run.spec.ttlSecondsAfterFinished }
        : {}),
      template: {
        metadata: { labels, annotations: { [TRAINING_RUN_ANNOTATION]: name } },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...placement,
          ...(run.spec.priorityClassName ? { priorityClassName: run.spec.priorityClassName } : {}),
          ...(initContainers.length ? { initContainers } : {}),
          containers,
          ...(mounts.volumes.length ? { volumes: mounts.volumes } : {}),
        },
      },
    },
  };
}

/** The lineage a Job was built from (its annotation), or undefined when absent or unreadable. */
export function lineageFromJob(job: Job | undefined): Lineage | undefined {
  const text = job?.metadata?.annotations?.[LINEAGE_ANNOTATION];
  if (!text) return undefined;
  try {
    const v = JSON.parse(text) as Lineage;
    return typeof v?.image === 'string' && v.dataset && typeof v.dataset.uri === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
