// The InferenceService controller and its pure parts.
export * from './builders.js';
export * from './phases.js';
export * from './policy.js';
export * from './retrain.js';
export * from './conditions.js';
export {
  inferenceServiceController,
  reconcileInferenceService,
  type InferenceServiceControllerOptions,
} from './controller.js';
export { contains } from './children/index.js';
export { RolloutMetrics } from './metrics.js';
