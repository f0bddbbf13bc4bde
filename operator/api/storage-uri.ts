// Locations of data sets and model artifacts as the CRDs write them (dataset.uri, output.uri,
// artifact.uri): pvc://<claim>/<path> for a PersistentVolumeClaim (mounted into Jobs and serving
// pods), file:///<path> for a node-local path, anything else (s3://, gs://, https://) remote.
// One parser for every controller, so that a Job and a serving pod agree on where files are.

export type StorageLocation =
  | { scheme: 'pvc'; claim: string; path: string }
  | { scheme: 'file'; path: string }
  | { scheme: 'remote'; protocol: string; uri: string };

export class StorageUriError extends Error {
  override name = 'StorageUriError';
}

const CLAIM = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Path segments without empty parts; "." and ".." are refused so a URI cannot leave its volume. */
function segments(path: string, uri: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) throw new StorageUriError(`${uri}: "." and ".." are not allowed in storage paths`);
  return parts;
}

export function parseStorageUri(uri: string): StorageLocation {
  const match = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/.exec(uri);
  if (!match) throw new StorageUriError(`${uri}: expected <scheme>://..., e.g. pvc://<claim>/<path>`);
  const [, protocol, rest] = match;
  if (protocol === 'pvc') {
    const [claim, ...path] = rest.split('/');
    if (!claim || claim.length > 253 || !CLAIM.test(claim)) {
      throw new StorageUriError(`${uri}: "${claim}" is not a PersistentVolumeClaim name`);
    }
    return { scheme: 'pvc', claim, path: segments(path.join('/'), uri).join('/') };
  }
  if (protocol === 'file') {
    if (!rest.startsWith('/')) throw new StorageUriError(`${uri}: file URIs need an absolute path (file:///...)`);
    return { scheme: 'file', path: `/${segments(rest, uri).join('/')}` };
  }
  return { scheme: 'remote', protocol, uri };
}

export function formatStorageUri(location: StorageLocation): string {
  switch (location.scheme) {
    case 'pvc':
      return location.path ? `pvc://${location.claim}/${location.path}` : `pvc://${location.claim}`;
    case 'file':
      return `file://${location.path}`;
    case 'remote':
      return location.uri;
  }
}

/** `base` with more path segments, e.g. the per-run output directory <output.uri>/<run name>. */
export function joinStorageUri(base: string, ...more: string[]): string {
  const location = parseStorageUri(base);
  const extra = more.flatMap((m) => segments(m, m));
  switch (location.scheme) {
    case 'pvc':
      return formatStorageUri({ ...location, path: [...segments(location.path, base), ...extra].join('/') });
    case 'file':
      return formatStorageUri({ ...location, path: `/${[...segments(location.path, base), ...extra].join('/')}` });
    case 'remote':
      return [location.uri.replace(/\/+$/, ''), ...extra].join('/');
  }
}
