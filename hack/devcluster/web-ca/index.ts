// A certificate authority that stands for the public web PKI inside the dev cluster. A real
// image trusts the public CAs, so a model published on an https:// server with a public
// certificate downloads without configuration; here no public server is reachable, so test
// servers get certificates from this CA and the Modelship images trust it (NODE_EXTRA_CA_CERTS
// in images.yaml, like a CA bundle baked into an image). Made once with openssl under
// .cache/devcluster/ and shared by every dev cluster on the machine; nothing in operator/ or
// serving/ knows of it.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const CACHE = join(here, '..', '..', '..', '.cache', 'devcluster');
/** Where containers see the CA certificate (the repository is at /app in every container). */
export const CONTAINER_WEB_CA = '/app/.cache/devcluster/web-ca/ca.pem';

export interface WebCa {
  certPath: string;
  keyPath: string;
}

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * The CA, created on first use. Certificate and key are made in a scratch folder that is then
 * renamed into place as a whole: test files starting clusters at once never pair one's
 * certificate with another's key.
 */
export function ensureWebCa(cacheDir = CACHE): WebCa {
  const dir = join(cacheDir, 'web-ca');
  const ca = { certPath: join(dir, 'ca.pem'), keyPath: join(dir, 'key.pem') };
  if (existsSync(ca.certPath)) return ca;
  mkdirSync(cacheDir, { recursive: true });
  const tmp = mkdtempSync(join(cacheDir, 'web-ca-'));
  try {
    openssl(
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
        .concat(['-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'ca.pem'), '-days', '3650'])
        .concat(['-subj', '/CN=devcluster public web CA', '-addext', 'basicConstraints=critical,CA:TRUE']),
    );
    // Readable by the containers' users (mkdtemp makes the folder 0700); the key stays private.
    chmodSync(tmp, 0o755);
    chmodSync(join(tmp, 'ca.pem'), 0o644);
    renameSync(tmp, dir);
  } catch (err) {
    // Another process put its CA in place first: use that one.
    if (!existsSync(ca.certPath)) throw err;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return ca;
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
