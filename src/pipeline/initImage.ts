// Turn an uploaded file into an img2img init image: decode (PNG, JPEG, WebP, GIF, AVIF/HEIF, TIFF), apply the EXIF
// orientation, flatten transparency onto WHITE, and resize/crop to the generation size.
//
// Why white: most images with transparency that people upload (logos, stickers, cut-outs, screenshots) were drawn for
// light backgrounds, and PIL/A1111 also show transparent pixels as white in their previews; flattening onto black
// would turn the transparent area into a dark blob that img2img then keeps.
//
// Safety: the pixel count in the header is checked against `limitInputPixels` before anything is decoded (a tiny file
// can claim 30000x30000), sharp gets the same limit, and only the first frame of animations is ever decoded. SVG is
// refused: it is a document, not a photo, and rendering untrusted XML is needless risk.
import sharp, { type Metadata, type SharpOptions } from 'sharp';
import type { RgbImage } from './types.ts';

export class InitImageError extends Error {
  override name = 'InitImageError';
  /** The message is written for the person who uploaded the file. */
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface InitImageOptions {
  /** Exact output size; when only one is given the other follows the aspect ratio. */
  width?: number;
  height?: number;
  /** Pixel budget for sizes derived from the image (width * height never exceeds it). */
  maxPixels: number;
  /** Derived sizes are multiples of this (64 keeps every SD latent size even through the UNet). */
  multiple?: number;
  /** Refuse files whose header claims more pixels than this (decompression bombs). */
  limitInputPixels: number;
  /** Background for transparent pixels; white by default (see above). */
  background?: { r: number; g: number; b: number };
}

export interface LoadedInitImage {
  image: RgbImage;
  /** What was done to the upload, in words a user understands (e.g. "used the first of 12 frames"). */
  notes: string[];
  source: { format: string; width: number; height: number; frames: number };
}

const ACCEPTED_FORMATS = new Set(['png', 'jpeg', 'webp', 'gif', 'heif', 'tiff']);
const FORMAT_LIST = 'PNG, JPEG, WebP or GIF';

function describeFormat(format: string): string {
  return format === 'heif' ? 'HEIF/AVIF' : format.toUpperCase();
}

/** Round down to a multiple, but never below one multiple. */
function floorTo(value: number, multiple: number): number {
  return Math.max(multiple, Math.floor(value / multiple) * multiple);
}

/**
 * The generation size for an image of w x h: the requested size, or the aspect ratio scaled to the pixel budget
 * (up or down: SD works at its native resolution whatever the upload's size), in multiples of `multiple`.
 */
export function targetSize(w: number, h: number, opts: Pick<InitImageOptions, 'width' | 'height' | 'maxPixels' | 'multiple'>): { width: number; height: number } {
  const m = opts.multiple ?? 64;
  if (opts.width && opts.height) return { width: opts.width, height: opts.height };
  if (opts.width) return { width: opts.width, height: Math.min(floorTo((opts.width * h) / w, m), floorTo(opts.maxPixels / opts.width, m)) };
  if (opts.height) return { width: Math.min(floorTo((opts.height * w) / h, m), floorTo(opts.maxPixels / opts.height, m)), height: opts.height };
  if (opts.maxPixels < m * m) throw new Error(`maxPixels ${opts.maxPixels} is smaller than one ${m}x${m} block`);
  const scale = Math.sqrt(opts.maxPixels / (w * h));
  let width = floorTo(w * scale, m);
  let height = floorTo(h * scale, m);
  // Extreme aspect ratios: the short side was raised to one multiple, so shrink the long side back into the budget.
  if (width * height > opts.maxPixels) {
    if (width === m) height = floorTo(opts.maxPixels / m, m);
    else width = floorTo(opts.maxPixels / m, m);
  }
  return { width, height };
}

function checkSize(n: number | undefined, what: string): void {
  if (n !== undefined && (!Number.isInteger(n) || n <= 0)) throw new Error(`init image ${what} must be a positive integer, got ${n}`);
}

function decodeError(err: unknown): InitImageError {
  const message = err instanceof Error ? err.message : String(err);
  if (/unsupported image format/i.test(message)) return new InitImageError(`That file is not an image I can read. Please attach a ${FORMAT_LIST} image.`, { cause: err });
  if (/pixel limit/i.test(message)) return new InitImageError('That image is too large to process.', { cause: err });
  return new InitImageError('That image could not be decoded: the file looks corrupt or truncated.', { cause: err });
}

export async function loadInitImage(bytes: Uint8Array, opts: InitImageOptions): Promise<LoadedInitImage> {
  checkSize(opts.width, 'width');
  checkSize(opts.height, 'height');
  if (bytes.length === 0) throw new InitImageError('The attached file is empty.');
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // pages: 1 -> only the first frame of an animation is decoded; failOn 'truncated' -> truncated files are errors, while the
  // harmless libjpeg warnings many camera files trigger ("extraneous bytes before marker") are not.
  const readOptions: SharpOptions = { limitInputPixels: opts.limitInputPixels, pages: 1, page: 0, failOn: 'truncated' };

  let meta: Metadata;
  try {
    // Header only, nothing decoded: safe without the pixel limit, and it lets the size check below name the size.
    meta = await sharp(input, { ...readOptions, limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeError(err);
  }
  if (!meta.format || !ACCEPTED_FORMATS.has(meta.format)) {
    throw new InitImageError(`${meta.format ? `${describeFormat(meta.format)} files are` : 'That file is'} not supported as an init image. Please attach a ${FORMAT_LIST} image.`);
  }
  const srcWidth = meta.width ?? 0;
  const srcHeight = meta.pageHeight ?? meta.height ?? 0;
  if (srcWidth <= 0 || srcHeight <= 0) throw new InitImageError('That image has no pixels.');
  if (srcWidth * srcHeight > opts.limitInputPixels) {
    throw new InitImageError(`That image is too large (${srcWidth}x${srcHeight}); images up to ${Math.floor(opts.limitInputPixels / 1e6)} megapixels are accepted.`);
  }

  const notes: string[] = [];
  const frames = meta.pages ?? 1;
  if (frames > 1) notes.push(`the ${describeFormat(meta.format)} is animated: used the first of its ${frames} frames`);
  // EXIF orientations 5-8 rotate by 90 degrees, swapping the displayed width and height.
  const orientation = meta.orientation ?? 1;
  const swapped = orientation >= 5 && orientation <= 8;
  if (orientation !== 1) notes.push('rotated as the camera recorded (EXIF orientation)');
  const shownWidth = swapped ? srcHeight : srcWidth;
  const shownHeight = swapped ? srcWidth : srcHeight;
  if (meta.hasAlpha) notes.push('transparent areas were filled with white');

  const { width, height } = targetSize(shownWidth, shownHeight, opts);
  if (width !== shownWidth || height !== shownHeight) {
    const cropped = Math.abs(width / height - shownWidth / shownHeight) > 0.01;
    notes.push(`resized from ${shownWidth}x${shownHeight} to ${width}x${height}${cropped ? ' (centre-cropped to fit)' : ''}`);
  }

  try {
    const { data, info } = await sharp(input, readOptions)
      .rotate()
      .flatten({ background: opts.background ?? { r: 255, g: 255, b: 255 } })
      .resize(width, height, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || info.width !== width || info.height !== height) {
      throw new Error(`decoder produced ${info.width}x${info.height}x${info.channels}, expected ${width}x${height}x3`);
    }
    return {
      image: { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height },
      notes,
      source: { format: meta.format, width: shownWidth, height: shownHeight, frames },
    };
  } catch (err) {
    throw decodeError(err);
  }
}
