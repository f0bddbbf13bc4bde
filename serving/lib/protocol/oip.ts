// Open Inference Protocol v2 (KServe / Triton) request parsing and response building.
// Accepted inputs (exactly one input tensor per request):
//   image models: FP32 already-normalised tensor in the model's shape; UINT8 raw pixels in
//                 the model's layout and size (normalised here); BYTES encoded images
//                 (base64 strings or {"b64": ...}), shape [N] or [N, 1]
//   tensor models: FP32 [N, features]
import { ServingError } from '../errors.js';
import type { DecodedImage } from '../pipeline/image-decode.js';
import type { RawOutput } from '../model/onnx-model.js';
import { inputDims } from '../pipeline/prepare.js';
import type { Signature } from '../model/schema.js';
import { layoutBytesToRgb } from '../pipeline/tensor.js';

export type InferPlan =
  | { kind: 'fp32'; input: Float32Array; dims: number[]; rows?: number[][] }
  | { kind: 'pixels'; images: DecodedImage[] }
  | { kind: 'encoded'; images: Buffer[] };

export interface InferRequest {
  id?: string;
  outputs?: string[];
  plan: InferPlan;
}

interface OipTensor { name?: unknown; shape?: unknown; datatype?: unknown; data?: unknown }

const MAX_DEPTH = 8;

function flatten(data: unknown, out: unknown[], depth = 0): unknown[] {
  if (!Array.isArray(data)) { out.push(data); return out; }
  if (depth > MAX_DEPTH) throw new ServingError('WRONG_TENSOR', 'data is nested too deeply');
  for (const v of data) {
    if (Array.isArray(v)) flatten(v, out, depth + 1); else out.push(v);
  }
  return out;
}

function checkShape(shape: unknown, expected: number[], name: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ServingError('WRONG_TENSOR', `input "${name}" shape must be an array of non-negative integers`);
  }
  const dims = shape as number[];
  const want = [dims[0], ...expected.slice(1)];
  if (dims.length !== want.length || dims.some((d, i) => d !== want[i])) {
    throw new ServingError('WRONG_TENSOR', `input "${name}" has shape [${dims.join(', ')}], the model takes [N, ${expected.slice(1).join(', ')}]`);
  }
  if (dims[0] === 0) throw new ServingError('WRONG_TENSOR', `input "${name}" has an empty batch`);
  return dims;
}

function numbersOf(data: unknown, count: number, name: string, check: (v: number) => boolean, what: string): number[] {
  if (!Array.isArray(data)) throw new ServingError('WRONG_TENSOR', `input "${name}" data must be an array`);
  const flat = flatten(data, []);
  if (flat.length !== count) throw new ServingError('WRONG_TENSOR', `input "${name}" has ${flat.length} values, its shape needs ${count}`);
  for (const v of flat) {
    if (typeof v !== 'number' || !check(v)) throw new ServingError('WRONG_TENSOR', `input "${name}" data must be ${what}`);
  }
  return flat as number[];
}

function decodeBytesElement(v: unknown, i: number): Buffer {
  const value = typeof v === 'object' && v !== null && 'b64' in v ? (v as { b64: unknown }).b64 : v;
  if (typeof value !== 'string' || value.length === 0) throw new ServingError('WRONG_TENSOR', `BYTES element ${i} must be a base64 string`);
  return Buffer.from(value, 'base64');
}

export function parseInferRequest(body: unknown, sig: Signature, maxItems: number): InferRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ServingError('INVALID_INPUT', 'infer request must be a JSON object');
  const req = body as { id?: unknown; inputs?: unknown; outputs?: unknown };
  if (!Array.isArray(req.inputs) || req.inputs.length !== 1) throw new ServingError('INVALID_INPUT', 'infer request needs exactly one entry in "inputs"');
  const t = req.inputs[0] as OipTensor;
  if (typeof t !== 'object' || t === null) throw new ServingError('INVALID_INPUT', 'inputs[0] must be an object');
  const name = typeof t.name === 'string' ? t.name : '';
  const outputs = parseOutputs(req.outputs, sig);
  const id = typeof req.id === 'string' ? req.id : undefined;
  const dtype = t.datatype;
  const expected = inputDims(sig, 1);
  const plan = ((): InferPlan => {
    if (dtype === 'BYTES') {
      if (sig.input.kind !== 'image') throw new ServingError('WRONG_TENSOR', 'BYTES input is only for image models');
      if (!Array.isArray(t.data)) throw new ServingError('WRONG_TENSOR', `input "${name}" data must be an array`);
      const flat = flatten(t.data, []);
      const shape = t.shape;
      if (!Array.isArray(shape) || shape[0] !== flat.length || shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
        throw new ServingError('WRONG_TENSOR', `BYTES input "${name}" needs shape [N] or [N, 1] matching its ${flat.length} elements`);
      }
      if (flat.length > maxItems) throw new ServingError('PAYLOAD_TOO_LARGE', `${flat.length} items, over the limit of ${maxItems}`);
      return { kind: 'encoded', images: flat.map(decodeBytesElement) };
    }
    if (name !== sig.input.tensor) throw new ServingError('WRONG_TENSOR', `unknown input "${name}"; the model's input is "${sig.input.tensor}"`);
    const dims = checkShape(t.shape, expected, name);
    if (dims[0] > maxItems) throw new ServingError('PAYLOAD_TOO_LARGE', `${dims[0]} items, over the limit of ${maxItems}`);
    const count = dims.reduce((a, b) => a * b, 1);
    if (dtype === 'FP32') {
      const values = numbersOf(t.data, count, name, Number.isFinite, 'finite numbers');
      const input = Float32Array.from(values);
      const rows = sig.input.kind === 'tensor' ? Array.from({ length: dims[0] }, (_, r) => values.slice(r * dims[1], (r + 1) * dims[1])) : undefined;
      return { kind: 'fp32', input, dims, rows };
    }
    if (dtype === 'UINT8' && sig.input.kind === 'image') {
      const image = sig.input;
      const bytes = Uint8Array.from(numbersOf(t.data, count, name, (v) => Number.isInteger(v) && v >= 0 && v <= 255, 'integers 0..255'));
      return { kind: 'pixels', images: Array.from({ length: dims[0] }, (_, i) => ({ rgb: Buffer.from(layoutBytesToRgb(bytes, image, i)), width: image.width, height: image.height })) };
    }
    throw new ServingError('WRONG_TENSOR', `datatype ${JSON.stringify(dtype)} is not accepted for "${name}" (use ${sig.input.kind === 'image' ? 'FP32, UINT8 or BYTES' : 'FP32'})`);
  })();
  return { id, outputs, plan };
}

function parseOutputs(outputs: unknown, sig: Signature): string[] | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs)) throw new ServingError('INVALID_INPUT', '"outputs" must be an array of {"name": ...}');
  return outputs.map((o) => {
    const name = (o as { name?: unknown })?.name;
    if (typeof name !== 'string' || !sig.heads.some((h) => h.tensor === name)) {
      throw new ServingError('INVALID_INPUT', `unknown output ${JSON.stringify(name)}; outputs: ${sig.heads.map((h) => h.tensor).join(', ')}`);
    }
    return name;
  });
}

export function inferResponse(sig: Signature, modelName: string, version: string, req: InferRequest, raw: Record<string, RawOutput>, predictionIds: string[]) {
  const wanted = req.outputs ?? sig.heads.map((h) => h.tensor);
  return {
    model_name: modelName,
    model_version: version,
    ...(req.id !== undefined ? { id: req.id } : {}),
    parameters: { prediction_ids: predictionIds },
    outputs: wanted.map((name) => ({ name, datatype: 'FP32', shape: [...raw[name].dims], data: Array.from(raw[name].data) })),
  };
}

export function modelMetadata(sig: Signature, modelName: string, version: string) {
  const input = sig.input;
  return {
    name: modelName,
    versions: [version],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: input.tensor, datatype: 'FP32', shape: inputDims(sig, -1) }],
    outputs: sig.heads.map((h) => ({ name: h.tensor, datatype: 'FP32', shape: [-1, h.type === 'binary' && h.activation !== 'softmax' ? -1 : h.labels.length] })),
    parameters: { heads: sig.heads.map((h) => ({ name: h.name, tensor: h.tensor, type: h.type, labels: h.labels, activation: h.activation })), input_kind: input.kind },
  };
}
