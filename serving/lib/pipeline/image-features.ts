// Input features for drift monitoring, computed from pixels that are already decoded and
// resized for the model: no second decode, and a cost of one pass over a model-sized image.
// Pure functions; the same code runs in `serve` (live counters) and `validate` (profile).

/** Image feature names, in the order imageFeatures() returns them. */
export const IMAGE_FEATURES = [
  'brightness', // mean luma, 0..1
  'contrast', // standard deviation of luma, 0..1
  'saturation', // mean HSV saturation (max-min)/max, 0..1
  'mean_r', // channel means, 0..1
  'mean_g',
  'mean_b',
  'sharpness', // variance of the 4-neighbour Laplacian of luma (0..1 scale) on the model-sized image
  'width', // original image size in pixels, before resizing
  'height',
  'aspect', // width / height of the original image
] as const;

/** Interleaved 8-bit RGB, width*height*3 bytes. */
export interface RgbPixels {
  rgb: Uint8Array;
  width: number;
  height: number;
}

/**
 * pixels: the model-sized image; original: the upload's size before resizing. Returns values in
 * IMAGE_FEATURES order.
 */
export function imageFeatures(pixels: RgbPixels, original: { width: number; height: number }): number[] {
  const { rgb, width: w, height: h } = pixels;
  const { width: origWidth, height: origHeight } = original;
  const n = w * h;
  const luma = new Float32Array(n);
  let sumR = 0,
    sumG = 0,
    sumB = 0,
    sumL = 0,
    sumL2 = 0,
    sumSat = 0;
  for (let i = 0, p = 0; i < n; i++, p += 3) {
    const r = rgb[p],
      g = rgb[p + 1],
      b = rgb[p + 2];
    sumR += r;
    sumG += g;
    sumB += b;
    // ITU-R 601 luma, the weights PIL's convert('L') uses, scaled to 0..1.
    const l = (r * 0.299 + g * 0.587 + b * 0.114) / 255;
    luma[i] = l;
    sumL += l;
    sumL2 += l * l;
    const max = r > g ? (r > b ? r : b) : g > b ? g : b;
    const min = r < g ? (r < b ? r : b) : g < b ? g : b;
    if (max > 0) sumSat += (max - min) / max;
  }
  const brightness = sumL / n;
  const contrast = Math.sqrt(Math.max(0, sumL2 / n - brightness * brightness));
  return [
    brightness,
    contrast,
    sumSat / n,
    sumR / n / 255,
    sumG / n / 255,
    sumB / n / 255,
    laplacianVariance(luma, w, h),
    origWidth,
    origHeight,
    origHeight > 0 ? origWidth / origHeight : 0,
  ];
}

/** Variance of the 4-neighbour Laplacian over interior pixels; 0 for images under 3x3. */
export function laplacianVariance(luma: Float32Array, w: number, h: number): number {
  if (w < 3 || h < 3) return 0;
  let sum = 0,
    sum2 = 0,
    count = 0;
  for (let y = 1; y < h - 1; y++) {
    const row = y * w;
    for (let x = 1; x < w - 1; x++) {
      const i = row + x;
      const lap = luma[i - 1] + luma[i + 1] + luma[i - w] + luma[i + w] - 4 * luma[i];
      sum += lap;
      sum2 += lap * lap;
      count++;
    }
  }
  const mean = sum / count;
  return Math.max(0, sum2 / count - mean * mean);
}
