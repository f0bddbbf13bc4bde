// Storage locations as the CRDs write them (dataset.uri, output.uri, artifact.uri):
// `pvc://<claim>/<path>` for a PersistentVolumeClaim, `file:///<path>` for a folder on the node,
// `s3://<bucket>/<prefix>` for object storage and `https://` for files published on a web server
// (read-only). One parser for every controller, so that a training Job, a validation Job and a
// serving pod agree on where the files are. A pvc:// location reaches a pod as the claim mounted
// under a fixed directory; s3:// and https:// are downloaded into an emptyDir by an init
// container (pod-storage.ts). The schema refuses other schemes. Pure.

/** Where claims are mounted inside training, validation and serving pods. */
export const MOUNT_ROOT = '/var/run/modelship';

export class StorageUriError extends Error {
  override name = 'StorageUriError';
}

export interface PvcLocation {
  scheme: 'pvc';
  claim: string;
  /** Path inside the claim, without leading or trailing slashes ('' for the claim's root). */
  path: string;
}

export interface S3Location {
  scheme: 's3';
  bucket: string;
  /** Key prefix without leading or trailing slashes ('' for the whole bucket). */
  prefix: string;
  uri: string;
}

export interface OtherLocation {
  scheme: 'file' | 'https';
  uri: string;
}

export type StorageLocation = PvcLocation | S3Location | OtherLocation;

/** Bucket names as S3 allows them (3–63 lowercase letters, digits, dots and hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function parseStorageUri(uri: string): StorageLocation {
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/.exec(uri);
  if (!m) throw new StorageUriError(`"${uri}" is not a URI with a scheme (e.g. pvc://claim/path)`);
  const [, scheme, rest] = m;
  if (scheme === 's3') return parseS3(uri, rest);
  if (scheme === 'file' || scheme === 'https') return { scheme, uri };
  if (scheme !== 'pvc') {
    throw new StorageUriError(`"${uri}": unsupported scheme ${scheme}:// (use pvc://, file://, s3:// or https://)`);
  }
  const [claim, ...parts] = rest.split('/');
  if (!claim || claim.length > 253 || !DNS_SUBDOMAIN.test(claim)) {
    throw new StorageUriError(`"${uri}": "${claim}" is not a PersistentVolumeClaim name`);
  }
  const segments = parts.filter((p) => p !== '' && p !== '.');
  if (segments.includes('..')) throw new StorageUriError(`"${uri}": ".." is not allowed in a pvc:// path`);
  return { scheme: 'pvc', claim, path: segments.join('/') };
}

function parseS3(uri: string, rest: string): S3Location {
  const [bucket, ...parts] = rest.split('/');
  if (!BUCKET.test(bucket)) throw new StorageUriError(`"${uri}": "${bucket}" is not an S3 bucket name`);
  const segments = parts.filter((p) => p !== '' && p !== '.');
  if (segments.includes('..')) throw new StorageUriError(`"${uri}": ".." is not allowed in an s3:// key`);
  return { scheme: 's3', bucket, prefix: segments.join('/'), uri };
}

export const isPvc = (loc: StorageLocation): loc is PvcLocation => loc.scheme === 'pvc';

/** Locations a pod cannot mount: an init container downloads them first. */
export const isRemote = (loc: StorageLocation): boolean => loc.scheme === 's3' || loc.scheme === 'https';

/** `base` + `/` + `child`, without doubled slashes. */
export function joinUri(base: string, child: string): string {
  return `${base.replace(/\/+$/, '')}/${child.replace(/^\/+/, '')}`;
}

/** Volume name of a claim inside a pod (the same claim used twice shares one volume). */
export function claimVolumeName(claim: string): string {
  const safe = claim
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 50)
    .replace(/-+$/, '');
  return `pvc-${safe}`;
}

/** Volume name of a file:// artifact (the node's folder, a hostPath volume) inside a pod. */
export const NODE_ARTIFACT_VOLUME = 'node-artifact';

/** Directory where a claim is mounted, for a given role (dataset, output, model). */
export function mountPath(role: string): string {
  return `${MOUNT_ROOT}/${role}`;
}

/** The path a process sees for a pvc:// location mounted (whole claim) at `mountDir`. */
export function pathInMount(loc: PvcLocation, mountDir: string): string {
  return loc.path ? `${mountDir}/${loc.path}` : mountDir;
}
