// What one resource request's handler works from, resolved once by the router, so that each
// verb's handler takes a single argument (kube-apiserver's handlers have a RequestScope too).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestInfo } from '../faults.js';
import type { HttpContext } from '../http.js';
import type { ResourceType } from '../registry.js';
import type { UserInfo } from '../rbac.js';

export interface RequestScope {
  ctx: HttpContext;
  req: IncomingMessage;
  res: ServerResponse;
  /** The type that the path's group, version and plural name. */
  resource: ResourceType;
  /** '' for a cluster-scoped resource, and for a collection across all namespaces. */
  namespace: string;
  name?: string;
  subresource?: string;
  /** The authorizer's verb: get, list, watch, create, update, patch, delete, deletecollection. */
  verb: string;
  query: URLSearchParams;
  /** What fault injection and the watch registry match requests on. */
  info: RequestInfo;
  /** Who the request acts as, after authentication and impersonation. */
  user: UserInfo;
}

/** Serves one request: writes the whole response and returns its status code, for the counters. */
export type Handler = (s: RequestScope) => number | Promise<number>;
