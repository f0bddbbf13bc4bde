// Metric providers for analysis and monitoring: the interface, typed errors, the factory and
// one file per implementation (prometheus.ts).
export * from './provider.js';
export * from './prometheus.js';
export * from './factory.js';
export * from './allowed.js';
