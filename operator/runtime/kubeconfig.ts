// Loads the kubeconfig the way kubectl users expect: --kubeconfig FILE, else $KUBECONFIG,
// ~/.kube/config, or the in-cluster service account (client-node's loadFromDefault order).
//
// Server, CA, client certificates, bearer tokens (also from a file, re-read on every refresh so
// rotated service-account tokens are picked up) and basic auth are handled here. Loading
// @kubernetes/client-node costs ~65 MB of resident memory (its generated API models load with
// it), most of the operator's footprint, so it is imported only for a kubeconfig that needs
// what only it implements: exec plugins, auth providers, proxies.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, resolve } from 'node:path';
import yaml from 'js-yaml';
import {
  inClusterAccess,
  KubeconfigError,
  mergeKubeconfigs,
  resolveKubeconfig,
  type FileOrData,
  type ResolvedAccess,
} from './kubeconfig-resolve.js';

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What a request needs besides the URL: an agent for TLS (absent: Node's default) and headers. */
export interface ConnectionOptions {
  agent?: http.Agent;
  headers: Record<string, string>;
}

/** Where the API server is and how to talk to it. KubeTransport takes this or a client-node KubeConfig. */
export interface ClusterConnection {
  readonly server: string;
  /** The kubeconfig context's namespace, when it names one. */
  readonly namespace?: string;
  /** Options for the next requests; asked again from time to time (credentials rotate). */
  connection(): Promise<ConnectionOptions>;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  home?: string;
  serviceAccountDir?: string;
}

export function loadKubeConfig(file?: string, opts: LoadOptions = {}): ClusterConnection {
  const env = opts.env ?? process.env;
  const files = file ? [file] : defaultFiles(env, opts.home ?? homedir());
  if (files.length) return fromFiles(files.map((f) => resolve(f)));
  const access = inClusterAccess(env, opts.serviceAccountDir ?? SA_DIR);
  if (!access) throw new KubeconfigError('no kubeconfig found (use --kubeconfig, KUBECONFIG or run in a cluster)');
  return staticConnection(access);
}

/** The namespace this process runs in: POD_NAMESPACE, the service account's, else "default". */
export function ownNamespace(): string {
  if (process.env.POD_NAMESPACE) return process.env.POD_NAMESPACE;
  try {
    return readFileSync(`${SA_DIR}/namespace`, 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
}

function defaultFiles(env: NodeJS.ProcessEnv, home: string): string[] {
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter((f) => f && existsSync(f));
  const own = `${home}/.kube/config`;
  return existsSync(own) ? [own] : [];
}

function fromFiles(files: string[]): ClusterConnection {
  const docs = files.map((f) => {
    try {
      return { doc: yaml.load(readFileSync(f, 'utf8')), dir: dirname(f) };
    } catch (e) {
      throw new KubeconfigError(`cannot read kubeconfig ${f}`, { cause: e });
    }
  });
  const doc = docs.length === 1 ? docs[0].doc : mergeKubeconfigs(docs);
  const resolved = resolveKubeconfig(doc, docs[0].dir);
  if (resolved.ok) return staticConnection(resolved.access);
  return clientNodeConnection(resolved.server, files);
}

/** A connection from a resolved kubeconfig: one agent for the TLS settings, headers per refresh. */
export function staticConnection(access: ResolvedAccess): ClusterConnection {
  let agent: http.Agent | undefined;
  return {
    server: access.server,
    namespace: access.namespace,
    async connection() {
      agent ??= access.server.startsWith('https:')
        ? new https.Agent({ keepAlive: true, ...tlsOptions(access) })
        : undefined;
      return { agent, headers: authHeaders(access) };
    },
  };
}

/** TLS options of an https.Agent for `access` (files are read now). */
export function tlsOptions(access: ResolvedAccess): https.AgentOptions {
  const pem = (f: FileOrData | undefined) => f?.data ?? (f?.file ? readFileSync(f.file, 'utf8') : undefined);
  const opts: https.AgentOptions = { rejectUnauthorized: !access.insecureSkipTlsVerify };
  const ca = pem(access.ca);
  if (ca) opts.ca = ca;
  const cert = pem(access.clientCert);
  const key = pem(access.clientKey);
  if (cert && key) Object.assign(opts, { cert, key });
  if (access.tlsServerName) opts.servername = access.tlsServerName;
  return opts;
}

/** Authorization header for `access`; a token file is read on every call. */
export function authHeaders(access: ResolvedAccess): Record<string, string> {
  const token = access.token ?? (access.tokenFile ? readFileSync(access.tokenFile, 'utf8').trim() : undefined);
  if (token) return { Authorization: `Bearer ${token}` };
  if (access.basicAuth)
    return {
      Authorization: `Basic ${Buffer.from(`${access.basicAuth.username}:${access.basicAuth.password}`).toString('base64')}`,
    };
  return {};
}

/** client-node for kubeconfigs with exec plugins, auth providers or proxies (loaded on first use). */
function clientNodeConnection(server: string, files: string[]): ClusterConnection {
  let kc: Promise<import('@kubernetes/client-node').KubeConfig> | undefined;
  return {
    server,
    async connection() {
      kc ??= import('@kubernetes/client-node').then(({ KubeConfig }) => {
        const config = new KubeConfig();
        if (files.length === 1) config.loadFromFile(files[0]);
        else config.loadFromDefault();
        return config;
      });
      const opts: https.RequestOptions = {};
      await (await kc).applyToHTTPSOptions(opts);
      return connectionFromRequestOptions(opts);
    },
  };
}

/** Agent and headers from client-node's applyToHTTPSOptions result. */
export function connectionFromRequestOptions(opts: https.RequestOptions): ConnectionOptions {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.headers ?? {})) if (v !== undefined) headers[k] = String(v);
  if (opts.auth) headers.Authorization = `Basic ${Buffer.from(opts.auth).toString('base64')}`;
  return { agent: opts.agent as http.Agent | undefined, headers };
}
