// Public surface of the router mode (see README.md in this folder).
export { runRouter, parseRouterArgs, RouterUsageError, type RouterCliOptions } from './main.js';
export {
  startRouter,
  Router,
  ADMIN_PREFIX,
  type RunningRouter,
  type RouterOptions,
  type StartRouterOptions,
} from './router.js';
export {
  parseRouterConfig,
  validateRouterConfig,
  routerConfigSchema,
  RouterConfigError,
  type RouterConfig,
  type Upstream,
} from './config.js';
export { type RoutingSource, type RouterLogger, StaticRoutingSource, jsonLogger, silentLogger } from './source.js';
export { FileRoutingSource, type FileRoutingSourceOptions } from './file-source.js';
export { RoutingTable, hashToUnit, VERSION_HEADER, ROLE_HEADER } from './table.js';
export { RouterMetrics } from './metrics.js';
