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
import { isFloat32, layoutBytesToRgb } from '../pipeline/tensor.js';

export type InferPlan =
  | { kind: 'fp32'; input: Float32Array; dims: number[]; rows?: number[][] }
  | { kind: 'pixels'; images: DecodedImage[] }
  | { kind: 'encoded'; images: Buffer[] };

export interface InferRequest {
  id?: string;
  outputs?: string[];
  plan: InferPlan;
}

interface OipTensor {
  name?: unknown;
  shape?: unknown;
  datatype?: unknown;
  data?: unknown;
}

const MAX_DEPTH = 8;

function flatten(data: unknown, out: unknown[], depth = 0): unknown[] {
  if (!Array.isArray(data)) {
    out.push(data);
    return out;
  }
  if (depth > MAX_DEPTH) throw new ServingError('WRONG_TENSOR', 'data is nested too deeply');
  for (const v of data) {
    if (Array.isArray(v)) flatten(v, out, depth + 1);
    else out.push(v);
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
    throw new ServingError(
      'WRONG_TENSOR',
      `input "${name}" has shape [${dims.join(', ')}], the model takes [N, ${expected.slice(1).join(', ')}]`,
    );
  }
  if (dims[0] === 0) throw new ServingError('WRONG_TENSOR', `input "${name}" has an empty batch`);
  return dims;
}

/** Which values a numeric input accepts, and how its error message names them. */
interface ValueRule {
  accepts: (v: number) => boolean;
  what: string;
}
const FINITE: ValueRule = { accepts: isFloat32, what: 'finite float32 numbers (|x| ≤ 3.4e38)' };
const BYTE: ValueRule = { accepts: (v) => Number.isInteger(v) && v >= 0 && v <= 255, what: 'integers 0..255' };

function numbersOf(data: unknown, count: number, name: string, rule: ValueRule): number[] {
  if (!Array.isArray(data)) throw new ServingError('WRONG_TENSOR', `input "${name}" data must be an array`);
  const flat = flatten(data, []);
  if (flat.length !== count)
    throw new ServingError('WRONG_TENSOR', `input "${name}" has ${flat.length} values, its shape needs ${count}`);
  for (const v of flat) {
    if (typeof v !== 'number' || !rule.accepts(v))
      throw new ServingError('WRONG_TENSOR', `input "${name}" data must be ${rule.what}`);
  }
  return flat as number[];
}

function decodeBytesElement(v: unknown, i: number): Buffer {
  const value = typeof v === 'object' && v !== null && 'b64' in v ? (v as { b64: unknown }).b64 : v;
  if (typeof value !== 'string' || value.length === 0)
    throw new ServingError('WRONG_TENSOR', `BYTES element ${i} must be a base64 string`);
  return Buffer.from(value, 'base64');
}

/** BYTES: encoded images (base64 strings or {"b64": ...}), shape [N] or [N, 1]. */
function encodedImagesPlan(t: OipTensor, name: string, sig: Signature, maxItems: number): InferPlan {
  if (sig.input.kind !== 'image') throw new ServingError('WRONG_TENSOR', 'BYTES input is only for image models');
  if (!Array.isArray(t.data)) throw new ServingError('WRONG_TENSOR', `input "${name}" data must be an array`);
  const flat = flatten(t.data, []);
  const shape = t.shape;
  if (!Array.isArray(shape) || shape[0] !== flat.length || shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
    throw new ServingError(
      'WRONG_TENSOR',
      `BYTES input "${name}" needs shape [N] or [N, 1] matching its ${flat.length} elements`,
    );
  }
  if (flat.length > maxItems)
    throw new ServingError('PAYLOAD_TOO_LARGE', `${flat.length} items, over the limit of ${maxItems}`);
  return { kind: 'encoded', images: flat.map(decodeBytesElement) };
}

/** FP32 (any model) or UINT8 pixels (image models) in the model's own input shape. */
function tensorPlan(t: OipTensor, name: string, sig: Signature, maxItems: number): InferPlan {
  if (name !== sig.input.tensor)
    throw new ServingError('WRONG_TENSOR', `unknown input "${name}"; the model's input is "${sig.input.tensor}"`);
  const dims = checkShape(t.shape, inputDims(sig, 1), name);
  if (dims[0] > maxItems)
    throw new ServingError('PAYLOAD_TOO_LARGE', `${dims[0]} items, over the limit of ${maxItems}`);
  const count = dims.reduce((a, b) => a * b, 1);
  if (t.datatype === 'FP32') {
    const values = numbersOf(t.data, count, name, FINITE);
    const input = Float32Array.from(values);
    const rows =
      sig.input.kind === 'tensor'
        ? Array.from({ length: dims[0] }, (_, r) => values.slice(r * dims[1], (r + 1) * dims[1]))
        : undefined;
    return { kind: 'fp32', input, dims, rows };
  }
  if (t.datatype === 'UINT8' && sig.input.kind === 'image') {
    const image = sig.input;
    const bytes = Uint8Array.from(numbersOf(t.data, count, name, BYTE));
    return {
      kind: 'pixels',
      images: Array.from({ length: dims[0] }, (_, i) => ({
        rgb: Buffer.from(layoutBytesToRgb(bytes, image, i)),
        width: image.width,
        height: image.height,
      })),
    };
  }
  throw new ServingError(
    'WRONG_TENSOR',
    `datatype ${JSON.stringify(t.datatype)} is not accepted for "${name}" (use ${sig.input.kind === 'image' ? 'FP32, UINT8 or BYTES' : 'FP32'})`,
  );
}

export function parseInferRequest(body: unknown, sig: Signature, maxItems: number): InferRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new ServingError('INVALID_INPUT', 'infer request must be a JSON object');
  const req = body as { id?: unknown; inputs?: unknown; outputs?: unknown };
  if (!Array.isArray(req.inputs) || req.inputs.length !== 1)
    throw new ServingError('INVALID_INPUT', 'infer request needs exactly one entry in "inputs"');
  const t = req.inputs[0] as OipTensor;
  if (typeof t !== 'object' || t === null) throw new ServingError('INVALID_INPUT', 'inputs[0] must be an object');
  const name = typeof t.name === 'string' ? t.name : '';
  const outputs = parseOutputs(req.outputs, sig);
  const id = typeof req.id === 'string' ? req.id : undefined;
  const plan = t.datatype === 'BYTES' ? encodedImagesPlan(t, name, sig, maxItems) : tensorPlan(t, name, sig, maxItems);
  return { id, outputs, plan };
}

function parseOutputs(outputs: unknown, sig: Signature): string[] | undefined {
  if (outputs === undefined) return undefined;
  if (!Array.isArray(outputs)) throw new ServingError('INVALID_INPUT', '"outputs" must be an array of {"name": ...}');
  return outputs.map((o) => {
    const name = (o as { name?: unknown })?.name;
    if (typeof name !== 'string' || !sig.heads.some((h) => h.tensor === name)) {
      throw new ServingError(
        'INVALID_INPUT',
        `unknown output ${JSON.stringify(name)}; outputs: ${sig.heads.map((h) => h.tensor).join(', ')}`,
      );
    }
    return name;
  });
}

/** The model a server answers for, under the name and version it serves it as. */
export interface ServedModel {
  signature: Signature;
  name: string;
  version: string;
}

export function inferResponse(
  served: ServedModel,
  req: InferRequest,
  raw: Record<string, RawOutput>,
  predictionIds: string[],
) {
  const wanted = req.outputs ?? served.signature.heads.map((h) => h.tensor);
  return {
    model_name: served.name,
    model_version: served.version,
    ...(req.id !== undefined ? { id: req.id } : {}),
    parameters: { prediction_ids: predictionIds },
    outputs: wanted.map((name) => ({
      name,
      datatype: 'FP32',
      shape: [...raw[name].dims],
      data: Array.from(raw[name].data),
    })),
  };
}

export function modelMetadata(served: ServedModel) {
  const sig = served.signature;
  const input = sig.input;
  return {
    name: served.name,
    versions: [served.version],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: input.tensor, datatype: 'FP32', shape: inputDims(sig, -1) }],
    outputs: sig.heads.map((h) => ({
      name: h.tensor,
      datatype: 'FP32',
      shape: [-1, h.type === 'binary' && h.activation !== 'softmax' ? -1 : h.labels.length],
    })),
    parameters: {
      heads: sig.heads.map((h) => ({
        name: h.name,
        tensor: h.tensor,
        type: h.type,
        labels: h.labels,
        activation: h.activation,
      })),
      input_kind: input.kind,
    },
  };
}
