// Pure pieces of the dev cluster's Prometheus: where the node agent writes file_sd targets,
// the Prometheus configuration, and the file_sd target groups for annotated pods.
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { ScrapeJob } from './monitors.js';

export const SCRAPE_INTERVAL = '2s';

/** The node agent writes pod targets here; Prometheus reads them through file_sd. */
export function defaultTargetsFile(dataDir: string): string {
  return join(dataDir, 'prometheus', 'targets', 'pods.json');
}

export interface PrometheusConfigInput {
  targetsFile: string;
  /** host:port of the API server to scrape at /metrics, if any */
  apiServer?: { hostPort: string; scheme: 'http' | 'https' };
  /** Jobs generated from PodMonitors and ServiceMonitors (monitors.ts), after the built-in ones. */
  monitorJobs?: ScrapeJob[];
  /** Rule files (globs) Prometheus evaluates: the PrometheusRules' files. */
  ruleFiles?: string[];
}

export function prometheusConfig(input: PrometheusConfigInput): string {
  const jobs: object[] = [
    {
      // Pods annotated prometheus.io/scrape, the common annotation-based job; what a monitor
      // selects is scraped by the monitor's own job instead.
      job_name: 'kubernetes-pods',
      honor_labels: false,
      file_sd_configs: [{ files: [input.targetsFile], refresh_interval: '2s' }],
    },
  ];
  if (input.apiServer) {
    jobs.push({
      job_name: 'devcluster-apiserver',
      scheme: input.apiServer.scheme,
      metrics_path: '/metrics',
      ...(input.apiServer.scheme === 'https' ? { tls_config: { insecure_skip_verify: true } } : {}),
      static_configs: [{ targets: [input.apiServer.hostPort] }],
    });
  }
  const config = {
    global: { scrape_interval: SCRAPE_INTERVAL, scrape_timeout: '1s', evaluation_interval: '2s' },
    ...(input.ruleFiles?.length ? { rule_files: input.ruleFiles } : {}),
    scrape_configs: [...jobs, ...(input.monitorJobs ?? [])],
  };
  return (
    '# Written by hack/devcluster/prometheus; regenerated at every start and on monitor changes.\n' +
    yaml.dump(config, { lineWidth: -1, noRefs: true, flowLevel: -1 })
  );
}

/** Prometheus label name from a Kubernetes label key ("modelship.dev/model" → "modelship_dev_model"). */
export function sanitizeLabelName(key: string): string {
  const s = key.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

const RESERVED = new Set(['job', 'instance', 'namespace', 'pod', 'container']);

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

interface PodLike {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec?: any;
  status?: any;
}

/**
 * file_sd target groups for running pods annotated prometheus.io/scrape: "true", honouring
 * prometheus.io/port, prometheus.io/path and prometheus.io/scheme, labelled with namespace, pod
 * and the pod's labels (sanitised, as a labelmap on __meta_kubernetes_pod_label_* would).
 */
export function podTargetGroups(pods: PodLike[]): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const pod of pods) {
    const ann = pod.metadata.annotations ?? {};
    if (ann['prometheus.io/scrape'] !== 'true') continue;
    if (pod.status?.phase !== 'Running' || !pod.status?.podIP || pod.metadata.deletionTimestamp) continue;
    const port = ann['prometheus.io/port'] ?? firstContainerPort(pod);
    if (!port) continue;
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(pod.metadata.labels ?? {})) {
      const name = sanitizeLabelName(k);
      if (!RESERVED.has(name) && !name.startsWith('__')) labels[name] = v;
    }
    labels.namespace = pod.metadata.namespace ?? 'default';
    labels.pod = pod.metadata.name;
    labels.__metrics_path__ = ann['prometheus.io/path'] ?? '/metrics';
    labels.__scheme__ = ann['prometheus.io/scheme'] === 'https' ? 'https' : 'http';
    groups.push({ targets: [`${pod.status.podIP}:${port}`], labels });
  }
  return groups.sort((a, b) => (a.targets[0] < b.targets[0] ? -1 : 1));
}

function firstContainerPort(pod: PodLike): string | undefined {
  for (const c of pod.spec?.containers ?? [])
    for (const p of c.ports ?? []) if ((p.protocol ?? 'TCP') === 'TCP') return String(p.containerPort);
  return undefined;
}
