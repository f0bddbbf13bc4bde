// PATCH (JSON, merge, strategic merge, server-side apply) of an object, its status, or the
// scale subresource. A patch that creates its object (apply) answers 201.
import { PATCH_TYPES, type WriteOptions } from '../rest.js';
import { patchScale as applyScalePatch, scaleOf, updateScale } from '../subresources.js';
import { confirmRbacWrite, guardsEscalation } from './escalation.js';
import { readBody, writeOptions } from './request.js';
import { renderOne, sendJson } from './response.js';
import type { RequestScope } from './scope.js';

interface PatchRequest {
  raw: string;
  contentType: string;
  opts: WriteOptions;
}

async function readPatch(s: RequestScope): Promise<PatchRequest> {
  const raw = await readBody(s.req);
  const contentType = String(s.req.headers['content-type'] ?? '');
  const opts = writeOptions(s);
  // Apply has no default manager: without the parameter the storage refuses it.
  if (contentType.startsWith(PATCH_TYPES.apply)) opts.fieldManager = s.query.get('fieldManager') ?? undefined;
  return { raw, contentType, opts };
}

export async function patchResource(s: RequestScope): Promise<number> {
  const {
    ctx: { rest },
    resource: t,
    namespace,
  } = s;
  const { raw, contentType, opts } = await readPatch(s);
  const existed = !!rest.find(t, namespace, s.name!);
  if (guardsEscalation(s)) {
    // The storage checks the patched object: a dry run computes it (its own errors, such
    // as validation, then come before the check's, where upstream they come after).
    const next = rest.patch(
      t,
      { ns: namespace, name: s.name! },
      { contentType, raw },
      { ...opts, dryRun: true },
    ).object;
    confirmRbacWrite(s, next, rest.find(t, namespace, s.name!));
  }
  const result = rest.patch(
    t,
    { ns: namespace, name: s.name!, subresource: s.subresource as 'status' | undefined },
    { contentType, raw },
    opts,
  );
  const code = existed ? 200 : 201;
  sendJson(s.res, code, renderOne(s, result.object), result.warnings);
  return code;
}

export async function patchScale(s: RequestScope): Promise<number> {
  const {
    ctx: { rest },
    resource: t,
    namespace,
  } = s;
  const { raw, contentType, opts } = await readPatch(s);
  const current = scaleOf(t, rest.get(t, namespace, s.name!));
  const patched = applyScalePatch(contentType, raw, current);
  sendJson(s.res, 200, scaleOf(t, updateScale(rest, t, namespace, s.name!, patched, opts)));
  return 200;
}
