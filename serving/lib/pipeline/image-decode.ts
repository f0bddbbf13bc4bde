// Encoded image bytes → model-sized RGB pixels, decoded exactly once. The header is read
// first (cheap: JPEG/PNG in JavaScript, other formats by sharp) so that a decompression bomb
// is refused before any pixel is decoded; limitInputPixels is kept as a second guard inside
// libvips.
import sharp, { type Metadata } from 'sharp';
import { ServingError } from '../errors.js';
import { readImageHeader } from './image-header.js';
import type { ImageInput, ResizeMode } from '../model/schema.js';

/** Formats a client may send. SVG/PDF and friends are excluded: they render, not decode. */
export const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif']);

export interface DecodedImage {
  /** interleaved 8-bit RGB at the model's width × height */
  rgb: Buffer;
  /** size of the upload before resizing */
  width: number;
  height: number;
}

const fitOf: Record<ResizeMode, 'fill' | 'cover' | 'contain'> = { fill: 'fill', cover: 'cover', contain: 'contain' };

/** Format and stored size from the header: JPEG/PNG parsed here, anything else by sharp. */
async function readHeader(bytes: Buffer): Promise<{ format: string | undefined; width: number; height: number }> {
  const quick = readImageHeader(bytes);
  if (quick) return quick;
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false, failOn: 'none' }).metadata();
  } catch (err) {
    throw new ServingError('CORRUPT_IMAGE', 'image cannot be decoded (not a supported image format)', { cause: err });
  }
  return { format: meta.format, width: meta.width ?? 0, height: meta.height ?? 0 };
}

export async function decodeForModel(bytes: Buffer, input: ImageInput, maxPixels: number): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ServingError('CORRUPT_IMAGE', 'image is empty');
  const { format, width, height } = await readHeader(bytes);
  if (!format || !ACCEPTED_FORMATS.has(format)) {
    throw new ServingError(
      'UNSUPPORTED_MEDIA_TYPE',
      `image format "${format}" is not accepted (use ${[...ACCEPTED_FORMATS].join(', ')})`,
    );
  }
  if (width <= 0 || height <= 0) throw new ServingError('CORRUPT_IMAGE', 'image has no size');
  if (width * height > maxPixels) {
    throw new ServingError(
      'TOO_MANY_PIXELS',
      `image is ${width}x${height} = ${width * height} pixels, over the limit of ${maxPixels}`,
    );
  }
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' })
      .removeAlpha()
      .toColourspace('srgb')
      .resize(input.width, input.height, { fit: fitOf[input.resize], background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== input.width || info.height !== input.height) {
      throw new Error(`decoder returned ${info.width}x${info.height}x${info.channels}`);
    }
    return { rgb: data, width, height };
  } catch (err) {
    throw new ServingError('CORRUPT_IMAGE', `image cannot be decoded: ${(err as Error).message}`, { cause: err });
  }
}
