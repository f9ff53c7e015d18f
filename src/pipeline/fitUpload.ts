// Make a PNG fit an upload limit (Discord's per-guild attachment_size_limit): first a lossless re-encode at maximum
// compression, then Lanczos downscales, each step sized from how far over the limit the last try was. The text
// chunks (parameters, Software, XMP) are carried over to every attempt, so what is posted still says how it was made.
import sharp from 'sharp';
import { insertTextChunks, readPngText, textChunk } from './png.ts';

export class FitUploadError extends Error {
  override name = 'FitUploadError';
}

export interface FitUploadOptions {
  /** Give up below this length of the shorter side. */
  minSide?: number;
  /** Bound on downscale attempts (each is a full PNG encode). */
  maxAttempts?: number;
}

export interface FitUploadResult {
  bytes: Buffer;
  width: number;
  height: number;
  /** False when the original bytes already fit (they are returned untouched). */
  changed: boolean;
  /** True when the image had to be made smaller. */
  downscaled: boolean;
}

function formatMegabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${Number.isInteger(mb) ? mb : mb.toFixed(1)} MB`;
}

export async function fitUpload(png: Uint8Array, limitBytes: number, options: FitUploadOptions = {}): Promise<FitUploadResult> {
  const meta = await sharp(png).metadata();
  if (meta.format !== 'png' || !meta.width || !meta.height) throw new FitUploadError('fitUpload expects a PNG');
  const { width, height } = meta;
  if (png.length <= limitBytes) return { bytes: Buffer.from(png), width, height, changed: false, downscaled: false };

  // Re-create the text chunks with the same chunk type they had (XMP stays iTXt, Latin-1 text stays tEXt).
  const text = readPngText(png).map((c) => textChunk(c.keyword, c.text, c.type === 'iTXt'));
  const encode = async (w: number, h: number): Promise<Buffer> => {
    let pipeline = sharp(png);
    if (w !== width || h !== height) pipeline = pipeline.resize(w, h, { fit: 'fill', kernel: 'lanczos3' });
    // No effort/quality/colours here: in sharp any of them switches PNG output to a lossy palette.
    const out = await pipeline.png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer();
    return insertTextChunks(out, text);
  };

  let bytes = await encode(width, height);
  if (bytes.length <= limitBytes) return { bytes, width, height, changed: true, downscaled: false };

  const minSide = options.minSide ?? 64;
  const maxAttempts = options.maxAttempts ?? 8;
  let scale = 1;
  for (let attempt = 0; attempt < maxAttempts; attempt++) {
    // PNG size grows roughly with pixel count: aim a little under the limit, and always shrink at least 10%.
    scale *= Math.min(0.9, Math.sqrt(limitBytes / bytes.length) * 0.95);
    const w = Math.round(width * scale);
    const h = Math.round(height * scale);
    if (Math.min(w, h) < minSide) break;
    bytes = await encode(w, h);
    if (bytes.length <= limitBytes) return { bytes, width: w, height: h, changed: true, downscaled: true };
  }
  throw new FitUploadError(`The image could not be made smaller than the ${formatMegabytes(limitBytes)} upload limit.`);
}
