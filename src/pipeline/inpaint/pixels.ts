// Small pixel operations the mask tools need: cut a rectangle out of an image or mask (pure), and resize either with
// sharp (Lanczos, as PIL's default resample in diffusers' image processors).
import sharp from 'sharp';
import type { MaskImage, RgbImage } from '../types.ts';
import type { CropBox } from './crop.ts';

interface Planes {
  data: Uint8Array;
  width: number;
  height: number;
}

function cut<T extends Planes>(image: T, box: CropBox, channels: number): T {
  const w = box.x2 - box.x1;
  const h = box.y2 - box.y1;
  const out = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    const from = ((box.y1 + y) * image.width + box.x1) * channels;
    out.set(image.data.subarray(from, from + w * channels), y * w * channels);
  }
  return { ...image, data: out, width: w, height: h };
}

export const cropRgb = (image: RgbImage, box: CropBox): RgbImage => cut(image, box, 3);
export const cropMask = (mask: MaskImage, box: CropBox): MaskImage => cut(mask, box, 1);

async function resize(image: Planes, channels: 1 | 3, width: number, height: number): Promise<Uint8Array> {
  if (image.width === width && image.height === height) return image.data.slice();
  let resized = sharp(image.data, { raw: { width: image.width, height: image.height, channels } }).resize(width, height, { fit: 'fill', kernel: 'lanczos3' });
  // sharp hands back sRGB for a single-channel raw input unless told to keep one band.
  if (channels === 1) resized = resized.extractChannel(0);
  const { data, info } = await resized
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`resize produced ${info.channels} channels, expected ${channels}`);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export async function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  return { data: await resize(image, 3, width, height), width, height };
}

export async function resizeMask(mask: MaskImage, width: number, height: number): Promise<MaskImage> {
  return { data: await resize(mask, 1, width, height), width, height };
}

/** Paste `part` into a copy of `base` with its top-left corner at (x, y). */
export function pasteRgb(base: RgbImage, part: RgbImage, x: number, y: number): RgbImage {
  const out = base.data.slice();
  for (let row = 0; row < part.height; row++) {
    const from = row * part.width * 3;
    out.set(part.data.subarray(from, from + part.width * 3), ((y + row) * base.width + x) * 3);
  }
  return { data: out, width: base.width, height: base.height };
}
