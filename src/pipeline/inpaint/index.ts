// Masked generation (inpainting), kept out of the main loop: what to feed the loop before it starts (planInpaint),
// the extra UNet input of 9-channel inpainting UNets, and the per-step blend for ordinary 4-channel UNets, all as
// diffusers' StableDiffusionInpaintPipeline computes them.
import type { Scheduler } from '../schedulers/types.ts';
import type { GenerateRequest, MaskImage, RgbImage } from '../types.ts';
import { cropRegion } from './crop.ts';
import { binarizeMask, blurMask, latentMask } from './mask.ts';
import { applyOverlay, type Overlay } from './overlay.ts';
import { cropMask, cropRgb, resizeMask, resizeRgb } from './pixels.ts';

export { applyOverlay, type Overlay };
export { maskedImageChw } from './mask.ts';

/** A1111's default "only masked padding, pixels". */
export const DEFAULT_MASK_PADDING = 32;
/**
 * Default strength of an outpainting request (maskPrefilled) on a 4-channel UNet: a little of the pre-filled canvas
 * survives the first noise, so the new area continues the picture's colours. Everything else with a mask takes
 * diffusers' inpainting default (1.0; 0.9999 on SDXL).
 */
export const PREFILLED_STRENGTH = 0.9;

export interface InpaintPlan {
  /** The image the model works on, width x height (the crop, resized, in "only masked" mode). */
  image: RgbImage;
  /** The binarized mask at width x height: 1 = repaint. */
  binary: Uint8Array;
  /** How the result goes back over the original. */
  overlay: Overlay;
}

/** diffusers' StableDiffusionXLInpaintPipeline default: just under 1, so one step is skipped and the image noised in. */
export const SDXL_MASK_STRENGTH = 0.9999;

export function maskStrength(request: GenerateRequest, inpaintingUnet: boolean, family: 'sd' | 'sdxl'): number {
  if (request.maskPrefilled && !inpaintingUnet) return PREFILLED_STRENGTH;
  return family === 'sdxl' ? SDXL_MASK_STRENGTH : 1;
}

/** Blur, crop (only masked) and binarize the request's mask; the request was validated. */
export async function planInpaint(request: GenerateRequest): Promise<InpaintPlan> {
  const original = request.initImage!;
  const blurred = blurMask(request.mask!, request.maskBlur ?? 0);
  if (!request.onlyMasked) return { image: original, binary: binarizeMask(blurred), overlay: { original, mask: blurred } };
  const crop = cropRegion(blurred, request.width, request.height, request.maskPadding ?? DEFAULT_MASK_PADDING);
  const image = await resizeRgb(cropRgb(original, crop), request.width, request.height);
  const mask: MaskImage = await resizeMask(cropMask(blurred, crop), request.width, request.height);
  return { image, binary: binarizeMask(mask), overlay: { original, mask: blurred, crop } };
}

/**
 * The 5 extra channels of a 9-channel inpainting UNet for `count` images: [mask (1), masked-image latents (4)] per
 * image, each `plane` = lh * lw values. Without a mask (txt2img or plain img2img on an inpainting model) the whole
 * picture is "to repaint" and the masked image is empty, as A1111 conditions such models.
 */
export function inpaintConditioning(count: number, plane: number, latentMaskPlane: Float32Array | undefined, maskedLatents: Float32Array[] | undefined): Float32Array {
  const per = 5 * plane;
  const out = new Float32Array(count * per);
  for (let i = 0; i < count; i++) {
    if (latentMaskPlane) out.set(latentMaskPlane, i * per);
    else out.fill(1, i * per, i * per + plane);
    if (maskedLatents) {
      const masked = maskedLatents[i];
      if (!masked) throw new Error(`inpaint conditioning: ${maskedLatents.length} masked-image latents for ${count} images`);
      out.set(masked, i * per + plane);
    }
  }
  return out;
}

/**
 * [rows, C, h, w] latents with each row's conditioning appended on the channel axis ([latents, mask, masked latents],
 * diffusers' torch.cat(dim=1) order). Row r takes image r % count's conditioning (guidance doubles the rows).
 */
export function appendChannels(sample: Float32Array, conditioning: Float32Array, rows: number, count: number): Float32Array {
  const perRow = sample.length / rows;
  const perCond = conditioning.length / count;
  const out = new Float32Array(sample.length + rows * perCond);
  for (let r = 0; r < rows; r++) {
    const at = r * (perRow + perCond);
    out.set(sample.subarray(r * perRow, (r + 1) * perRow), at);
    const img = r % count;
    out.set(conditioning.subarray(img * perCond, (img + 1) * perCond), at + perRow);
  }
  return out;
}

/**
 * The blend after every step on a 4-channel UNet: the kept region is the init image's latents noised to the next
 * timestep (or clean after the last step), the masked region is what the model made.
 */
export class LatentBlend {
  constructor(
    private readonly mask: Float32Array,
    /** Per image: the init image's scaled latents and the noise its initial latents were drawn with. */
    private readonly imageLatents: Float32Array[],
    private readonly noise: Float32Array[],
    private readonly channels: number,
  ) {}

  apply(latents: Float32Array, scheduler: Scheduler, nextTimestep: number | undefined): Float32Array {
    const plane = this.mask.length;
    const perImage = this.channels * plane;
    const out = new Float32Array(latents.length);
    for (const [i, imageLatents] of this.imageLatents.entries()) {
      const noise = this.noise[i];
      if (!noise) throw new Error(`inpaint blend: no noise for image ${i}`);
      const proper = nextTimestep === undefined ? imageLatents : scheduler.addNoise(imageLatents, noise, nextTimestep);
      for (let c = 0; c < this.channels; c++) {
        for (let p = 0; p < plane; p++) {
          const j = i * perImage + c * plane + p;
          const m = this.mask[p]!;
          out[j] = (1 - m) * proper[c * plane + p]! + m * latents[j]!;
        }
      }
    }
    return out;
  }
}

export function latentMaskFor(plan: InpaintPlan, width: number, height: number): Float32Array {
  return latentMask(plan.binary, width, height, width / 8, height / 8);
}
