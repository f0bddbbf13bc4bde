// Kubernetes `Status` error bodies, worded as kube-apiserver words them, so that clients which
// parse `reason`/`code`/`details` (client-go's apierrors, client-node, kubectl) behave as on a
// real cluster.
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface GroupResource {
  group: string;
  resource: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ApiError';
  }

  toStatus(): Record<string, unknown> {
    const body: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
    };
    if (this.details) body.details = this.details;
    body.code = this.code;
    return body;
  }
}

/** `deployments.apps` or `pods`: the qualified resource name used in messages. */
export function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

function details(gr: GroupResource, name: string, extra?: Partial<StatusDetails>): StatusDetails {
  const d: StatusDetails = { name };
  if (gr.group) d.group = gr.group;
  d.kind = gr.resource;
  return { ...d, ...extra };
}

export const errors = {
  notFound: (gr: GroupResource, name: string) =>
    new ApiError(404, 'NotFound', `${qualified(gr)} "${name}" not found`, details(gr, name)),
  alreadyExists: (gr: GroupResource, name: string) =>
    new ApiError(409, 'AlreadyExists', `${qualified(gr)} "${name}" already exists`, details(gr, name)),
  conflict: (
    gr: GroupResource,
    name: string,
    why = 'the object has been modified; please apply your changes to the latest version and try again',
  ) =>
    new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${why}`,
      details(gr, name),
    ),
  badRequest: (message: string) => new ApiError(400, 'BadRequest', message),
  forbidden: (gr: GroupResource, name: string, why: string, causes?: StatusCause[]) =>
    // NewForbidden leaves the name out of the message when there is none (generateName).
    new ApiError(
      403,
      'Forbidden',
      `${qualified(gr)}${name ? ` "${name}"` : ''} is forbidden: ${why}`,
      details(gr, name, causes ? { causes } : {}),
    ),
  methodNotAllowed: (message = 'the server does not allow this method on the requested resource') =>
    new ApiError(405, 'MethodNotAllowed', message),
  notAcceptable: (message: string) => new ApiError(406, 'NotAcceptable', message),
  unsupportedMediaType: (accepted: string[]) =>
    new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    ),
  gone: (message: string) => new ApiError(410, 'Expired', message),
  internal: (message: string) =>
    new ApiError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  notFoundPath: () => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}),
  /** 422 Invalid; `kindGroup` is `Deployment.apps` or `Pod`. */
  invalid: (kindGroup: string, name: string, group: string, causes: StatusCause[]) => {
    const parts = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : `${c.message}`));
    const list = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
    const kind = kindGroup.split('.')[0];
    const d: StatusDetails = { name };
    if (group) d.group = group;
    d.kind = kind;
    d.causes = causes;
    return new ApiError(422, 'Invalid', `${kindGroup} "${name}" is invalid: ${list}`, d);
  },
};
