// Pure part of kubeconfig loading: from a parsed kubeconfig document, the current context's
// server, TLS settings and static credentials, with file paths resolved against the
// kubeconfig's folder (as kubectl does). Anything beyond that (exec plugins, auth providers,
// proxies, impersonation) is reported as `unsupported`, so the caller can hand the file to
// @kubernetes/client-node instead of half-honouring it.

export interface FileOrData {
  /** Absolute path of a PEM file. */
  file?: string;
  /** PEM text (from a base64 `*-data` field). */
  data?: string;
}

export interface ResolvedAccess {
  server: string;
  namespace?: string;
  ca?: FileOrData;
  clientCert?: FileOrData;
  clientKey?: FileOrData;
  insecureSkipTlsVerify: boolean;
  tlsServerName?: string;
  /** A static bearer token, or a file read again whenever credentials are refreshed (rotation). */
  token?: string;
  tokenFile?: string;
  basicAuth?: { username: string; password: string };
}

export type Resolution = { ok: true; access: ResolvedAccess } | { ok: false; server: string; unsupported: string };

/** Cluster and user fields honoured here; any other one means "let client-node do it". */
const CLUSTER_FIELDS = new Set([
  'server',
  'certificate-authority',
  'certificate-authority-data',
  'insecure-skip-tls-verify',
  'tls-server-name',
  'extensions',
]);
const USER_FIELDS = new Set([
  'token',
  'tokenFile',
  'client-certificate',
  'client-certificate-data',
  'client-key',
  'client-key-data',
  'username',
  'password',
  'extensions',
]);

type Named<K extends string> = { name?: string } & Record<K, Record<string, unknown> | undefined>;

export interface KubeconfigDoc {
  'current-context'?: string;
  clusters?: Array<Named<'cluster'>>;
  users?: Array<Named<'user'>>;
  contexts?: Array<Named<'context'>>;
}

/**
 * Resolves the current context of `doc` (a parsed kubeconfig whose file lies in `dir`).
 * Throws for a kubeconfig that cannot work at all (no current context, unknown cluster).
 */
export function resolveKubeconfig(raw: unknown, dir: string): Resolution {
  const doc = (raw ?? {}) as KubeconfigDoc;
  const contextName = doc['current-context'];
  if (!contextName) throw new KubeconfigError('kubeconfig has no current-context');
  const context = findNamed(doc.contexts, contextName, 'context')?.context ?? {};
  const clusterName = context.cluster as string | undefined;
  const cluster = clusterName ? findNamed(doc.clusters, clusterName, 'cluster')?.cluster : undefined;
  if (!cluster || typeof cluster.server !== 'string')
    throw new KubeconfigError(`kubeconfig context ${contextName} has no cluster with a server`);
  const user = (context.user ? findNamed(doc.users, context.user as string, 'user')?.user : undefined) ?? {};
  const server = cluster.server.replace(/\/+$/, '');
  const extraCluster = Object.keys(cluster).find((k) => !CLUSTER_FIELDS.has(k));
  if (extraCluster) return { ok: false, server, unsupported: `cluster field ${extraCluster}` };
  const extraUser = Object.keys(user).find((k) => !USER_FIELDS.has(k));
  if (extraUser) return { ok: false, server, unsupported: `user field ${extraUser}` };
  const str = (o: Record<string, unknown>, k: string) =>
    typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined;
  const access: ResolvedAccess = {
    server,
    namespace: str(context, 'namespace'),
    ca: fileOrData(str(cluster, 'certificate-authority'), str(cluster, 'certificate-authority-data'), dir),
    clientCert: fileOrData(str(user, 'client-certificate'), str(user, 'client-certificate-data'), dir),
    clientKey: fileOrData(str(user, 'client-key'), str(user, 'client-key-data'), dir),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: str(cluster, 'tls-server-name'),
    token: str(user, 'token'),
    tokenFile: str(user, 'tokenFile') ? absolute(str(user, 'tokenFile')!, dir) : undefined,
    basicAuth: str(user, 'username')
      ? { username: str(user, 'username')!, password: str(user, 'password') ?? '' }
      : undefined,
  };
  return { ok: true, access: dropUndefined(access) };
}

const PATH_FIELDS = ['certificate-authority', 'client-certificate', 'client-key', 'tokenFile'];

/**
 * Merges kubeconfig files as kubectl does for a KUBECONFIG list: the first file to name a
 * cluster, user or context (or to set current-context) wins. Relative paths are made absolute
 * against their own file's folder first, since the merged document has no single folder.
 */
export function mergeKubeconfigs(files: Array<{ doc: unknown; dir: string }>): KubeconfigDoc {
  const merged: Required<Omit<KubeconfigDoc, 'current-context'>> & Pick<KubeconfigDoc, 'current-context'> = {
    clusters: [],
    users: [],
    contexts: [],
  };
  for (const { doc, dir } of files) {
    const d = (doc ?? {}) as KubeconfigDoc;
    merged['current-context'] ??= d['current-context'] || undefined;
    for (const [list, field] of [
      ['clusters', 'cluster'],
      ['users', 'user'],
      ['contexts', 'context'],
    ] as const) {
      for (const entry of (d[list] ?? []) as Array<Named<string>>) {
        if (!entry?.name || merged[list].some((e) => e.name === entry.name)) continue;
        const body = { ...(entry[field] ?? {}) };
        for (const k of PATH_FIELDS)
          if (typeof body[k] === 'string' && body[k] !== '') body[k] = absolute(body[k] as string, dir);
        (merged[list] as Array<Record<string, unknown>>).push({ name: entry.name, [field]: body });
      }
    }
  }
  return merged;
}

/** The in-cluster service account's access (client-go's rest.InClusterConfig). */
export function inClusterAccess(env: NodeJS.ProcessEnv, serviceAccountDir: string): ResolvedAccess | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) return undefined;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${hostPart}:${port}`,
    ca: { file: `${serviceAccountDir}/ca.crt` },
    tokenFile: `${serviceAccountDir}/token`,
    insecureSkipTlsVerify: false,
  };
}

export class KubeconfigError extends Error {
  override name = 'KubeconfigError';
}

function findNamed<K extends string>(list: Array<Named<K>> | undefined, name: string, what: K): Named<K> | undefined {
  const found = (list ?? []).find((e) => e?.name === name);
  if (!found && what !== 'user') throw new KubeconfigError(`kubeconfig has no ${what} named ${name}`);
  return found;
}

function fileOrData(file: string | undefined, data: string | undefined, dir: string): FileOrData | undefined {
  if (data) return { data: Buffer.from(data, 'base64').toString('utf8') };
  if (file) return { file: absolute(file, dir) };
  return undefined;
}

function absolute(path: string, dir: string): string {
  return path.startsWith('/') ? path : `${dir.replace(/\/+$/, '')}/${path}`;
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
