// Preloaded into Node processes of dev cluster pods (NODE_OPTIONS=--import=...): resolves
// Service DNS names (web, web.ns, web.ns.svc, web.ns.svc.cluster.local) to their cluster IPs
// from the hosts map the node agent keeps at $MODELSHIP_DEVCLUSTER_HOSTS. Everything else goes
// to the real resolver. Plain JavaScript so that it loads before any TypeScript loader.
import dns from 'node:dns';
import { readFileSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const file = process.env.MODELSHIP_DEVCLUSTER_HOSTS;
const namespace = process.env.MODELSHIP_DEVCLUSTER_NAMESPACE || 'default';
let cache = { mtimeMs: -1, hosts: {} };

function hosts() {
  try {
    const st = statSync(file);
    if (st.mtimeMs !== cache.mtimeMs) cache = { mtimeMs: st.mtimeMs, hosts: JSON.parse(readFileSync(file, 'utf8')) };
  } catch {
    // no map yet: nothing to answer
  }
  return cache.hosts;
}

function clusterAddress(hostname) {
  if (typeof hostname !== 'string' || !file) return undefined;
  const name = hostname.replace(/\.$/, '').toLowerCase();
  const map = hosts();
  return map[name] ?? (name.includes('.') ? undefined : map[`${name}.${namespace}`]);
}

const originalLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
  if (typeof options === 'function') {
    callback = options;
    options = {};
  }
  const address = clusterAddress(hostname);
  if (address === undefined) return originalLookup.call(this, hostname, options, callback);
  const opts = typeof options === 'number' ? { family: options } : (options ?? {});
  if (opts.family === 6)
    return process.nextTick(
      callback,
      Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }),
    );
  if (opts.all) return process.nextTick(callback, null, [{ address, family: 4 }]);
  return process.nextTick(callback, null, address, 4);
};

const originalPromiseLookup = dns.promises.lookup;
dns.promises.lookup = async function lookup(hostname, options) {
  const address = clusterAddress(hostname);
  if (address === undefined) return originalPromiseLookup.call(this, hostname, options);
  const opts = typeof options === 'number' ? { family: options } : (options ?? {});
  return opts.all ? [{ address, family: 4 }] : { address, family: 4 };
};

syncBuiltinESMExports();
