// Image size from the first bytes of a JPEG or PNG, in JavaScript. The size check before
// decoding (decompression bombs) used to ask sharp for the metadata: a whole libvips
// round-trip (a libuv pool thread and back, ~250 µs CPU and on a busy machine a few ms of
// waiting for each thread to be scheduled) just to read 8 bytes. JPEG and PNG are most
// uploads; anything this parser does not recognise returns undefined and the caller asks
// sharp as before, so unusual files are classified exactly as they were. Pure function.

export interface ImageHeader {
  format: 'jpeg' | 'png';
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Start-of-frame markers (baseline, progressive, lossless, arithmetic): they carry the size. */
const JPEG_SOF = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** JPEG and PNG width/height as libvips reports them (stored size, before any EXIF rotation). */
export function readImageHeader(bytes: Uint8Array): ImageHeader | undefined {
  return readPngHeader(bytes) ?? readJpegHeader(bytes);
}

function u16(b: Uint8Array, at: number): number {
  return (b[at] << 8) | b[at + 1];
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]);
}

function readPngHeader(b: Uint8Array): ImageHeader | undefined {
  // signature, then the IHDR chunk: length (4), "IHDR", width (4), height (4)
  if (b.length < 24 || PNG_SIGNATURE.some((v, i) => b[i] !== v)) return undefined;
  if (b[12] !== 0x49 || b[13] !== 0x48 || b[14] !== 0x44 || b[15] !== 0x52) return undefined;
  const width = u32(b, 16),
    height = u32(b, 20);
  return width > 0 && height > 0 ? { format: 'png', width, height } : undefined;
}

function readJpegHeader(b: Uint8Array): ImageHeader | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8 || b[2] !== 0xff) return undefined;
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return undefined; // not at a marker: leave it to libvips
    const marker = b[at + 1];
    if (marker === 0xff) {
      at++;
      continue;
    } // fill byte
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    } // no length
    if (marker === 0xd9 || marker === 0xda) return undefined; // image data before any frame header
    const length = u16(b, at + 2);
    if (length < 2) return undefined;
    if (JPEG_SOF.has(marker)) {
      if (at + 9 > b.length) return undefined;
      const height = u16(b, at + 5),
        width = u16(b, at + 7);
      // height 0 means "defined later by a DNL marker": libvips knows how to handle it
      return width > 0 && height > 0 ? { format: 'jpeg', width, height } : undefined;
    }
    at += 2 + length;
  }
  return undefined;
}
