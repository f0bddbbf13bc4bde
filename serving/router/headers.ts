// Header rewriting for a forward proxy (RFC 9110 §7.6.1): hop-by-hop headers, and any header
// named in Connection, apply to one connection only and must not be forwarded.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

function connectionTokens(headers: IncomingHttpHeaders): Set<string> | undefined {
  const value = headers.connection;
  if (!value) return undefined;
  return new Set(
    value
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Copies end-to-end headers only. */
export function endToEnd(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(headers);
  const out: OutgoingHttpHeaders = {};
  for (const key in headers) {
    if (HOP_BY_HOP.has(key) || named?.has(key)) continue;
    out[key] = headers[key];
  }
  return out;
}

/** Headers for the upstream request: end-to-end ones plus the X-Forwarded-* trio. */
export function upstreamRequestHeaders(
  headers: IncomingHttpHeaders,
  client: { address: string | undefined; encrypted: boolean },
  upstreamHost: string,
): OutgoingHttpHeaders {
  const out = endToEnd(headers);
  // Our own server already answered any `Expect: 100-continue`; the upstream must not wait for it.
  delete out.expect;
  const prior = headers['x-forwarded-for'];
  const address = client.address ?? 'unknown';
  out['x-forwarded-for'] = prior ? `${prior}, ${address}` : address;
  out['x-forwarded-proto'] = headers['x-forwarded-proto'] ?? (client.encrypted ? 'https' : 'http');
  if (headers.host) out['x-forwarded-host'] = headers['x-forwarded-host'] ?? headers.host;
  out.host = upstreamHost;
  return out;
}
