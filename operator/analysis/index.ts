// Canary analysis and production monitoring as data. Pure functions except
// measure() (queries a MetricProvider) and AnalysisMetrics (sets prom-client gauges).
export * from './stats.js';
export * from './divergence.js';
export * from './measurements.js';
export * from './promql.js';
export * from './measure.js';
export * from './reference.js';
export * from './checks/result.js';
export * from './checks/accuracy.js';
export * from './checks/drift.js';
export * from './checks/latency.js';
export * from './checks/errors.js';
export * from './analyse.js';
export * from './verdict.js';
export * from './monitoring.js';
export * from './status.js';
export * from './metrics.js';
export * from './run.js';
export * from './shadow.js';
export * from './estimate.js';
export * from './estimate-measure.js';
export * from './checks/estimated.js';
export * from './checks/agreement.js';
export * from './sequential.js';
export * from './evidence.js';
