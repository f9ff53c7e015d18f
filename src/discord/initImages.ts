// Init images for img2img, whatever their source (an /imagine attachment, a replied-to message, a context menu, a
// Vary button): downloaded only from ATTACHMENT_HOSTS with size and time limits, decoded and checked by sharp
// (decompression bombs refused), fitted to the pixel budget, and saved under the job's folder so the job can run
// again after a restart.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { downloadAttachment, DownloadError } from '../net/download.ts';
import { InitImageError, loadInitImage } from '../pipeline/initImage.ts';
import { writeFileAtomic } from '../storage/index.ts';
import type { RgbImage } from '../pipeline/types.ts';
import type { BotContext } from '../bot/types.ts';
import type { JobParams } from '../jobs/types.ts';
import { RequestError } from './requestError.ts';

/** Header-claimed pixels above this are refused before decoding (a 10 MB PNG can claim gigapixels). */
const MAX_INPUT_PIXELS = 50_000_000;

export interface PreparedInitImage {
  image: RgbImage;
  notes: string[];
}

/** The first image attachment of a message (by content type or file name), if any. */
export function firstImageAttachment(attachments: Iterable<{ url: string; contentType?: string | null; name?: string | null; size?: number }>): { url: string; size?: number } | undefined {
  for (const a of attachments) {
    if (a.contentType?.startsWith('image/') || /\.(png|jpe?g|webp|gif)$/i.test(a.name ?? '')) return a;
  }
  return undefined;
}

/** Plain http is allowed only to this machine (the test emulator's CDN); Discord's CDN is https. */
export function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
  } catch {
    return false;
  }
}

/** Downloads and decodes an attachment. Throws RequestError with a user-facing sentence. */
export async function fetchInitImage(ctx: Pick<BotContext, 'config'>, url: string, size: { width?: number; height?: number } = {}): Promise<PreparedInitImage> {
  let bytes: Uint8Array;
  try {
    const file = await downloadAttachment(url, {
      allowedHosts: ctx.config.attachmentHosts,
      maxBytes: ctx.config.maxAttachmentBytes,
      timeoutMs: 20_000,
      allowHttp: isLoopback(url),
    });
    bytes = file.bytes;
  } catch (err) {
    if (err instanceof DownloadError) throw new RequestError(`Could not use that image: ${err.message}`);
    throw err;
  }
  return decodeInitImage(ctx, bytes, size);
}

export async function decodeInitImage(ctx: Pick<BotContext, 'config'>, bytes: Uint8Array, size: { width?: number; height?: number } = {}): Promise<PreparedInitImage> {
  try {
    const loaded = await loadInitImage(bytes, {
      width: size.width,
      height: size.height,
      maxPixels: ctx.config.initImagePixels,
      multiple: 64,
      limitInputPixels: MAX_INPUT_PIXELS,
    });
    return { image: loaded.image, notes: loaded.notes };
  } catch (err) {
    if (err instanceof InitImageError) throw new RequestError(`Could not use that image: ${err.message}`);
    throw err;
  }
}

/** Saves the init image as a PNG in the job's folder and returns its path. */
export async function saveInitImage(jobDir: string, image: RgbImage): Promise<string> {
  await mkdir(jobDir, { recursive: true });
  const png = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } }).png().toBuffer();
  const path = join(jobDir, 'init.png');
  await writeFileAtomic(path, png);
  return path;
}

/** What addInitImage made of the image: a note for the user (resized, …), or why it cannot be used. */
export type AddedInitImage = { ok: true; note: string | undefined } | { ok: false; message: string };

/**
 * Turns an img2img job's params into a runnable job: fetches the image at `url` (fitted to `size` when given, else
 * to the pixel budget), takes its size as the job's, and saves it in the job's folder. Every img2img entry point
 * (/imagine with an attachment, Reimagine, a reply to an image) goes through here.
 */
export async function addInitImage(
  ctx: Pick<BotContext, 'config' | 'jobs'>,
  jobId: string,
  params: JobParams,
  url: string,
  size: { width?: number; height?: number } = {},
): Promise<AddedInitImage> {
  try {
    const init = await fetchInitImage(ctx, url, size);
    params.width = init.image.width;
    params.height = init.image.height;
    params.initImagePath = await saveInitImage(ctx.jobs.jobDir(jobId), init.image);
    return { ok: true, note: init.notes.length ? init.notes.join(' ') : undefined };
  } catch (err) {
    if (err instanceof RequestError) return { ok: false, message: err.message };
    throw err;
  }
}
