// POST: a new object, a review (the virtual access and token reviews, answered and never
// stored), or a ServiceAccount's token.
import { errors } from '../errors.js';
import { reviewResponse } from '../subresources.js';
import { createTokenRequest } from '../tokens.js';
import { confirmRbacWrite, guardsEscalation } from './escalation.js';
import { readObject, readWrite } from './request.js';
import { renderOne, sendJson } from './response.js';
import type { RequestScope } from './scope.js';

export async function createResource(s: RequestScope): Promise<number> {
  if (s.subresource || s.name) throw errors.methodNotAllowed();
  const { body, opts } = await readWrite(s);
  // Checked on the object as sent, before validation, as the storage does.
  if (guardsEscalation(s)) confirmRbacWrite(s, body, undefined);
  const result = s.ctx.rest.create(s.resource, s.namespace, body, opts);
  sendJson(s.res, 201, renderOne(s, result.object), result.warnings);
  return 201;
}

export async function createReview(s: RequestScope): Promise<number> {
  const { ctx, user } = s;
  const review = reviewResponse(s.resource, s.namespace, await readObject(s.req), {
    user,
    authorize: (u, a) => ctx.access.authorize(u, a),
    rulesFor: (u, ns) => ctx.access.rulesFor(u, ns),
  });
  sendJson(s.res, 201, review);
  return 201;
}

/** serviceaccounts/token: a TokenRequest signed for the ServiceAccount. */
export async function createToken(s: RequestScope): Promise<number> {
  const { ctx, namespace } = s;
  const sa = ctx.rest.get(s.resource, namespace, s.name!); // 404 with the ServiceAccount's name when absent
  sendJson(
    s.res,
    201,
    createTokenRequest(ctx.issuer, namespace, sa, await readObject(s.req), ctx.access.tokenLookups(), ctx.now()),
  );
  return 201;
}
