// A certificate authority that stands for the public web PKI inside the dev cluster. A real
// image trusts the public CAs, so a model published on an https:// server with a public
// certificate downloads without configuration; here no public server is reachable, so test
// servers get certificates from this CA and the Modelship images trust it (NODE_EXTRA_CA_CERTS
// in images.yaml, like a CA bundle baked into an image). Made once with openssl under
// .cache/devcluster/ and shared by every dev cluster on the machine; nothing in operator/ or
// serving/ knows of it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CACHE = join(here, '..', '..', '..', '.cache', 'devcluster');
/** Where containers see the CA certificate (the repository is at /app in every container). */
export const CONTAINER_WEB_CA = '/app/.cache/devcluster/web-ca.pem';

export interface WebCa {
  certPath: string;
  keyPath: string;
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/** The CA, created on first use (atomically: concurrent test files may race for it). */
export function ensureWebCa(cacheDir = CACHE): WebCa {
  const certPath = join(cacheDir, 'web-ca.pem');
  const keyPath = join(cacheDir, 'web-ca-key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) return { certPath, keyPath };
  mkdirSync(cacheDir, { recursive: true });
  const tmp = mkdtempSync(join(cacheDir, 'web-ca-'));
  try {
    openssl(
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
        .concat(['-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'ca.pem'), '-days', '3650'])
        .concat(['-subj', '/CN=devcluster public web CA', '-addext', 'basicConstraints=critical,CA:TRUE']),
    );
    // The key first: whoever sees the certificate finds its key.
    if (!existsSync(keyPath)) renameSync(join(tmp, 'key.pem'), keyPath);
    if (!existsSync(certPath)) renameSync(join(tmp, 'ca.pem'), certPath);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return { certPath, keyPath };
}

/** A server certificate for `ip` (and localhost) signed by the CA, as PEM strings. */
export function issueWebCertificate(ca: WebCa, ip = '127.0.0.1'): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'web-cert-'));
  try {
    const ext = join(dir, 'ext.cnf');
    writeFileSync(ext, `subjectAltName=IP:${ip},DNS:localhost\nextendedKeyUsage=serverAuth\n`);
    openssl(
      ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'].concat([
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'req.pem'),
        '-subj',
        `/CN=${ip}`,
      ]),
    );
    openssl(
      ['x509', '-req', '-in', join(dir, 'req.pem'), '-CA', ca.certPath, '-CAkey', ca.keyPath, '-CAcreateserial'].concat(
        ['-CAserial', join(dir, 'ca.srl'), '-out', join(dir, 'cert.pem'), '-days', '30', '-extfile', ext],
      ),
    );
    return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
