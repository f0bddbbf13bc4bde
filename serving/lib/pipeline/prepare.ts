// The one pre-processing path: `serve` (/predict and OIP infer) and `validate` both call
// these functions, so the profile and the serving-path accuracy measure exactly what
// production does.
import { ServingError } from '../errors.js';
import { IMAGE_FEATURES, imageFeatures } from './image-features.js';
import { decodeForModel, type DecodedImage } from './image-decode.js';
import type { ImageInput, Signature, TensorInput } from '../model/schema.js';
import { imageTensorSize, isFloat32, writeImageTensor } from './tensor.js';

export interface PreparedBatch {
  input: Float32Array;
  dims: number[];
  /** per item, values in featureNames(signature) order */
  features: number[][];
}

export function featureNames(sig: Signature): readonly string[] {
  return sig.input.kind === 'image' ? IMAGE_FEATURES : sig.input.features;
}

export function inputDims(sig: Signature, n: number): number[] {
  const input = sig.input;
  if (input.kind === 'tensor') return [n, input.features.length];
  return input.layout === 'NCHW'
    ? [n, input.channels, input.height, input.width]
    : [n, input.height, input.width, input.channels];
}

/** Model-sized RGB images → input tensor + features. */
export function prepareDecoded(input: ImageInput, images: DecodedImage[]): PreparedBatch {
  const size = imageTensorSize(input);
  const tensor = new Float32Array(size * images.length);
  const features = images.map((img, i) => {
    writeImageTensor(img.rgb, input, tensor, i);
    return imageFeatures({ rgb: img.rgb, width: input.width, height: input.height }, img);
  });
  const dims =
    input.layout === 'NCHW'
      ? [images.length, input.channels, input.height, input.width]
      : [images.length, input.height, input.width, input.channels];
  return { input: tensor, dims, features };
}

/** Encoded images (decoded once each, concurrently) → input tensor + features. */
export async function prepareImages(input: ImageInput, images: Buffer[], maxPixels: number): Promise<PreparedBatch> {
  const decoded = await Promise.all(images.map((bytes) => decodeForModel(bytes, input, maxPixels)));
  return prepareDecoded(input, decoded);
}

/** Feature rows → input tensor; the features are the rows themselves. */
export function prepareRows(input: TensorInput, rows: unknown[]): PreparedBatch {
  const width = input.features.length;
  const tensor = new Float32Array(rows.length * width);
  const features = rows.map((row, r) => {
    if (!Array.isArray(row) || row.length !== width) {
      throw new ServingError(
        'WRONG_TENSOR',
        `row ${r} must be an array of ${width} numbers (${input.features.join(', ')})`,
      );
    }
    return row.map((v, c) => {
      if (typeof v !== 'number' || !isFloat32(v)) {
        throw new ServingError(
          'WRONG_TENSOR',
          `row ${r} feature "${input.features[c]}" must be a finite float32 number (|x| ≤ 3.4e38)`,
        );
      }
      tensor[r * width + c] = v;
      return v;
    });
  });
  return { input: tensor, dims: [rows.length, width], features };
}
