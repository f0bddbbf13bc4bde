// Pixel bytes → the model's input tensor: pixel = ((byte * scale) - mean[c]) / std[c],
// channels RGB (or luma for 1-channel models), NCHW or NHWC. Pure functions.
import type { ImageInput } from '../model/schema.js';

/** Per-channel affine form of the normalisation: value = byte * a[c] + b[c]. */
function affine(input: ImageInput): { a: number[]; b: number[] } {
  const a: number[] = [],
    b: number[] = [];
  for (let c = 0; c < input.channels; c++) {
    a.push(input.scale / input.std[c]);
    b.push(-input.mean[c] / input.std[c]);
  }
  return { a, b };
}

/**
 * The largest float32 magnitude: a JSON number above it is finite as a double but Infinity once
 * in the model's Float32Array, and a model given Infinity answers NaN.
 */
export const FLOAT32_MAX = 3.4028234663852886e38;

/** A number a float32 input tensor can hold as it is. */
export const isFloat32 = (v: number): boolean => Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX;

export function imageTensorSize(input: ImageInput): number {
  return input.width * input.height * input.channels;
}

/** Writes one model-sized interleaved RGB image into `out` at item index `item`. */
export function writeImageTensor(rgb: Uint8Array, input: ImageInput, out: Float32Array, item: number): void {
  const { a, b } = affine(input);
  const plane = input.width * input.height;
  const base = item * plane * input.channels;
  if (input.channels === 1) {
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      const l = rgb[p] * 0.299 + rgb[p + 1] * 0.587 + rgb[p + 2] * 0.114;
      out[base + i] = l * a[0] + b[0];
    }
    return;
  }
  const [a0, a1, a2] = a;
  const [b0, b1, b2] = b;
  if (input.layout === 'NCHW') {
    for (let i = 0, p = 0; i < plane; i++, p += 3) {
      out[base + i] = rgb[p] * a0 + b0;
      out[base + plane + i] = rgb[p + 1] * a1 + b1;
      out[base + 2 * plane + i] = rgb[p + 2] * a2 + b2;
    }
  } else {
    for (let i = 0, p = base; i < plane * 3; i += 3, p += 3) {
      out[p] = rgb[i] * a0 + b0;
      out[p + 1] = rgb[i + 1] * a1 + b1;
      out[p + 2] = rgb[i + 2] * a2 + b2;
    }
  }
}

/**
 * Raw 8-bit pixels given in the model's own layout (the OIP UINT8 input) → interleaved RGB,
 * so they take the same normalisation and feature path as a decoded upload.
 */
export function layoutBytesToRgb(bytes: Uint8Array, input: ImageInput, item: number): Uint8Array {
  const plane = input.width * input.height;
  const c = input.channels;
  const base = item * plane * c;
  const rgb = new Uint8Array(plane * 3);
  for (let i = 0; i < plane; i++) {
    for (let k = 0; k < 3; k++) {
      const ch = c === 1 ? 0 : k;
      rgb[i * 3 + k] = input.layout === 'NCHW' ? bytes[base + ch * plane + i] : bytes[base + i * c + ch];
    }
  }
  return rgb;
}
