// The operator runtime's public surface, for controllers and the entry point.
export { Backoff, backoffDelay, defaultBackoff, sleep, type BackoffPolicy } from './backoff.js';
export {
  FIELD_MANAGER,
  KubeClient,
  type ApplyOptions,
  type DeleteOptions,
  type ListOptions,
  type ListResult,
  type StatusUpdateOptions,
} from './client.js';
export {
  ownerKeys,
  type CacheReader,
  type Controller,
  type ReconcileContext,
  type ReconcileResult,
  type WatchSpec,
} from './controller.js';
export {
  AlreadyExistsError,
  ConflictError,
  ForbiddenError,
  GoneError,
  InvalidError,
  KubeApiError,
  NotFoundError,
  UnavailableError,
  ignoreNotFound,
  isAlreadyExists,
  isConflict,
  isNotFound,
  type StatusCause,
} from './errors.js';
export { Informer, type InformerHandlers, type InformerOptions } from './informer.js';
export {
  apiVersionOf,
  keyOf,
  keyString,
  Kinds,
  parseKey,
  resourcePath,
  type KindRef,
  type KubeObject,
  type ObjectKey,
  type ObjectMeta,
  type OwnerReference,
} from './kinds.js';
export { loadKubeConfig, ownNamespace } from './kubeconfig.js';
export { createLogger, errorChain, loggerFor, objectFields, type Logger } from './logger.js';
export { Manager, type ManagerOptions } from './manager.js';
export { createOperatorMetrics, type OperatorMetrics } from './metrics.js';
export { EventRecorder, type EventType } from './recorder.js';
export {
  getCondition,
  isConditionTrue,
  pruneUndefined,
  semanticEqual,
  setCondition,
  type Condition,
} from './status.js';
export { KubeTransport } from './transport.js';
export { WorkQueue } from './workqueue.js';
