// The last step of inpainting: the original pixels composited back over the result through the (blurred) mask, as
// diffusers' VaeImageProcessor.apply_overlay does, so the kept region comes back exactly (the VAE's round trip would
// otherwise soften it) and the repainted region fades in over the blur band. With "only the masked area" the result
// is first resized to the crop box and pasted into the original.
import type { MaskImage, RgbImage } from '../types.ts';
import type { CropBox } from './crop.ts';
import { pasteRgb, resizeRgb } from './pixels.ts';

export interface Overlay {
  /** The init image at its own size. */
  original: RgbImage;
  /** The blurred mask at the original's size: 0 = the original's pixel, 255 = the result's. */
  mask: MaskImage;
  /** "Only the masked area": where the generated image goes in the original. */
  crop?: CropBox;
}

/** out = original * (1 - a) + generated * a with a = mask / 255, per pixel, rounded. */
export function composite(original: RgbImage, generated: RgbImage, mask: MaskImage): RgbImage {
  if (generated.width !== original.width || generated.height !== original.height || mask.width !== original.width || mask.height !== original.height) {
    throw new Error(`composite: sizes differ (${original.width}x${original.height}, ${generated.width}x${generated.height}, mask ${mask.width}x${mask.height})`);
  }
  const out = new Uint8Array(original.data.length);
  for (let i = 0; i < mask.data.length; i++) {
    const a = mask.data[i]!;
    for (let c = 0; c < 3; c++) {
      const j = i * 3 + c;
      out[j] = a === 0 ? original.data[j]! : a === 255 ? generated.data[j]! : Math.round((original.data[j]! * (255 - a) + generated.data[j]! * a) / 255);
    }
  }
  return { data: out, width: original.width, height: original.height };
}

export async function applyOverlay(generated: RgbImage, overlay: Overlay): Promise<RgbImage> {
  let full = generated;
  if (overlay.crop) {
    const { x1, y1, x2, y2 } = overlay.crop;
    full = pasteRgb(overlay.original, await resizeRgb(generated, x2 - x1, y2 - y1), x1, y1);
  }
  return composite(overlay.original, full, overlay.mask);
}
