// The dev cluster's schema engine: validation, defaulting and pruning of custom resources (with CEL
// x-kubernetes-validations), static validation of CRDs, and validation of built-in kinds — all
// worded exactly as a real kube-apiserver (1.31) words them. Pure: no I/O, no global state but caches.
export type { FieldError, FieldErrorType } from './errors.js';
export { formatFieldError } from './errors.js';
export type { CompiledSchema } from './crd.js';
export { compileCrdSchema, validateCrd } from './crd.js';
export { validateBuiltin, isKnownBuiltin } from './builtin.js';
