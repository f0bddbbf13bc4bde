// Cluster DNS for the dev cluster without touching /etc/hosts: the agent writes a hosts map
// (Service DNS names → cluster IPs) to <dataDir>/node-agent/hosts.json, and every container
// gets NODE_OPTIONS=--import=<dns-shim.mjs>, which makes Node's dns.lookup (used by http,
// net and fetch) answer those names. So `http://web.default.svc.cluster.local` works from
// Node-based pods as on a real cluster; other runtimes use cluster IPs or the service env vars.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as net from 'node:net';
import type { KubeObject } from './kube-client.js';
import type { Informer } from './informer.js';
import { DerivedFileWriter } from './derived-file.js';

export const HOSTS_ENV = 'MODELSHIP_DEVCLUSTER_HOSTS';
export const NAMESPACE_ENV = 'MODELSHIP_DEVCLUSTER_NAMESPACE';
export const DNS_SHIM = join(dirname(fileURLToPath(import.meta.url)), 'dns-shim.mjs');

export function hostsFile(dataDir: string): string {
  return join(dataDir, 'node-agent', 'hosts.json');
}

/** name.ns, name.ns.svc and name.ns.svc.cluster.local for every Service with a cluster IP. */
export function serviceHosts(services: KubeObject[]): Record<string, string> {
  const hosts: Record<string, string> = {};
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!ip || !net.isIPv4(ip) || svc.metadata.deletionTimestamp) continue;
    const base = `${svc.metadata.name}.${svc.metadata.namespace ?? 'default'}`;
    for (const name of [base, `${base}.svc`, `${base}.svc.cluster.local`]) hosts[name] = ip;
  }
  return hosts;
}

/** Docker-link style variables the kubelet gives every container (enableServiceLinks). */
export function serviceLinkEnv(services: KubeObject[], namespace: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (svc.metadata.namespace !== namespace || !ip || !net.isIPv4(ip)) continue;
    const ports: any[] = svc.spec?.ports ?? [];
    if (!ports.length) continue;
    const prefix = svc.metadata.name.toUpperCase().replace(/-/g, '_');
    env.set(`${prefix}_SERVICE_HOST`, ip);
    env.set(`${prefix}_SERVICE_PORT`, String(ports[0].port));
    env.set(`${prefix}_PORT`, `${String(ports[0].protocol ?? 'TCP').toLowerCase()}://${ip}:${ports[0].port}`);
    for (const p of ports) {
      const proto = String(p.protocol ?? 'TCP');
      if (p.name) env.set(`${prefix}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`, String(p.port));
      const key = `${prefix}_PORT_${p.port}_${proto}`;
      env.set(key, `${proto.toLowerCase()}://${ip}:${p.port}`);
      env.set(`${key}_PROTO`, proto.toLowerCase());
      env.set(`${key}_PORT`, String(p.port));
      env.set(`${key}_ADDR`, ip);
    }
  }
  return env;
}

/** Keeps hosts.json (Service DNS names → cluster IPs) in step with the Services. */
export class HostsWriter extends DerivedFileWriter {
  constructor(services: Informer, file: string, log: (m: string) => void) {
    super(services, file, (svcs) => JSON.stringify(serviceHosts(svcs), null, 1), log, 20);
  }
}
