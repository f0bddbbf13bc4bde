// The serving image runs validation, serving, routing and the object-storage steps (fetch,
// upload) of every Job and pod the operator builds; --serving-image sets it for an install.
export const DEFAULT_SERVING_IMAGE = 'modelship/serving:0.1.0';
