// The secure port's key material, as kubeadm lays it out for kube-apiserver: a cluster CA, a
// serving certificate for the API server's names and addresses signed by it, the
// ServiceAccount token signing key, and the admin's bearer token. Made with the openssl CLI
// (a Debian package, see hack/install-deps.sh) the first time, and kept in `<dir>` so that a
// restart with the same data dir keeps the CA clients trust and the tokens already issued.
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caCertFile: string;
  caCert: string;
  servingCert: string;
  servingKey: string;
  /** PEM private key (P-256) that signs ServiceAccount tokens (ES256). */
  serviceAccountKey: string;
  /** Bearer token of the `admin` user (group system:masters). */
  adminToken: string;
}

/** DNS names and IPs the serving certificate carries: what in-cluster clients and loopback clients dial. */
export function servingSans(serviceIp: string): string[] {
  return [
    'IP:127.0.0.1',
    `IP:${serviceIp}`,
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    if (e.code === 'ENOENT')
      throw new Error(
        "the dev cluster's secure port needs the openssl CLI (apt-get install openssl; see hack/install-deps.sh)",
        { cause: err },
      );
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? String(err)}`, { cause: err });
  }
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '3650',
      '-subj',
      '/CN=devcluster-ca',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ],
    dir,
  );
}

function makeServing(dir: string, sans: string[]): void {
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-keyout',
      'apiserver.key',
      '-out',
      'apiserver.crt',
      '-days',
      '825',
      '-subj',
      '/CN=kube-apiserver',
      '-addext',
      `subjectAltName=${sans.join(',')}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      '-addext',
      'extendedKeyUsage=serverAuth',
    ],
    dir,
  );
  writeFileSync(join(dir, 'apiserver.sans'), sans.join(','));
}

/** Loads the key material from `dir`, creating what is missing (a serving cert whose names changed is re-issued). */
export function loadOrCreatePki(dir: string, serviceIp: string): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = (name: string) => join(dir, name);
  let newCa = false;
  if (!existsSync(file('ca.crt')) || !existsSync(file('ca.key'))) {
    makeCa(dir);
    newCa = true;
  }
  const sans = servingSans(serviceIp);
  const oldSans = existsSync(file('apiserver.sans')) ? readFileSync(file('apiserver.sans'), 'utf8') : '';
  if (newCa || oldSans !== sans.join(',') || !existsSync(file('apiserver.crt')) || !existsSync(file('apiserver.key')))
    makeServing(dir, sans);
  if (!existsSync(file('sa.key'))) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file('sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  if (!existsSync(file('admin.token')))
    writeFileSync(file('admin.token'), randomBytes(24).toString('base64url'), { mode: 0o600 });
  return {
    dir,
    caCertFile: file('ca.crt'),
    caCert: readFileSync(file('ca.crt'), 'utf8'),
    servingCert: readFileSync(file('apiserver.crt'), 'utf8'),
    servingKey: readFileSync(file('apiserver.key'), 'utf8'),
    serviceAccountKey: readFileSync(file('sa.key'), 'utf8'),
    adminToken: readFileSync(file('admin.token'), 'utf8').trim(),
  };
}
