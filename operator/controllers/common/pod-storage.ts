// How a location reaches the process in a pod (pure): a claim or a node folder is mounted; an
// s3:// or https:// location is downloaded into an emptyDir by an init container running the
// serving image's `fetch` step before the process starts, with the model's digest checked on
// the way. Credentials of an s3:// location (its secretRef) go to that init container only, as
// environment with the AWS SDKs' own names; without one the SDK's default chain applies.
import { RESTRICTED_CONTAINER_SECURITY } from './security.js';
import {
  claimVolumeName,
  isPvc,
  isRemote,
  mountPath,
  NODE_ARTIFACT_VOLUME,
  parseStorageUri,
  StorageUriError,
} from './storage.js';

/** A location as a CRD gives it: URI, optional Secret with S3 credentials, optional model digest. */
export interface StorageSource {
  uri: string;
  secretRef?: { name: string };
  digest?: string;
}

/** What a pod needs to see `source` at `dir`. */
export interface PodStorage {
  dir: string;
  volumes: object[];
  volumeMounts: object[];
  initContainers: object[];
}

export interface FetchOptions {
  /** The serving image (its `fetch` step). */
  image: string;
  /** Role of the location in the pod: the directory under the mount root and the volume's name. */
  role: 'model' | 'dataset';
  imagePullPolicy?: string;
}

/** The fetch step's termination message says why it failed (DigestMismatch, NoSuchBucket, ...). */
function fetchContainer(source: StorageSource, opts: FetchOptions, dir: string): object {
  const args = ['fetch', '--from', source.uri, '--to', dir];
  if (source.digest) args.push('--expect-digest', source.digest);
  return {
    name: `fetch-${opts.role}`,
    image: opts.image,
    ...(opts.imagePullPolicy ? { imagePullPolicy: opts.imagePullPolicy } : {}),
    args,
    ...(source.secretRef ? { envFrom: [{ secretRef: { name: source.secretRef.name } }] } : {}),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    volumeMounts: [{ name: opts.role, mountPath: dir }],
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    securityContext: RESTRICTED_CONTAINER_SECURITY,
  };
}

/**
 * `source` read-only at mountPath(role): a claim (subPath for its folder), a node folder
 * (hostPath, which namespaces enforcing the restricted Pod Security level refuse) or an emptyDir
 * an init container fills. Throws StorageUriError for a location no pod can read.
 */
export function readOnlyStorage(source: StorageSource, opts: FetchOptions): PodStorage {
  const dir = mountPath(opts.role);
  const loc = parseStorageUri(source.uri);
  if (isPvc(loc)) {
    const name = claimVolumeName(loc.claim);
    return {
      dir,
      volumes: [{ name, persistentVolumeClaim: { claimName: loc.claim, readOnly: true } }],
      volumeMounts: [{ name, mountPath: dir, readOnly: true, ...(loc.path ? { subPath: loc.path } : {}) }],
      initContainers: [],
    };
  }
  if (loc.scheme === 'file') {
    const path = decodeURIComponent(new URL(source.uri).pathname);
    return {
      dir,
      volumes: [{ name: NODE_ARTIFACT_VOLUME, hostPath: { path, type: 'Directory' } }],
      volumeMounts: [{ name: NODE_ARTIFACT_VOLUME, mountPath: dir, readOnly: true }],
      initContainers: [],
    };
  }
  if (!isRemote(loc)) throw new StorageUriError(`${source.uri} cannot be read by a pod`);
  return {
    dir,
    volumes: [{ name: opts.role, emptyDir: {} }],
    volumeMounts: [{ name: opts.role, mountPath: dir, readOnly: true }],
    initContainers: [fetchContainer(source, opts, dir)],
  };
}
