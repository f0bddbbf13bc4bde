// Command-line flags of `npm run operator` (pure: argv in, typed flags or a usage error out).
import { parseWorkloadDefaults, WorkloadDefaultsError, type WorkloadDefaults } from '../api/placement.js';

export interface OperatorFlags {
  kubeconfig?: string;
  namespaces: string[];
  metricsPort: number;
  metricsHost?: string;
  leaderElect: boolean;
  leaseNamespace?: string;
  leaseName: string;
  prometheusUrl?: string;
  /** Further Prometheus addresses an InferenceService's spec.prometheus.address may name. */
  prometheusAllowedUrls: string[];
  logLevel?: string;
  /** Pod placement of every pod the operator creates, under the resource's own fields. */
  workloadDefaults?: WorkloadDefaults;
  /** prometheus.io annotations on serving and router pods. */
  scrapeAnnotations: boolean;
  /** What TrainingRuns may name: service accounts, priority classes, Secrets (none unless listed). */
  trainingRunAllowlist: { serviceAccounts: string[]; priorityClasses: string[]; secrets: string[] };
  help: boolean;
}

export const usage = `Usage: npm run operator -- [flags]
  --kubeconfig FILE          kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or in-cluster)
  --namespace NS             watch only this namespace; repeat for several (default: all)
  --metrics-port N           port of /healthz, /readyz and /metrics (default 8081; 0 picks a free port)
  --metrics-host ADDR        address to listen on (default: all interfaces)
  --leader-elect=true|false  campaign for the leader Lease before reconciling (default true)
  --lease-namespace NS       namespace of the Lease (default: the pod's namespace, else "default")
  --lease-name NAME          name of the Lease (default modelship-operator)
  --prometheus-url URL       default Prometheus address for InferenceService analysis
  --prometheus-allowed-url URL
                             a further Prometheus address (or path prefix) that an
                             InferenceService's spec.prometheus.address may name; repeat for
                             several (default: only --prometheus-url)
  --trainingrun-allowed-service-account NAME
  --trainingrun-allowed-priority-class NAME
  --trainingrun-allowed-secret NAME
                             a service account, priority class or Secret a TrainingRun may
                             name; repeat for several (default: none, so a run naming one fails
                             with reason NotAllowed)
  --log-level LEVEL          error, warn, info (default) or debug
  --workload-defaults JSON   imagePullSecrets, nodeSelector, tolerations, affinity and
                             podSecurityContext of every pod the operator creates, under the
                             resource's own fields (default {"podSecurityContext":{"fsGroup":65532}})
  --scrape-annotations=true|false
                             prometheus.io/scrape annotations on serving and router pods
                             (default true; false where PodMonitors scrape them, so no pod is
                             scraped twice)
  -h, --help                 print this help`;

export class FlagError extends Error {
  override name = 'FlagError';
}

const BOOLEAN = new Set(['leader-elect', 'scrape-annotations', 'help']);
const WITH_VALUE = new Set([
  'kubeconfig',
  'namespace',
  'metrics-port',
  'metrics-host',
  'lease-namespace',
  'lease-name',
  'prometheus-url',
  'prometheus-allowed-url',
  'trainingrun-allowed-service-account',
  'trainingrun-allowed-priority-class',
  'trainingrun-allowed-secret',
  'log-level',
  'workload-defaults',
]);

export function parseFlags(argv: string[]): OperatorFlags {
  const flags: OperatorFlags = {
    namespaces: [],
    prometheusAllowedUrls: [],
    metricsPort: 8081,
    leaderElect: true,
    leaseName: 'modelship-operator',
    scrapeAnnotations: true,
    trainingRunAllowlist: { serviceAccounts: [], priorityClasses: [], secrets: [] },
    help: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h') {
      flags.help = true;
      continue;
    }
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw new FlagError(`unexpected argument "${arg}"`);
    const name = m[1];
    if (!BOOLEAN.has(name) && !WITH_VALUE.has(name)) throw new FlagError(`unknown flag --${name}`);
    let value = m[2];
    if (value === undefined && !BOOLEAN.has(name)) {
      value = argv[++i];
      if (value === undefined) throw new FlagError(`--${name} needs a value`);
    }
    setFlag(flags, name, value);
  }
  return flags;
}

function setFlag(flags: OperatorFlags, name: string, value: string | undefined): void {
  switch (name) {
    case 'kubeconfig':
      flags.kubeconfig = nonEmpty(name, value);
      break;
    case 'namespace':
      flags.namespaces.push(...nonEmpty(name, value).split(',').filter(Boolean));
      break;
    case 'metrics-port':
      flags.metricsPort = port(value);
      break;
    case 'metrics-host':
      flags.metricsHost = nonEmpty(name, value);
      break;
    case 'leader-elect':
      flags.leaderElect = bool(name, value);
      break;
    case 'lease-namespace':
      flags.leaseNamespace = nonEmpty(name, value);
      break;
    case 'lease-name':
      flags.leaseName = nonEmpty(name, value);
      break;
    case 'prometheus-url':
      flags.prometheusUrl = url(name, nonEmpty(name, value));
      break;
    case 'prometheus-allowed-url':
      flags.prometheusAllowedUrls.push(url(name, nonEmpty(name, value)));
      break;
    case 'trainingrun-allowed-service-account':
      flags.trainingRunAllowlist.serviceAccounts.push(nonEmpty(name, value));
      break;
    case 'trainingrun-allowed-priority-class':
      flags.trainingRunAllowlist.priorityClasses.push(nonEmpty(name, value));
      break;
    case 'trainingrun-allowed-secret':
      flags.trainingRunAllowlist.secrets.push(nonEmpty(name, value));
      break;
    case 'log-level':
      flags.logLevel = oneOf(name, value, ['error', 'warn', 'info', 'debug']);
      break;
    case 'workload-defaults':
      flags.workloadDefaults = workloadDefaults(nonEmpty(name, value));
      break;
    case 'scrape-annotations':
      flags.scrapeAnnotations = bool(name, value);
      break;
    case 'help':
      flags.help = bool(name, value);
      break;
    default:
      throw new FlagError(`unknown flag --${name}`);
  }
}

function nonEmpty(name: string, v: string | undefined): string {
  if (!v) throw new FlagError(`--${name} needs a value`);
  return v;
}

function bool(name: string, v: string | undefined): boolean {
  if (v === undefined || v === 'true') return true;
  if (v === 'false') return false;
  throw new FlagError(`--${name} must be true or false, not "${v}"`);
}

function port(v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new FlagError(`--metrics-port must be a port number, not "${v}"`);
  return n;
}

function url(name: string, v: string): string {
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
    return v.replace(/\/+$/, '');
  } catch {
    throw new FlagError(`--${name} must be an http(s) URL, not "${v}"`);
  }
}

function workloadDefaults(v: string): WorkloadDefaults {
  try {
    return parseWorkloadDefaults(v);
  } catch (e) {
    if (e instanceof WorkloadDefaultsError) throw new FlagError(`--workload-defaults: ${e.message}`);
    throw e;
  }
}

function oneOf(name: string, v: string | undefined, allowed: string[]): string {
  if (!v || !allowed.includes(v)) throw new FlagError(`--${name} must be one of ${allowed.join(', ')}`);
  return v;
}
