// Uploaded masks for inpainting (/imagine image: mask:, and a reply-with-image that carries a mask): downloaded under
// the same host, size and time limits as init images, read by the pipeline's mask loader (white repaints, black
// keeps; a transparent PNG's opaque part repaints), resized to the init image, and saved beside it in the job's folder.
import { join } from 'node:path';
import sharp from 'sharp';
import { downloadAttachment, DownloadError } from '../net/download.ts';
import { InitImageError } from '../pipeline/initImage.ts';
import { loadMask } from '../pipeline/inpaint/loadMask.ts';
import { writeFileAtomic } from '../storage/index.ts';
import type { BotContext } from '../bot/types.ts';
import { isLoopback } from './initImages.ts';
import type { JobParams } from '../jobs/types.ts';

/** A1111's default mask blur: a hand-drawn mask's edge fades over a few pixels. */
export const UPLOADED_MASK_BLUR = 4;
const MAX_INPUT_PIXELS = 50_000_000;

/**
 * Adds the mask at `url` to an img2img job whose init image is already saved (params.width/height are its size).
 * Strength is left to the pipeline's inpainting default unless the user named one.
 */
export async function addMask(ctx: Pick<BotContext, 'config' | 'jobs'>, jobId: string, params: JobParams, url: string, userStrength: boolean): Promise<{ ok: true; note?: string } | { ok: false; message: string }> {
  let bytes: Uint8Array;
  try {
    bytes = (await downloadAttachment(url, { allowedHosts: ctx.config.attachmentHosts, maxBytes: ctx.config.maxAttachmentBytes, timeoutMs: 20_000, allowHttp: isLoopback(url) })).bytes;
  } catch (err) {
    if (err instanceof DownloadError) return { ok: false, message: `Could not use that mask: ${err.message}` };
    throw err;
  }
  try {
    const { mask, notes } = await loadMask(bytes, { width: params.width, height: params.height, limitInputPixels: MAX_INPUT_PIXELS });
    if (mask.data.every((v) => v === 0)) return { ok: false, message: 'The mask is all black, so there is nothing to repaint: paint white (or opaque) where the image should change.' };
    const path = join(ctx.jobs.jobDir(jobId), 'mask.png');
    await writeFileAtomic(path, await sharp(mask.data, { raw: { width: mask.width, height: mask.height, channels: 1 } }).png().toBuffer());
    params.maskPath = path;
    params.maskBlur = UPLOADED_MASK_BLUR;
    if (!userStrength) delete params.strength;
    return { ok: true, note: notes.length ? notes.join('; ') : undefined };
  } catch (err) {
    if (err instanceof InitImageError) return { ok: false, message: `Could not use that mask: ${err.message}` };
    throw err;
  }
}
