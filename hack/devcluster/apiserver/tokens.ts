// ServiceAccount tokens as kube-apiserver issues and checks them: ES256 JWTs with the
// `kubernetes.io` private claims (namespace, serviceaccount name/uid, bound pod or secret),
// issued by the TokenRequest subresource and checked on every request: signature, expiry,
// audience, and that the ServiceAccount (and the bound object) still exist with the same uid.
import { createHash, createPrivateKey, createPublicKey, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { ApiError, errors } from './errors.js';
import type { KObject } from './registry.js';
import { serviceAccountUser, type UserInfo } from './rbac.js';

/** The issuer (and default audience) kubeadm clusters use. */
export const ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** TokenRequest's bounds (pkg/apis/authentication/validation). */
export const MIN_EXPIRATION_SECONDS = 600;
const MAX_EXPIRATION_SECONDS = 2 ** 32;
/**
 * The kubelet asks for 3607 s tokens for kube-api-access volumes; kube-apiserver then issues a
 * token valid for a year (--service-account-extend-token-expiration, on by default) and reports
 * the requested expiry, so that old clients that never refresh keep working.
 */
export const WARN_ONLY_EXPIRATION_SECONDS = 3607;
const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;
/** A token bound to a pod stays valid this long after the pod's deletionTimestamp. */
const DELETED_POD_GRACE_SECONDS = 60;

export interface BoundRef {
  kind: 'Pod' | 'Secret';
  apiVersion: 'v1';
  name: string;
  uid: string;
}

export interface TokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    warnafter?: number;
  };
}

/** What a token check needs from the store. */
export interface TokenLookups {
  serviceAccount(namespace: string, name: string): KObject | undefined;
  pod(namespace: string, name: string): KObject | undefined;
  secret(namespace: string, name: string): KObject | undefined;
}

const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64url');

export class TokenIssuer {
  private readonly privateKey: KeyObject;
  private readonly publicKey: KeyObject;
  private readonly kid: string;

  constructor(
    privateKeyPem: string,
    readonly audiences: string[] = [ISSUER],
  ) {
    this.privateKey = createPrivateKey(privateKeyPem);
    this.publicKey = createPublicKey(this.privateKey);
    // kube-apiserver's key id: the SHA-256 of the DER public key.
    this.kid = createHash('sha256')
      .update(this.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64url');
  }

  sign(claims: TokenClaims): string {
    const input = `${b64(JSON.stringify({ alg: 'ES256', kid: this.kid }))}.${b64(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${b64(sig)}`;
  }

  /** The claims of a token this issuer signed; undefined when it is not one (wrong format, key or issuer). */
  decode(token: string): TokenClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
      if (header.alg !== 'ES256') return undefined;
      const ok = verify(
        'sha256',
        Buffer.from(`${parts[0]}.${parts[1]}`),
        { key: this.publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(parts[2], 'base64url'),
      );
      if (!ok) return undefined;
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as TokenClaims;
      return claims.iss === ISSUER ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * The identity of a ServiceAccount token, or why it is refused (a 401 for the client): the
 * checks of kube-apiserver's service-account token validator, in its order.
 */
export function authenticateToken(
  issuer: TokenIssuer,
  token: string,
  lookups: TokenLookups,
  nowSeconds: number,
): UserInfo | string {
  const c = issuer.decode(token);
  if (!c) return 'invalid bearer token';
  const k = c['kubernetes.io'];
  if (!k?.namespace || !k.serviceaccount?.name) return 'token lacks the kubernetes.io claims';
  if (typeof c.exp !== 'number' || nowSeconds >= c.exp) return 'service account token has expired';
  if (typeof c.nbf === 'number' && nowSeconds + 60 < c.nbf) return 'service account token is not valid yet';
  const auds = Array.isArray(c.aud) ? c.aud : [c.aud];
  if (!auds.some((a) => issuer.audiences.includes(a))) return 'token audiences are invalid for this API server';
  const sa = lookups.serviceAccount(k.namespace, k.serviceaccount.name);
  if (!sa || sa.metadata.deletionTimestamp)
    return `service account ${k.namespace}/${k.serviceaccount.name} has been deleted`;
  if (sa.metadata.uid !== k.serviceaccount.uid)
    return `service account UID (${sa.metadata.uid}) does not match claim (${k.serviceaccount.uid})`;
  const user = serviceAccountUser(k.namespace, k.serviceaccount.name);
  user.uid = sa.metadata.uid;
  user.extra = { 'authentication.kubernetes.io/credential-id': [`JTI=${c.jti}`] };
  if (k.pod) {
    const pod = lookups.pod(k.namespace, k.pod.name);
    if (!pod) return `pod ${k.namespace}/${k.pod.name} has been deleted`;
    if (pod.metadata.uid !== k.pod.uid) return `pod UID (${pod.metadata.uid}) does not match claim (${k.pod.uid})`;
    const deleted = pod.metadata.deletionTimestamp ? Date.parse(pod.metadata.deletionTimestamp) / 1000 : undefined;
    if (deleted !== undefined && deleted + DELETED_POD_GRACE_SECONDS < nowSeconds)
      return `pod ${k.namespace}/${k.pod.name} is being deleted`;
    user.extra['authentication.kubernetes.io/pod-name'] = [k.pod.name];
    user.extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
  }
  if (k.secret) {
    const secret = lookups.secret(k.namespace, k.secret.name);
    if (!secret || secret.metadata.uid !== k.secret.uid)
      return `secret ${k.namespace}/${k.secret.name} has been deleted`;
  }
  return user;
}

/** TokenRequest's spec defaults and validation; the 422 is worded as kube-apiserver's. */
function checkedSpec(
  issuer: TokenIssuer,
  saName: string,
  spec: KObject | undefined,
): { audiences: string[]; expirationSeconds: number; boundObjectRef?: KObject } {
  const audiences: string[] =
    Array.isArray(spec?.audiences) && spec.audiences.length ? spec.audiences : issuer.audiences;
  const expirationSeconds = spec?.expirationSeconds ?? 3600;
  const invalid = (message: string) =>
    errors.invalid('TokenRequest.authentication.k8s.io', saName, 'authentication.k8s.io', [
      { reason: 'FieldValueInvalid', field: 'spec.expirationSeconds', message },
    ]);
  if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds))
    throw invalid(`Invalid value: ${JSON.stringify(expirationSeconds)}: must be an integer`);
  if (expirationSeconds < MIN_EXPIRATION_SECONDS)
    throw invalid(`Invalid value: ${expirationSeconds}: may not specify a duration less than 10 minutes`);
  if (expirationSeconds > MAX_EXPIRATION_SECONDS)
    throw invalid(`Invalid value: ${expirationSeconds}: may not specify a duration larger than 2^32 seconds`);
  return { audiences, expirationSeconds, boundObjectRef: spec?.boundObjectRef ?? undefined };
}

/** The object a token is bound to, checked as the TokenRequest REST storage checks it. */
function boundObject(saName: string, namespace: string, ref: KObject, lookups: TokenLookups): BoundRef {
  const kind = ref.kind;
  if ((ref.apiVersion ?? 'v1') !== 'v1' || (kind !== 'Pod' && kind !== 'Secret')) {
    throw errors.badRequest(
      `cannot bind token for serviceaccount "${saName}" to object of type ${ref.apiVersion ?? ''}, Kind=${kind ?? ''}`,
    );
  }
  const obj = kind === 'Pod' ? lookups.pod(namespace, ref.name) : lookups.secret(namespace, ref.name);
  if (!obj) throw errors.notFound({ group: '', resource: kind === 'Pod' ? 'pods' : 'secrets' }, ref.name);
  if (kind === 'Pod' && (obj.spec?.serviceAccountName ?? 'default') !== saName) {
    throw errors.badRequest(
      `cannot bind token for serviceaccount "${saName}" to pod running with different serviceaccount name.`,
    );
  }
  if (ref.uid && ref.uid !== obj.metadata.uid) {
    throw new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${kind} "${ref.name}": the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
      { name: ref.name, kind },
    );
  }
  return { kind, apiVersion: 'v1', name: ref.name, uid: obj.metadata.uid };
}

/**
 * POST …/serviceaccounts/<name>/token: a TokenRequest answered with a signed token in
 * `status.token` and its expiry in `status.expirationTimestamp`.
 */
export function createTokenRequest(
  issuer: TokenIssuer,
  namespace: string,
  sa: KObject,
  body: KObject,
  lookups: TokenLookups,
  nowMs: number,
): KObject {
  if (body.kind && body.kind !== 'TokenRequest') throw errors.badRequest(`TokenRequest expected, got ${body.kind}`);
  const saName = sa.metadata.name;
  const spec = checkedSpec(issuer, saName, body.spec);
  const bound = spec.boundObjectRef ? boundObject(saName, namespace, spec.boundObjectRef, lookups) : undefined;
  const now = Math.floor(nowMs / 1000);
  let lifetime = spec.expirationSeconds;
  let warnafter: number | undefined;
  const kubeAudiences = spec.audiences.every((a) => issuer.audiences.includes(a));
  if (bound?.kind === 'Pod' && lifetime === WARN_ONLY_EXPIRATION_SECONDS && kubeAudiences) {
    warnafter = now + lifetime;
    lifetime = EXTENDED_EXPIRATION_SECONDS;
  }
  const claims: TokenClaims = {
    iss: ISSUER,
    sub: serviceAccountUser(namespace, saName).name,
    aud: spec.audiences,
    exp: now + lifetime,
    iat: now,
    nbf: now,
    jti: randomUUID(),
    'kubernetes.io': { namespace, serviceaccount: { name: saName, uid: sa.metadata.uid } },
  };
  if (bound?.kind === 'Pod') claims['kubernetes.io'].pod = { name: bound.name, uid: bound.uid };
  if (bound?.kind === 'Secret') claims['kubernetes.io'].secret = { name: bound.name, uid: bound.uid };
  if (warnafter) claims['kubernetes.io'].warnafter = warnafter;
  const outSpec: KObject = {
    audiences: spec.audiences,
    expirationSeconds: spec.expirationSeconds,
    boundObjectRef: bound ?? null,
  };
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { ...(body.metadata ?? {}), name: saName, namespace, creationTimestamp: null },
    spec: outSpec,
    status: {
      token: issuer.sign(claims),
      expirationTimestamp: new Date((now + spec.expirationSeconds) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    },
  };
}
