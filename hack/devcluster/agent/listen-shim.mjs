// Preloaded into Node processes of dev cluster pods (NODE_OPTIONS=--import=..., next to
// dns-shim.mjs): stands in for the pod's network namespace. In a pod, a server listening on
// all addresses (no host, 0.0.0.0 or ::) is reached at the pod's own IP (and, through
// `kubectl port-forward`, at its localhost); two pods may both listen on 8080. Here pods share
// the host's network, so such a listen is narrowed to the pod's IP, which the node agent puts
// in $MODELSHIP_DEVCLUSTER_POD_IP. A listen on a named address, a socket path or a handle is
// left alone. Plain JavaScript so that it loads before any TypeScript loader.
import net from 'node:net';

const WILDCARDS = new Set(['', '0.0.0.0', '::', '::0', '0:0:0:0:0:0:0:0']);

const isWildcard = (host) => host === undefined || host === null || WILDCARDS.has(host);

/** A port as net.Server#listen reads one (a number or a numeric string), else undefined. */
function portOf(value) {
  if (value === undefined || value === null) return 0;
  const n = Number(value);
  return (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '')) && n >= 0 ? n : undefined;
}

/**
 * The arguments of a net.Server#listen call with an all-addresses listen narrowed to `ip`;
 * the same arguments otherwise (pure).
 */
export function narrowListen(args, ip) {
  if (!ip) return args;
  const [first] = args;
  const callback = typeof args[args.length - 1] === 'function' ? args[args.length - 1] : undefined;
  if (first !== null && typeof first === 'object') {
    const handle = '_handle' in first || 'fd' in first || first.path !== undefined;
    return handle || !isWildcard(first.host) ? args : [{ ...first, host: ip }, ...args.slice(1)];
  }
  // listen(callback) and listen() take any free port on all addresses.
  const bare = first === undefined || typeof first === 'function';
  const port = bare ? 0 : portOf(first);
  if (port === undefined) return args; // a socket path
  const rest = bare ? [] : args.slice(1).filter((a) => typeof a !== 'function');
  if (typeof rest[0] === 'string' && !isWildcard(rest[0])) return args;
  const backlog = rest.find((a) => typeof a === 'number');
  const options = { port, host: ip, ...(backlog !== undefined ? { backlog } : {}) };
  return callback ? [options, callback] : [options];
}

const podIP = process.env.MODELSHIP_DEVCLUSTER_POD_IP;
if (podIP) {
  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function narrowedListen(...args) {
    return listen.apply(this, narrowListen(args, podIP));
  };
}
