// prometheus-operator's configuration generator for the dev cluster: PodMonitor and
// ServiceMonitor objects become scrape jobs shaped the way prometheus-operator generates them
// (job names, honor_labels false unless the endpoint sets it, the running-pod filter, selector
// and port `keep` rules, the target labels namespace/container/pod/service/job/endpoint,
// podTargetLabels/targetLabels/jobLabel, then the monitor's own relabelings and
// metricRelabelings), and PrometheusRule objects become rule files. The one difference: the
// `kubernetes_sd_configs` block becomes a file_sd of the same targets (kube-sd.ts) plus a
// `keep` on the monitor's namespaces, because Debian's Prometheus has no Kubernetes discovery.
// Pure functions.
import { sanitizeMetaName } from './kube-sd.js';

export type Relabel = Record<string, unknown>;

export interface ScrapeJob {
  job_name: string;
  honor_labels: boolean;
  honor_timestamps?: boolean;
  file_sd_configs: Array<{ files: string[]; refresh_interval: string }>;
  scrape_interval?: string;
  scrape_timeout?: string;
  metrics_path?: string;
  scheme?: string;
  params?: Record<string, string[]>;
  sample_limit?: number;
  relabel_configs: Relabel[];
  metric_relabel_configs?: Relabel[];
}

export interface MonitorObject {
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string };
  spec?: any;
}

/** What the generator made of a monitor: its jobs, or why it was left out. */
export type MonitorResult = { jobs: ScrapeJob[]; error?: undefined } | { jobs?: undefined; error: string };

export interface SdFiles {
  pods: string;
  endpoints: string;
}

// Endpoint fields the generator turns into configuration; anything else (TLS, authorization,
// OAuth2, proxies…) needs Secrets mounted into Prometheus, which the dev cluster does not do,
// so such a monitor is refused with its reason rather than scraped without them.
const POD_ENDPOINT_FIELDS = new Set([
  'port',
  'portNumber',
  'targetPort',
  'path',
  'scheme',
  'params',
  'interval',
  'scrapeTimeout',
  'honorLabels',
  'honorTimestamps',
  'relabelings',
  'metricRelabelings',
  'filterRunning',
]);
const SERVICE_ENDPOINT_FIELDS = new Set([...POD_ENDPOINT_FIELDS, 'followRedirects', 'enableHttp2']);

/** A user relabeling (camelCase, as in the CRDs) in Prometheus's configuration shape. */
export function relabelConfig(rc: any): Relabel {
  const out: Relabel = {};
  if (rc.sourceLabels?.length) out.source_labels = rc.sourceLabels;
  if (rc.separator !== undefined) out.separator = rc.separator;
  if (rc.targetLabel) out.target_label = rc.targetLabel;
  if (rc.regex) out.regex = rc.regex;
  if (rc.modulus) out.modulus = rc.modulus;
  if (rc.replacement !== undefined) out.replacement = rc.replacement;
  if (rc.action) out.action = String(rc.action).toLowerCase();
  return out;
}

/** Monitor namespaces: `any` → all; `matchNames` → those; otherwise the monitor's own. */
export function monitorNamespaces(spec: any, own: string): string[] {
  const sel = spec?.namespaceSelector ?? {};
  if (sel.any) return [];
  return sel.matchNames?.length ? [...sel.matchNames] : [own];
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function namespaceKeep(namespaces: string[]): Relabel[] {
  if (namespaces.length === 0) return [];
  return [
    { action: 'keep', source_labels: ['__meta_kubernetes_namespace'], regex: namespaces.map(escapeRegex).join('|') },
  ];
}

/** The selector as keep/drop rules on `<prefix>_label_*` / `<prefix>_labelpresent_*`. */
function selectorRelabels(selector: any, prefix: string): Relabel[] {
  const out: Relabel[] = [];
  const label = (k: string) => `__meta_kubernetes_${prefix}_label_${sanitizeMetaName(k)}`;
  const present = (k: string) => `__meta_kubernetes_${prefix}_labelpresent_${sanitizeMetaName(k)}`;
  for (const k of Object.keys(selector?.matchLabels ?? {}).sort()) {
    out.push({ action: 'keep', source_labels: [label(k), present(k)], regex: `(${selector.matchLabels[k]});true` });
  }
  for (const exp of selector?.matchExpressions ?? []) {
    const values = `(${(exp.values ?? []).join('|')});true`;
    if (exp.operator === 'In')
      out.push({ action: 'keep', source_labels: [label(exp.key), present(exp.key)], regex: values });
    else if (exp.operator === 'NotIn')
      out.push({ action: 'drop', source_labels: [label(exp.key), present(exp.key)], regex: values });
    else if (exp.operator === 'Exists') out.push({ action: 'keep', source_labels: [present(exp.key)], regex: 'true' });
    else if (exp.operator === 'DoesNotExist')
      out.push({ action: 'drop', source_labels: [present(exp.key)], regex: 'true' });
  }
  return out;
}

function copyLabels(sourcePrefix: string, names: string[] | undefined): Relabel[] {
  return (names ?? []).map((l) => ({
    source_labels: [`${sourcePrefix}${sanitizeMetaName(l)}`],
    target_label: sanitizeMetaName(l),
    regex: '(.+)',
    replacement: '${1}',
  }));
}

const RUNNING_FILTER: Relabel = {
  action: 'drop',
  source_labels: ['__meta_kubernetes_pod_phase'],
  regex: '(Failed|Succeeded)',
};

function endpointBasics(ep: any): Partial<ScrapeJob> {
  return {
    ...(ep.honorTimestamps !== undefined ? { honor_timestamps: ep.honorTimestamps } : {}),
    ...(ep.interval ? { scrape_interval: ep.interval } : {}),
    ...(ep.scrapeTimeout ? { scrape_timeout: ep.scrapeTimeout } : {}),
    ...(ep.path ? { metrics_path: ep.path } : {}),
    ...(ep.params ? { params: ep.params } : {}),
    ...(ep.scheme ? { scheme: ep.scheme } : {}),
  };
}

function unsupported(ep: any, allowed: Set<string>): string | undefined {
  const extra = Object.keys(ep ?? {}).filter((k) => !allowed.has(k));
  return extra.length
    ? `endpoint field(s) ${extra.join(', ')} are not supported by the dev cluster's Prometheus`
    : undefined;
}

function job(name: string, ep: any, sdFile: string, relabels: Relabel[], spec: any): ScrapeJob {
  const metricRelabels = (ep.metricRelabelings ?? []).map(relabelConfig);
  return {
    job_name: name,
    honor_labels: ep.honorLabels === true,
    file_sd_configs: [{ files: [sdFile], refresh_interval: '1s' }],
    ...endpointBasics(ep),
    relabel_configs: [...relabels, ...(ep.relabelings ?? []).map(relabelConfig)],
    ...(spec.sampleLimit ? { sample_limit: spec.sampleLimit } : {}),
    ...(metricRelabels.length ? { metric_relabel_configs: metricRelabels } : {}),
  };
}

/** Scrape jobs of a PodMonitor (one per podMetricsEndpoint), as prometheus-operator makes them. */
export function podMonitorJobs(m: MonitorObject, sd: SdFiles): MonitorResult {
  const ns = m.metadata.namespace ?? 'default';
  const spec = m.spec ?? {};
  const jobs: ScrapeJob[] = [];
  for (const [i, ep] of (spec.podMetricsEndpoints ?? []).entries()) {
    const why = unsupported(ep, POD_ENDPOINT_FIELDS);
    if (why) return { error: `podMetricsEndpoints[${i}]: ${why}` };
    const port = ep.port ?? (typeof ep.targetPort === 'string' ? ep.targetPort : undefined);
    const relabels: Relabel[] = [
      { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
      ...namespaceKeep(monitorNamespaces(spec, ns)),
      ...(ep.filterRunning === false ? [] : [RUNNING_FILTER]),
      ...selectorRelabels(spec.selector, 'pod'),
      ...(port
        ? [{ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: port }]
        : (ep.portNumber ?? (typeof ep.targetPort === 'number' ? ep.targetPort : undefined))
          ? [
              {
                action: 'keep',
                source_labels: ['__meta_kubernetes_pod_container_port_number'],
                regex: String(ep.portNumber ?? ep.targetPort),
              },
            ]
          : []),
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      ...copyLabels('__meta_kubernetes_pod_label_', spec.podTargetLabels),
      { target_label: 'job', replacement: `${ns}/${m.metadata.name}` },
      ...(spec.jobLabel
        ? copyLabels('__meta_kubernetes_pod_label_', [spec.jobLabel]).map((r) => ({ ...r, target_label: 'job' }))
        : []),
      ...(port ? [{ target_label: 'endpoint', replacement: port }] : []),
    ];
    jobs.push(job(`podMonitor/${ns}/${m.metadata.name}/${i}`, ep, sd.pods, relabels, spec));
  }
  return { jobs };
}

/** Scrape jobs of a ServiceMonitor (one per endpoint, `endpoints` role), as prometheus-operator makes them. */
export function serviceMonitorJobs(m: MonitorObject, sd: SdFiles): MonitorResult {
  const ns = m.metadata.namespace ?? 'default';
  const spec = m.spec ?? {};
  const jobs: ScrapeJob[] = [];
  const target = ['__meta_kubernetes_endpoint_address_target_kind', '__meta_kubernetes_endpoint_address_target_name'];
  for (const [i, ep] of (spec.endpoints ?? []).entries()) {
    const why = unsupported(ep, SERVICE_ENDPOINT_FIELDS);
    if (why) return { error: `endpoints[${i}]: ${why}` };
    const targetPort = ep.targetPort;
    const relabels: Relabel[] = [
      { source_labels: ['job'], target_label: '__tmp_prometheus_job_name' },
      ...namespaceKeep(monitorNamespaces(spec, ns)),
      ...selectorRelabels(spec.selector, 'service'),
      ...(ep.port
        ? [{ action: 'keep', source_labels: ['__meta_kubernetes_endpoint_port_name'], regex: ep.port }]
        : typeof targetPort === 'string'
          ? [{ action: 'keep', source_labels: ['__meta_kubernetes_pod_container_port_name'], regex: targetPort }]
          : typeof targetPort === 'number'
            ? [
                {
                  action: 'keep',
                  source_labels: ['__meta_kubernetes_pod_container_port_number'],
                  regex: String(targetPort),
                },
              ]
            : []),
      { source_labels: target, separator: ';', regex: 'Node;(.*)', replacement: '${1}', target_label: 'node' },
      { source_labels: target, separator: ';', regex: 'Pod;(.*)', replacement: '${1}', target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_namespace'], target_label: 'namespace' },
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'service' },
      { source_labels: ['__meta_kubernetes_pod_name'], target_label: 'pod' },
      { source_labels: ['__meta_kubernetes_pod_container_name'], target_label: 'container' },
      ...(ep.filterRunning === false ? [] : [RUNNING_FILTER]),
      ...copyLabels('__meta_kubernetes_service_label_', spec.targetLabels),
      ...copyLabels('__meta_kubernetes_pod_label_', spec.podTargetLabels),
      { source_labels: ['__meta_kubernetes_service_name'], target_label: 'job', replacement: '${1}' },
      ...(spec.jobLabel
        ? copyLabels('__meta_kubernetes_service_label_', [spec.jobLabel]).map((r) => ({ ...r, target_label: 'job' }))
        : []),
      ...(ep.port
        ? [{ target_label: 'endpoint', replacement: ep.port }]
        : targetPort !== undefined
          ? [{ target_label: 'endpoint', replacement: String(targetPort) }]
          : []),
    ];
    jobs.push(job(`serviceMonitor/${ns}/${m.metadata.name}/${i}`, ep, sd.endpoints, relabels, spec));
  }
  return { jobs };
}

/** The rule file of a PrometheusRule (its spec, as prometheus-operator writes it) and its name. */
export function ruleFile(rule: MonitorObject): { name: string; content: { groups: unknown[] } } {
  const ns = rule.metadata.namespace ?? 'default';
  return {
    name: `${ns}-${rule.metadata.name}-${rule.metadata.uid ?? 'nouid'}.yaml`,
    content: { groups: rule.spec?.groups ?? [] },
  };
}
