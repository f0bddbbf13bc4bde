// Where a version's reference profile (expected feature and class distributions) comes from:
// ModelVersion.status.profile when validation recorded the distributions there, else the full
// profile.json next to the artifact (written by validation), read from a file:// location or,
// when the operator runs on a node that holds the claims' folders (the dev cluster), from
// `<pvcRoot>/<namespace>/<claim>/<path>`. Cached per ModelVersion uid: versions are immutable.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { referenceFromProfileJson, referenceFromStatusProfile, type ProfileJsonLike, type ReferenceProfile } from '../../analysis/reference.js';
import type { ModelVersion } from '../../api/index.js';
import { isPvc, joinUri, parseStorageUri } from '../trainingrun/storage.js';

export type ReferenceResolver = (mv: ModelVersion) => Promise<ReferenceProfile | undefined>;

/** Local path of a storage URI, or undefined when this process cannot read it. */
export function localPathOf(uri: string, namespace: string, pvcRoot: string | undefined): string | undefined {
  const loc = parseStorageUri(uri);
  if (isPvc(loc)) return pvcRoot ? join(pvcRoot, namespace, loc.claim, loc.path) : undefined;
  if (loc.scheme === 'file') return decodeURIComponent(new URL(uri).pathname);
  return undefined;
}

export function referenceResolver(opts: { pvcRoot?: string }): ReferenceResolver {
  const cache = new Map<string, ReferenceProfile | undefined>();
  return async (mv) => {
    const fromStatus = referenceFromStatusProfile(mv.status?.profile);
    if (fromStatus) return fromStatus;
    const key = mv.metadata.uid ?? `${mv.metadata.namespace}/${mv.metadata.name}`;
    if (cache.has(key)) return cache.get(key);
    const uri = mv.status?.profile?.uri ?? joinUri(mv.spec.artifact.uri, 'profile.json');
    let ref: ReferenceProfile | undefined;
    try {
      const path = localPathOf(uri, mv.metadata.namespace ?? '', opts.pvcRoot);
      if (path) ref = referenceFromProfileJson(JSON.parse(await readFile(path, 'utf8')) as ProfileJsonLike);
    } catch {
      ref = undefined; // unreadable: drift stays inconclusive, with the reason in the check
    }
    if (ref) cache.set(key, ref);
    return ref;
  };
}
