// Traffic providers: the interface, the factory and one file per implementation.
export * from './provider.js';
export * from './common.js';
export * from './router.js';
export * from './gateway-api.js';
export * from './factory.js';
