// The dev cluster's stand-in for prometheus-operator: serves the monitoring.coreos.com kinds,
// watches PodMonitors, ServiceMonitors and PrometheusRules (every namespace, as a
// kube-prometheus-stack Prometheus with empty selectors would), writes the generated scrape
// jobs and rule files, keeps the Kubernetes discovery files (kube-sd.ts) current, and reloads
// the real Prometheus when its configuration changes. Invalid rules (checked with promtool,
// as prometheus-operator checks them) and monitors it cannot honour are left out and logged.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import yaml from 'js-yaml';
import { KubeApiError, KubeClient } from '../agent/kube-client.js';
import { Informer } from '../agent/informer.js';
import { ENDPOINTS, PODS, SERVICES, type ResourceType } from '../agent/resources.js';
import { prometheusConfig, type PrometheusConfigInput } from './config.js';
import { endpointsRoleGroups, podRoleGroups } from './kube-sd.js';
import { MONITORING_CRDS } from './monitoring-crds.js';
import { podMonitorJobs, ruleFile, serviceMonitorJobs, type ScrapeJob, type SdFiles } from './monitors.js';

const monitoring = (plural: string, kind: string): ResourceType => ({
  plural,
  group: 'monitoring.coreos.com',
  version: 'v1',
  kind,
  namespaced: true,
});
export const POD_MONITORS = monitoring('podmonitors', 'PodMonitor');
export const SERVICE_MONITORS = monitoring('servicemonitors', 'ServiceMonitor');
export const PROMETHEUS_RULES = monitoring('prometheusrules', 'PrometheusRule');

export interface MonitoringOptions {
  kubeconfigPath: string;
  /** <dataDir>/prometheus: sd/, rules/ and prometheus.yml live here. */
  home: string;
  configFile: string;
  /** The built-in part of the configuration (annotated pods, the API server). */
  base: PrometheusConfigInput;
  prometheusUrl: string;
  log: (m: string) => void;
}

export interface MonitoringController {
  /** Resolves once the current objects are in Prometheus's configuration. */
  synced: Promise<void>;
  stop(): void;
}

/** Creates the monitoring.coreos.com CRDs unless they exist (a kept data dir has them). */
export async function installMonitoringCrds(client: KubeClient): Promise<void> {
  for (const crd of MONITORING_CRDS) {
    try {
      await client.create('/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
    }
  }
}

function writeIfChanged(file: string, content: string): boolean {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return false;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, content);
  renameSync(`${file}.tmp`, file);
  return true;
}

/** promtool's verdict on a rule file: undefined when valid, else its message. */
function checkRules(file: string): string | undefined {
  const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  if (r.error) return `promtool: ${r.error.message}`;
  return r.status === 0 ? undefined : `${r.stdout}${r.stderr}`.trim().split('\n').slice(-3).join(' ');
}

export async function startMonitoring(opts: MonitoringOptions): Promise<MonitoringController> {
  const client = await KubeClient.fromKubeconfig(opts.kubeconfigPath);
  await installMonitoringCrds(client);
  const informers = [POD_MONITORS, SERVICE_MONITORS, PROMETHEUS_RULES, PODS, SERVICES, ENDPOINTS].map(
    (rt) => new Informer(client, rt, opts.log),
  );
  const [podMonitors, serviceMonitors, rules, pods, services, endpoints] = informers;
  const sd: SdFiles = { pods: join(opts.home, 'sd', 'pods.json'), endpoints: join(opts.home, 'sd', 'endpoints.json') };
  const rulesDir = join(opts.home, 'rules');
  const reported = new Map<string, string>();
  const report = (key: string, problem: string | undefined) => {
    if (problem === undefined) return void reported.delete(key);
    if (reported.get(key) !== problem) opts.log(`prometheus-operator: ${key} left out: ${problem}`);
    reported.set(key, problem);
  };

  const writeRules = (): boolean => {
    mkdirSync(rulesDir, { recursive: true });
    let changed = false;
    const wanted = new Set<string>();
    for (const rule of rules.list()) {
      const { name, content } = ruleFile(rule);
      const file = join(rulesDir, name);
      const candidate = join(rulesDir, `.${name}.candidate`);
      writeFileSync(candidate, yaml.dump(content, { lineWidth: -1 }));
      const problem = checkRules(candidate);
      report(`PrometheusRule ${rule.metadata.namespace}/${rule.metadata.name}`, problem);
      if (problem) {
        rmSync(candidate, { force: true });
        continue;
      }
      wanted.add(name);
      changed = writeIfChanged(file, readFileSync(candidate, 'utf8')) || changed;
      rmSync(candidate, { force: true });
    }
    for (const f of readdirSync(rulesDir)) {
      if (f.endsWith('.yaml') && !wanted.has(f)) {
        rmSync(join(rulesDir, f), { force: true });
        changed = true;
      }
    }
    return changed;
  };

  const monitorJobs = (): ScrapeJob[] => {
    const jobs: ScrapeJob[] = [];
    const add = (kind: string, list: (typeof informers)[number], make: typeof podMonitorJobs) => {
      for (const m of list.list()) {
        const result = make(m, sd);
        report(`${kind} ${m.metadata.namespace}/${m.metadata.name}`, result.error);
        if (result.jobs) jobs.push(...result.jobs);
      }
    };
    add('PodMonitor', podMonitors, podMonitorJobs);
    add('ServiceMonitor', serviceMonitors, serviceMonitorJobs);
    return jobs.sort((a, b) => (a.job_name < b.job_name ? -1 : 1));
  };

  const reload = async () => {
    const res = await fetch(`${opts.prometheusUrl}/-/reload`, { method: 'POST' }).catch((err: Error) => ({
      ok: false,
      status: 0,
      text: async () => err.message,
    }));
    if (!res.ok) opts.log(`prometheus-operator: reload failed (${res.status}): ${await res.text()}`);
  };

  const sync = async () => {
    writeIfChanged(sd.pods, JSON.stringify(podRoleGroups(pods.list()), null, 1) + '\n');
    writeIfChanged(
      sd.endpoints,
      JSON.stringify(endpointsRoleGroups(endpoints.list(), services.list(), pods.list()), null, 1) + '\n',
    );
    const rulesChanged = writeRules();
    const config = prometheusConfig({
      ...opts.base,
      monitorJobs: monitorJobs(),
      ruleFiles: [join(rulesDir, '*.yaml')],
    });
    if (writeIfChanged(opts.configFile, config) || rulesChanged) await reload();
  };

  let timer: NodeJS.Timeout | undefined;
  let running = Promise.resolve();
  const schedule = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      running = running.then(sync).catch((err: Error) => opts.log(`prometheus-operator: ${err.message}`));
    }, 50);
  };
  for (const i of informers) {
    i.onChange(schedule);
    i.start();
  }
  const synced = Promise.all(informers.map((i) => i.synced)).then(() => {
    running = running.then(sync);
    return running;
  });
  return {
    synced,
    stop: () => {
      clearTimeout(timer);
      for (const i of informers) i.stop();
      client.close();
    },
  };
}
