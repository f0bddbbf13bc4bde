// The object-storage URIs the fetch and upload steps accept (pure): `s3://bucket/prefix` and
// `https://host/path/` (a model on a web server; `.tar`/`.tar.gz` for an archive to unpack).
// Plain `http://` only with `allowHttp`. The operator mounts pvc:// and file:// itself.
import { StorageError } from './errors.js';

export interface S3Location {
  kind: 's3';
  bucket: string;
  /** Without leading or trailing slashes; '' = the whole bucket. */
  prefix: string;
}

export interface HttpLocation {
  kind: 'https';
  url: URL;
  /** Set when the URI names an archive to unpack instead of a model folder. */
  archive?: 'tar' | 'tar.gz';
}

export type StorageLocation = S3Location | HttpLocation;

// Looser than AWS's rules (lower case, 3–63): Ceph and MinIO accept legacy names too.
const BUCKET = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}$/;

function unsupported(uri: string, why: string): StorageError {
  return new StorageError('UnsupportedScheme', `${redactUri(uri)}: ${why}`);
}

export function parseS3Uri(uri: string): S3Location {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  if (!BUCKET.test(bucket))
    throw unsupported(uri, `"${bucket}" is not a valid bucket name (expected s3://bucket/prefix)`);
  const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
  if (prefix.split('/').some((p) => p === '..' || p === '.'))
    throw unsupported(uri, 'the prefix may not contain "." or ".." segments');
  return { kind: 's3', bucket, prefix };
}

function parseHttpUri(uri: string, allowHttp: boolean): HttpLocation {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw unsupported(uri, 'not a valid URL');
  }
  if (url.protocol === 'http:' && !allowHttp)
    throw unsupported(uri, 'plain http:// is refused (models must not travel unauthenticated); use https://');
  const archive = /\.tar\.gz$|\.tgz$/.test(url.pathname) ? 'tar.gz' : url.pathname.endsWith('.tar') ? 'tar' : undefined;
  if (!archive && !url.pathname.endsWith('/')) url.pathname += '/';
  return { kind: 'https', url, archive };
}

/** Parses a `--from`/`--to` URI; any other scheme is an UnsupportedScheme StorageError. */
export function parseStorageUri(uri: string, opts: { allowHttp?: boolean } = {}): StorageLocation {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === 's3') return parseS3Uri(uri);
  if (scheme === 'https' || scheme === 'http') return parseHttpUri(uri, opts.allowHttp ?? false);
  throw unsupported(
    uri,
    scheme
      ? `scheme ${scheme}:// is not supported here (supported: s3://bucket/prefix, https://host/path/)`
      : 'not a URI (expected s3://bucket/prefix or https://host/path/)',
  );
}

/** A URI fit for logs and messages: no user:password, no query (signed URLs carry secrets there). */
export function redactUri(uri: string | URL): string {
  try {
    const url = new URL(String(uri));
    if (url.protocol === 's3:') return String(uri);
    const auth = url.username || url.password ? '***@' : '';
    const query = url.search ? '?…' : '';
    return `${url.protocol}//${auth}${url.host}${url.pathname}${query}`;
  } catch {
    return String(uri)
      .replace(/\/\/[^/@]*@/, '//***@')
      .replace(/\?.*$/, '?…');
  }
}

export function describeLocation(loc: StorageLocation): string {
  return loc.kind === 's3' ? `s3://${loc.bucket}/${loc.prefix}` : redactUri(loc.url);
}
