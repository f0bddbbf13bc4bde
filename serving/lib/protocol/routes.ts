// The route table of `serve`: URL and method → the handler name (the `handler` label of the
// request metrics) and whether errors answer in the OIP shape. A wrong method or an unknown
// path is a route too, so that it is measured and answered through the same error mapping.
import type { IncomingMessage } from 'node:http';
import { ServingError } from '../errors.js';
import { json, type Reply, type RequestContext } from './request.js';

type Handle = (req: IncomingMessage, ctx: RequestContext) => Promise<Reply>;

export interface Route {
  handler: string;
  /** OIP routes answer errors as {"error": "..."} */
  oip: boolean;
  handle: Handle;
}

/** What the routes call; ServingApp provides them. */
export interface RouteHandlers {
  predict: Handle;
  infer: Handle;
  feedback: Handle;
  metrics: () => Promise<Reply>;
  index: () => Reply;
  readiness: () => Reply;
  profile: () => Reply;
  modelMetadata: () => Reply;
  /** throws UNKNOWN_MODEL unless the path names the served model (and version, if given) */
  checkModel: (name: string, version: string | undefined) => void;
}

const SERVER_METADATA = { name: 'modelship', version: '1', extensions: [] };
const OIP_MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer|\/profile)?$/;

function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (err) {
    throw new ServingError('UNKNOWN_MODEL', `malformed model name in the path: ${segment}`, { cause: err });
  }
}

/** A route that only answers `allowed` (GET also answers HEAD); any other method is a 405. */
function only(method: string, url: string, allowed: string, route: Route): Route {
  if (method === allowed || (allowed === 'GET' && method === 'HEAD')) return route;
  return {
    ...route,
    handle: async () => {
      throw new ServingError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${url}; use ${allowed}`);
    },
  };
}

/** /v2/models/{name}[/versions/{version}][/ready|/infer|/profile]: the model's name is checked inside the handler, so a wrong one is measured too. */
function oipModelRoute(match: RegExpExecArray, h: RouteHandlers): [string, Route] {
  const [, name, version, action] = match;
  const check = () =>
    h.checkModel(decodePathSegment(name), version === undefined ? undefined : decodePathSegment(version));
  if (action === '/infer')
    return [
      'POST',
      {
        handler: 'infer',
        oip: true,
        handle: (r, c) => {
          check();
          return h.infer(r, c);
        },
      },
    ];
  if (action === '/ready')
    return [
      'GET',
      {
        handler: 'model_ready',
        oip: true,
        handle: async () => {
          check();
          return h.readiness();
        },
      },
    ];
  if (action === '/profile')
    return [
      'GET',
      {
        handler: 'model_profile',
        oip: true,
        handle: async () => {
          check();
          return h.profile();
        },
      },
    ];
  return [
    'GET',
    {
      handler: 'model_metadata',
      oip: true,
      handle: async () => {
        check();
        return h.modelMetadata();
      },
    },
  ];
}

/** The fixed paths: [allowed method, route]. */
function fixedRoute(url: string, h: RouteHandlers): [string, Route] | undefined {
  switch (url) {
    case '/predict':
      return ['POST', { handler: 'predict', oip: false, handle: h.predict }];
    case '/feedback':
      return ['POST', { handler: 'feedback', oip: false, handle: h.feedback }];
    case '/metrics':
      return ['GET', { handler: 'metrics', oip: false, handle: () => h.metrics() }];
    case '/':
      return ['GET', { handler: 'index', oip: false, handle: async () => h.index() }];
    case '/v2/health/live':
    case '/healthz':
      return ['GET', { handler: 'live', oip: true, handle: async () => json(200, { live: true }) }];
    case '/v2/health/ready':
    case '/readyz':
      return ['GET', { handler: 'ready', oip: true, handle: async () => h.readiness() }];
    case '/v2':
      return ['GET', { handler: 'server_metadata', oip: true, handle: async () => json(200, SERVER_METADATA) }];
    default:
      return undefined;
  }
}

export function routeRequest(req: IncomingMessage, h: RouteHandlers): Route {
  const url = (req.url ?? '/').split('?')[0];
  const method = req.method ?? 'GET';
  const oip = OIP_MODEL_PATH.exec(url);
  const found = fixedRoute(url, h) ?? (oip ? oipModelRoute(oip, h) : undefined);
  if (found) return only(method, url, found[0], found[1]);
  return {
    handler: 'not_found',
    oip: url.startsWith('/v2'),
    handle: async () => {
      throw new ServingError('NOT_FOUND', `no route ${method} ${url}`);
    },
  };
}
