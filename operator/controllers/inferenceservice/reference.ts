// Where a version's reference profile (expected feature and class distributions) comes from:
// ModelVersion.status.profile when validation recorded the distributions there (they fit the
// validation report), else the full profile.json, asked over HTTP of a model server that serves
// the version (`GET /v2/models/<model>/profile` through the role's Service). The operator never
// reads the volumes an artifact lives on: on a cluster it has no access to them. A profile is
// cached per ModelVersion uid (versions are immutable) once its digest matches the version's.
import {
  referenceFromProfileJson,
  referenceFromStatusProfile,
  type ProfileJsonLike,
  type ReferenceProfile,
} from '../../analysis/reference.js';
import type { ModelVersion } from '../../api/index.js';

/** Base URL of a model server serving `mv` (its role Service), when one is known. */
export type ProfileSource = string | undefined;
export type ReferenceResolver = (mv: ModelVersion, source: ProfileSource) => Promise<ReferenceProfile | undefined>;
export type ProfileFetcher = (url: string) => Promise<unknown>;

const FETCH_TIMEOUT_MS = 3_000;

async function fetchJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

/** The profile URL of `mv`'s model on a server at `base`. */
export function profileUrl(base: string, mv: ModelVersion): string {
  return `${base.replace(/\/+$/, '')}/v2/models/${encodeURIComponent(mv.spec.model)}/profile`;
}

function isProfileOf(body: unknown, mv: ModelVersion): body is ProfileJsonLike & { digest?: string } {
  const p = body as (ProfileJsonLike & { digest?: string }) | undefined;
  // During a promotion a role's Service can reach pods of the other version: only the profile
  // computed for this artifact counts.
  return !!p && typeof p.features === 'object' && p.digest === mv.spec.artifact.digest;
}

export function referenceResolver(opts: { fetchProfile?: ProfileFetcher } = {}): ReferenceResolver {
  const fetchProfile = opts.fetchProfile ?? fetchJson;
  const cache = new Map<string, ReferenceProfile>();
  return async (mv, source) => {
    const fromStatus = referenceFromStatusProfile(mv.status?.profile, mv.status?.calibration);
    if (fromStatus) return fromStatus;
    const key = mv.metadata.uid ?? `${mv.metadata.namespace}/${mv.metadata.name}`;
    const cached = cache.get(key);
    if (cached || !source) return cached;
    try {
      const body = await fetchProfile(profileUrl(source, mv));
      if (!isProfileOf(body, mv)) return undefined;
      const ref = referenceFromProfileJson(body);
      cache.set(key, ref);
      return ref;
    } catch {
      return undefined; // not reachable yet: drift stays inconclusive this time, with the reason in the check
    }
  };
}
