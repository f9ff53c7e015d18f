// "Only the masked area" (A1111's inpaint at full resolution, diffusers' padding_mask_crop): the rectangle around
// the mask, padded, then widened or heightened to the generation size's aspect ratio, as diffusers'
// VaeImageProcessor.get_crop_region computes it. The crop is then resized to the generation size, so a small region
// gets the model's full resolution, and the result is resized back and pasted in (./overlay.ts).
import type { MaskImage } from '../types.ts';

/** A pixel rectangle, x2/y2 exclusive. */
export interface CropBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * The crop box for `mask` (any pixel above 0 counts) padded by `pad` pixels and stretched to the aspect ratio
 * width : height, clamped to the image. An empty mask gives the whole image.
 */
export function cropRegion(mask: MaskImage, width: number, height: number, pad: number): CropBox {
  const w = mask.width;
  const h = mask.height;
  let left = w;
  let right = -1;
  let top = h;
  let bottom = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (mask.data[y * w + x] === 0) continue;
      if (x < left) left = x;
      if (x > right) right = x;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
    }
  }
  if (right < 0) return { x1: 0, y1: 0, x2: w, y2: h };
  let x1 = Math.max(left - pad, 0);
  let y1 = Math.max(top - pad, 0);
  let x2 = Math.min(right + 1 + pad, w);
  let y2 = Math.min(bottom + 1 + pad, h);

  const ratioCrop = (x2 - x1) / (y2 - y1);
  const ratioTarget = width / height;
  if (ratioCrop > ratioTarget) {
    // Too wide for the target: grow the height around the centre, then slide it back inside the image.
    [y1, y2] = growAxis(y1, y2, Math.trunc((x2 - x1) / ratioTarget - (y2 - y1)), h);
  } else {
    [x1, x2] = growAxis(x1, x2, Math.trunc((y2 - y1) * ratioTarget - (x2 - x1)), w);
  }
  return { x1, y1, x2, y2 };
}

/** Grows [lo, hi) by `grow` around its centre, then slides it back inside [0, limit] (diffusers' crop rule per axis). */
function growAxis(lo: number, hi: number, grow: number, limit: number): [number, number] {
  lo -= Math.floor(grow / 2);
  hi += grow - Math.floor(grow / 2);
  if (hi >= limit) {
    const over = hi - limit;
    hi -= over;
    lo -= over;
  }
  if (lo < 0) {
    hi -= lo;
    lo = 0;
  }
  if (hi >= limit) hi = limit;
  return [lo, hi];
}
