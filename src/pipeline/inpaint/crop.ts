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
    const grow = Math.trunc((x2 - x1) / ratioTarget - (y2 - y1));
    y1 -= Math.floor(grow / 2);
    y2 += grow - Math.floor(grow / 2);
    if (y2 >= h) {
      const over = y2 - h;
      y2 -= over;
      y1 -= over;
    }
    if (y1 < 0) {
      y2 -= y1;
      y1 = 0;
    }
    if (y2 >= h) y2 = h;
  } else {
    const grow = Math.trunc((y2 - y1) * ratioTarget - (x2 - x1));
    x1 -= Math.floor(grow / 2);
    x2 += grow - Math.floor(grow / 2);
    if (x2 >= w) {
      const over = x2 - w;
      x2 -= over;
      x1 -= over;
    }
    if (x1 < 0) {
      x2 -= x1;
      x1 = 0;
    }
    if (x2 >= w) x2 = w;
  }
  return { x1, y1, x2, y2 };
}
