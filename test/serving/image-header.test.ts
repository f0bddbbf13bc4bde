// The JavaScript JPEG/PNG header reader must report what libvips reports (format, stored
// width/height) for every file it claims, and step aside (undefined) for what it does not
// understand, so that decodeForModel classifies uploads exactly as when sharp read headers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import sharp, { type Sharp } from 'sharp';
import { decodeForModel } from '../../serving/lib/pipeline/image-decode.js';
import { readImageHeader } from '../../serving/lib/pipeline/image-header.js';
import type { ImageInput } from '../../serving/lib/model/schema.js';

function noise(width: number, height: number, channels: 1 | 3 | 4): Sharp {
  const raw = Buffer.alloc(width * height * channels);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7919 + (i >> 7) * 31) % 251;
  return sharp(raw, { raw: { width, height, channels } });
}

const claimed: Array<[string, () => Promise<Buffer>]> = [
  ['baseline JPEG 256x256', () => noise(256, 256, 3).jpeg().toBuffer()],
  ['progressive JPEG 33x17', () => noise(33, 17, 3).jpeg({ progressive: true }).toBuffer()],
  ['greyscale JPEG 1x1', () => noise(1, 1, 1).jpeg().toBuffer()],
  [
    'JPEG 640x480 with EXIF orientation 6 and an ICC profile before the frame header',
    () => noise(640, 480, 3).jpeg().withMetadata({ orientation: 6 }).toBuffer(),
  ],
  ['mozjpeg (progressive, trellis) JPEG 1000x7', () => noise(1000, 7, 3).jpeg({ mozjpeg: true }).toBuffer()],
  ['CMYK JPEG 20x30', () => noise(20, 30, 3).toColourspace('cmyk').jpeg().toBuffer()],
  ['PNG RGB 300x200', () => noise(300, 200, 3).png().toBuffer()],
  ['PNG RGBA 7x9', () => noise(7, 9, 4).png().toBuffer()],
  ['PNG greyscale 64x1', () => noise(64, 1, 1).png().toBuffer()],
  ['palette PNG 50x40', () => noise(50, 40, 3).png({ palette: true }).toBuffer()],
];

for (const [name, make] of claimed) {
  test(`header of a ${name} equals sharp's metadata`, async () => {
    const bytes = await make();
    const meta = await sharp(bytes).metadata();
    const header = readImageHeader(bytes);
    assert.ok(header, 'recognised');
    assert.equal(header, { format: meta.format, width: meta.width, height: meta.height });
  });
}

const declined: Array<[string, () => Promise<Buffer> | Buffer]> = [
  ['WebP (sharp reads it)', () => noise(10, 10, 3).webp().toBuffer()],
  ['GIF (sharp reads it)', () => noise(10, 10, 3).gif().toBuffer()],
  ['empty input', () => Buffer.alloc(0)],
  ['text', () => Buffer.from('hello, this is not an image at all')],
  ['JPEG start of image only', () => Buffer.from([0xff, 0xd8, 0xff])],
  ['JPEG cut inside the first segment', async () => (await noise(20, 20, 3).jpeg().toBuffer()).subarray(0, 12)],
  [
    'JPEG with scan data before any frame header',
    () => Buffer.from([0xff, 0xd8, 0xff, 0xda, 0x00, 0x08, 1, 2, 3, 4, 5, 6]),
  ],
  [
    'JPEG with a zero-height frame (DNL)',
    () => Buffer.from([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 8, 0x00, 0x00, 0x00, 0x10, 1, 1, 0x11, 0]),
  ],
  [
    'PNG signature with no IHDR',
    () =>
      Buffer.from([
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x44, 0x41, 0x54, 0, 0, 0, 1, 0, 0, 0, 1,
      ]),
  ],
  [
    'PNG with a zero width',
    () =>
      Buffer.from([
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 0, 0, 0, 0, 1,
      ]),
  ],
];

for (const [name, make] of declined) {
  test(`header reader steps aside for ${name}`, async () => {
    assert.is(readImageHeader(await make()), undefined);
  });
}

test('a PNG header claiming 100000 x 100000 pixels is read without decoding anything', () => {
  const bomb = Buffer.from([
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 1, 0x86, 0xa0, 0, 1, 0x86,
    0xa0, 8, 2, 0, 0, 0,
  ]);
  assert.equal(readImageHeader(bomb), { format: 'png', width: 100_000, height: 100_000 });
});

const input: ImageInput = {
  kind: 'image',
  tensor: 'image',
  width: 16,
  height: 16,
  channels: 3,
  layout: 'NCHW',
  dtype: 'float32',
  scale: 1 / 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  resize: 'cover',
};

test('decodeForModel gives the same pixels and upload size as a direct sharp pipeline', async () => {
  for (const bytes of [await noise(120, 80, 3).jpeg().toBuffer(), await noise(45, 90, 4).png().toBuffer()]) {
    const decoded = await decodeForModel(bytes, input, 1_000_000);
    const meta = await sharp(bytes).metadata();
    const direct = await sharp(bytes)
      .removeAlpha()
      .toColourspace('srgb')
      .resize(16, 16, { fit: 'cover', background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer();
    assert.equal([decoded.width, decoded.height], [meta.width, meta.height]);
    assert.ok(decoded.rgb.equals(direct), 'identical pixels');
  }
});

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

test('decodeForModel refuses a JPEG over the pixel limit from its header, and a truncated JPEG as corrupt', async () => {
  const jpeg = await noise(200, 100, 3).jpeg().toBuffer();
  assert.is(await codeOf(decodeForModel(jpeg, input, 200 * 100 - 1)), 'TOO_MANY_PIXELS');
  assert.is(await codeOf(decodeForModel(jpeg, input, 200 * 100)), undefined);
  assert.is(await codeOf(decodeForModel(jpeg.subarray(0, jpeg.length / 2), input, 1_000_000)), 'CORRUPT_IMAGE');
});

test.run();
