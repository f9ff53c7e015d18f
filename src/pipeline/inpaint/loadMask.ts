// An uploaded mask file -> MaskImage at the init image's size. Any format sharp reads as an init image; white
// repaints, black keeps. A PNG (or WebP...) with real transparency is read by its alpha instead: opaque = repaint,
// transparent = keep, as when the mask is painted as strokes on an empty layer. Same safety rules as init images:
// the header's pixel count is checked before decoding, only the first frame is read.
import sharp, { type Metadata } from 'sharp';
import { InitImageError } from '../initImage.ts';
import type { MaskImage } from '../types.ts';

export interface LoadMaskOptions {
  width: number;
  height: number;
  limitInputPixels: number;
}

export async function loadMask(bytes: Uint8Array, opts: LoadMaskOptions): Promise<{ mask: MaskImage; notes: string[] }> {
  if (bytes.length === 0) throw new InitImageError('The mask file is empty.');
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = { limitInputPixels: opts.limitInputPixels, pages: 1, page: 0, failOn: 'truncated' as const };
  let meta: Metadata;
  try {
    meta = await sharp(input, { ...read, limitInputPixels: false }).metadata();
  } catch {
    throw new InitImageError('The mask is not an image I can read. Please attach a PNG, JPEG, WebP or GIF.');
  }
  if (!meta.format || meta.format === 'svg') throw new InitImageError('The mask must be a PNG, JPEG, WebP or GIF image.');
  const w = meta.width ?? 0;
  const h = meta.pageHeight ?? meta.height ?? 0;
  if (w <= 0 || h <= 0) throw new InitImageError('The mask has no pixels.');
  if (w * h > opts.limitInputPixels) throw new InitImageError(`The mask is too large (${w}x${h}).`);
  const notes: string[] = [];
  try {
    // Decode once as RGBA (upright, first frame): alpha when it holds real transparency, else the grey level.
    const { data: rgba, info } = await sharp(input, read).rotate().ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    const pixels = info.width * info.height;
    const plane = new Uint8Array(pixels);
    let transparent = false;
    if (meta.hasAlpha) for (let i = 0; i < pixels && !transparent; i++) transparent = rgba[i * 4 + 3] !== 255;
    for (let i = 0; i < pixels; i++) {
      const j = i * 4;
      // Rec. 601 luma, as PIL's convert("L") that diffusers' mask processor applies.
      plane[i] = transparent ? rgba[j + 3]! : Math.round((rgba[j]! * 299 + rgba[j + 1]! * 587 + rgba[j + 2]! * 114) / 1000);
    }
    if (transparent) notes.push('the mask is transparent: its opaque part marks what to repaint');
    const { data } = await sharp(plane, { raw: { width: info.width, height: info.height, channels: 1 } })
      .resize(opts.width, opts.height, { fit: 'fill', kernel: 'lanczos3' })
      .extractChannel(0)
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (data.length !== opts.width * opts.height) throw new Error(`mask decoded to ${data.length} bytes`);
    if (info.width !== opts.width || info.height !== opts.height) notes.push(`the mask was resized from ${info.width}x${info.height} to the image's ${opts.width}x${opts.height}`);
    return { mask: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: opts.width, height: opts.height }, notes };
  } catch (err) {
    if (err instanceof InitImageError) throw err;
    throw new InitImageError('The mask could not be decoded: the file looks corrupt or truncated.', { cause: err });
  }
}
