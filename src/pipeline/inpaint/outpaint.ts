// Outpainting as an inpainting request: Zoom Out (the picture shrinks into the centre of a canvas of the same size)
// and Pan (the canvas grows by half on one side). The new area is white in the mask, with a soft ramp a little way
// into the original so the seam blends, and it is pre-filled by stretching the picture's edges outwards and blurring
// them, so that the model continues the picture's colours instead of starting from a flat fill. Sizes stay multiples
// of 8 (whole latents) and within a pixel budget (the picture shrinks to fit when a pan would exceed it).
import sharp from 'sharp';
import type { MaskImage, RgbImage } from '../types.ts';

export type PanDirection = 'left' | 'right' | 'up' | 'down';
export const PAN_DIRECTIONS: readonly PanDirection[] = ['left', 'right', 'up', 'down'];
export const ZOOM_RANGE = { min: 1.1, max: 2 } as const;

export type OutpaintSpec = { zoomOut: number } | { pan: PanDirection };

export interface OutpaintCanvas {
  /** The pre-filled canvas, the new generation size. */
  image: RgbImage;
  /** 255 over the new area, a ramp into the original over `overlap` pixels, 0 elsewhere. */
  mask: MaskImage;
  /** Where the (possibly resized) original sits in the canvas. */
  placed: { x: number; y: number; width: number; height: number };
  overlap: number;
}

const floor8 = (v: number) => Math.max(8, Math.floor(v / 8) * 8);

/** Canvas size and where the original goes, for a W x H picture. */
export function outpaintLayout(width: number, height: number, spec: OutpaintSpec, maxPixels: number): { canvas: { width: number; height: number }; placed: OutpaintCanvas['placed'] } {
  if ('zoomOut' in spec) {
    const f = spec.zoomOut;
    if (!(f >= ZOOM_RANGE.min && f <= ZOOM_RANGE.max)) throw new RangeError(`zoom out must be from ${ZOOM_RANGE.min} to ${ZOOM_RANGE.max}; got ${f}`);
    // The canvas keeps the picture's size (already whole latents), shrunk to the budget if need be.
    const s = Math.min(1, Math.sqrt(maxPixels / (width * height)));
    const cw = s < 1 ? floor8(width * s) : width;
    const ch = s < 1 ? floor8(height * s) : height;
    const iw = Math.max(2, 2 * Math.round(cw / f / 2));
    const ih = Math.max(2, 2 * Math.round(ch / f / 2));
    return { canvas: { width: cw, height: ch }, placed: { x: (cw - iw) / 2, y: (ch - ih) / 2, width: iw, height: ih } };
  }
  const dir = spec.pan;
  if (!PAN_DIRECTIONS.includes(dir)) throw new RangeError(`pan must be one of ${PAN_DIRECTIONS.join(', ')}; got ${dir}`);
  const s = Math.min(1, Math.sqrt(maxPixels / (1.5 * width * height)));
  if (dir === 'left' || dir === 'right') {
    const ch = s < 1 ? floor8(height * s) : height;
    const iw = s < 1 ? Math.round((width * ch) / height) : width;
    const cw = floor8(iw * 1.5);
    return { canvas: { width: cw, height: ch }, placed: { x: dir === 'left' ? cw - iw : 0, y: 0, width: iw, height: ch } };
  }
  const cw = s < 1 ? floor8(width * s) : width;
  const ih = s < 1 ? Math.round((height * cw) / width) : height;
  const ch = floor8(ih * 1.5);
  return { canvas: { width: cw, height: ch }, placed: { x: 0, y: dir === 'up' ? ch - ih : 0, width: cw, height: ih } };
}

/**
 * The mask: new area 255; inside the original, a linear ramp from 255 at an edge that borders new area down to 0
 * `overlap` pixels in.
 */
export function outpaintMask(canvas: { width: number; height: number }, placed: OutpaintCanvas['placed'], overlap: number): MaskImage {
  const { width, height } = canvas;
  const data = new Uint8Array(width * height);
  const borders = { left: placed.x > 0, right: placed.x + placed.width < width, top: placed.y > 0, bottom: placed.y + placed.height < height };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const ix = x - placed.x;
      const iy = y - placed.y;
      if (ix < 0 || iy < 0 || ix >= placed.width || iy >= placed.height) {
        data[y * width + x] = 255;
        continue;
      }
      // Distance (pixel centres) to the nearest edge that borders new area.
      let d = Infinity;
      if (borders.left) d = Math.min(d, ix + 0.5);
      if (borders.right) d = Math.min(d, placed.width - ix - 0.5);
      if (borders.top) d = Math.min(d, iy + 0.5);
      if (borders.bottom) d = Math.min(d, placed.height - iy - 0.5);
      data[y * width + x] = d >= overlap ? 0 : Math.round(255 * (1 - d / overlap));
    }
  }
  return { data, width, height };
}

/** The overlap band for a placed picture: about a sixteenth of its short side, at least 8 pixels. */
export function overlapFor(placed: { width: number; height: number }): number {
  return Math.max(8, Math.round(Math.min(placed.width, placed.height) / 16));
}

export async function outpaintCanvas(image: RgbImage, spec: OutpaintSpec, maxPixels: number): Promise<OutpaintCanvas> {
  const { canvas, placed } = outpaintLayout(image.width, image.height, spec, maxPixels);
  const raw = { raw: { width: image.width, height: image.height, channels: 3 as const } };
  const inner = await sharp(image.data, raw).resize(placed.width, placed.height, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  const innerRaw = { raw: { width: placed.width, height: placed.height, channels: 3 as const } };
  // Edge-stretch: every new pixel repeats the nearest edge pixel of the picture; then a wide blur softens the streaks.
  const stretched = await sharp(inner, innerRaw)
    .extend({ left: placed.x, top: placed.y, right: canvas.width - placed.x - placed.width, bottom: canvas.height - placed.y - placed.height, extendWith: 'copy' })
    .raw()
    .toBuffer();
  const sigma = Math.max(4, Math.min(canvas.width, canvas.height) / 16);
  const blurred = await sharp(stretched, { raw: { width: canvas.width, height: canvas.height, channels: 3 } }).blur(sigma).raw().toBuffer();
  const data = new Uint8Array(blurred.buffer, blurred.byteOffset, blurred.byteLength).slice();
  for (let y = 0; y < placed.height; y++) {
    const from = y * placed.width * 3;
    data.set(inner.subarray(from, from + placed.width * 3), ((placed.y + y) * canvas.width + placed.x) * 3);
  }
  const overlap = overlapFor(placed);
  return { image: { data, width: canvas.width, height: canvas.height }, mask: outpaintMask(canvas, placed, overlap), placed, overlap };
}
