// The Modelship API in TypeScript: generated types of the three kinds (from crds/*.yaml) plus
// the hand-written names and helpers that go with them.
export * from './types.gen.js';
export * from './meta.js';
export * from './constants.js';
export * from './duration.js';
export * from './placement.js';
export * from './defaults.js';
